"""Client transactions against RFC 3261 Figures 5/6 (+ RFC 6026 Accepted) with a simulated clock."""

from __future__ import annotations

import pytest

from portier.sip import SipRequest, parse
from portier.sip.client_transaction import (
    ClientTransaction,
    InviteClientState,
    NonInviteClientState,
    build_ack,
)
from portier.sip.timers import (
    Output,
    ResponseReceived,
    Terminated,
    TimedOut,
    TimerConfig,
    Transmit,
    TransportFailed,
    TxKey,
)

from .test_transaction import events, request, response, sent


def _run_timers(tx: ClientTransaction, until: float = 1e9) -> list[tuple[float, Output]]:
    """Fire timers at their deadlines (as an edge would) and record what came out when."""
    log: list[tuple[float, Output]] = []
    while (deadline := tx.next_deadline()) is not None and deadline <= until:
        log += [(deadline, o) for o in tx.handle_timer(deadline)]
    return log


def _send_times(log: list[tuple[float, Output]]) -> list[float]:
    return [t for t, o in log if isinstance(o, Transmit)]


def test_timer_a_doubles_until_timer_b() -> None:
    inv = request()
    tx = ClientTransaction.create(inv)
    first = tx.start(0.0)
    assert sent(first) == [bytes(inv)]
    log = _run_timers(tx)
    # Figure 5: retransmit at T1, 2*T1, 4*T1 ... intervals; Timer B = 64*T1 = 32 s.
    assert _send_times(log) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert all(o.data == bytes(inv) for _, o in log if isinstance(o, Transmit))
    assert [(t, o) for t, o in log if not isinstance(o, Transmit)] == [
        (32.0, TimedOut(tx.key, "B")),
        (32.0, Terminated(tx.key)),
    ]
    assert tx.state is InviteClientState.TERMINATED


def test_reliable_invite_has_no_timer_a() -> None:
    tx = ClientTransaction.create(request(transport="TCP"))
    tx.start(0.0)
    assert tx.deadlines == {"B": 32.0}


def test_t1_is_configurable() -> None:
    tx = ClientTransaction.create(request(), TimerConfig(t1=0.1))
    tx.start(0.0)
    assert tx.deadlines == {"A": 0.1, "B": pytest.approx(6.4)}


def test_provisional_stops_retransmissions() -> None:
    inv = request()
    tx = ClientTransaction.create(inv)
    tx.start(0.0)
    out = tx.receive(response(inv, 100, "Trying", to_tag=None), 0.3)
    assert [type(o) for o in out] == [ResponseReceived]
    assert tx.state is InviteClientState.PROCEEDING
    assert tx.next_deadline() is None


def test_non_2xx_final_generates_ack() -> None:
    inv = request()
    tx = ClientTransaction.create(inv)
    tx.start(0.0)
    busy = response(inv, 486, "Busy Here")
    out = tx.receive(busy, 0.2)
    expected = (
        b"ACK sip:door@127.0.0.1:5060 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKclient1\r\n"
        b"Max-Forwards: 70\r\n"
        b"Route: <sip:127.0.0.1:5080;lr>\r\n"
        b"From: <sip:alice@127.0.0.1>;tag=a1\r\n"
        b"To: <sip:door@127.0.0.1>;tag=b2\r\n"
        b"Call-ID: call-1@127.0.0.1\r\n"
        b"CSeq: 1 ACK\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert sent(out) == [expected]
    assert bytes(build_ack(inv, busy)) == expected
    assert isinstance(parse(expected), SipRequest)
    assert events(out) == [ResponseReceived]
    assert tx.state is InviteClientState.COMPLETED
    # A retransmitted 486 is answered with the same ACK and not passed up again.
    again = tx.receive(busy, 1.0)
    assert sent(again) == [expected] and events(again) == []
    assert tx.deadlines == {"D": pytest.approx(32.2)}
    assert [(round(t, 6), o) for t, o in _run_timers(tx)] == [(32.2, Terminated(tx.key))]


def test_timer_d_is_zero_on_tcp() -> None:
    inv = request(transport="TCP")
    tx = ClientTransaction.create(inv)
    tx.start(0.0)
    out = tx.receive(response(inv, 603, "Decline"), 1.0)
    assert events(out) == [ResponseReceived, Terminated]
    assert len(sent(out)) == 1 and tx.terminated


def test_accepted_absorbs_2xx_retransmissions_until_timer_m() -> None:
    inv = request()
    tx = ClientTransaction.create(inv)
    tx.start(0.0)
    ok = response(inv, 200, "OK")
    out = tx.receive(ok, 0.1)
    assert out == [ResponseReceived(tx.key, ok)], "no ACK for 2xx: that is the dialog's job"
    assert tx.state is InviteClientState.ACCEPTED
    assert tx.deadlines == {"M": pytest.approx(32.1)}
    forked = response(inv, 200, "OK", to_tag="fork2")
    assert tx.receive(ok, 2.0) == [ResponseReceived(tx.key, ok)]
    assert tx.receive(forked, 3.0) == [ResponseReceived(tx.key, forked)]
    assert tx.receive(response(inv, 486, "Busy Here"), 3.5) == []
    assert [(round(t, 6), o) for t, o in _run_timers(tx)] == [(32.1, Terminated(tx.key))]


def test_transport_error_terminates() -> None:
    tx = ClientTransaction.create(request())
    tx.start(0.0)
    out = tx.transport_error(0.01, "ICMP port unreachable")
    assert out == [TransportFailed(tx.key, "ICMP port unreachable"), Terminated(tx.key)]


def test_timer_e_doubles_up_to_t2_until_timer_f() -> None:
    options = request("OPTIONS")
    tx = ClientTransaction.create(options)
    assert tx.key == TxKey("z9hG4bKclient1", "OPTIONS")
    tx.start(0.0)
    log = _run_timers(tx)
    # Figure 6: E intervals 0.5, 1, 2, 4, 4, 4 ... (capped at T2); F = 64*T1.
    assert _send_times(log) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert [o for _, o in log if not isinstance(o, Transmit)] == [TimedOut(tx.key, "F"), Terminated(tx.key)]


def test_timer_e_is_t2_in_proceeding() -> None:
    options = request("OPTIONS")
    tx = ClientTransaction.create(options)
    tx.start(0.0)
    tx.receive(response(options, 180, "Ringing"), 0.2)
    assert tx.state is NonInviteClientState.PROCEEDING
    log = _run_timers(tx, until=13.0)
    assert _send_times(log) == [0.5, 4.5, 8.5, 12.5]


@pytest.mark.parametrize(("transport", "k"), [("UDP", 5.0), ("TCP", None)])
def test_timer_k(transport: str, k: float | None) -> None:
    options = request("OPTIONS", transport=transport)
    tx = ClientTransaction.create(options)
    tx.start(0.0)
    out = tx.receive(response(options, 200, "OK"), 1.0)
    if k is None:
        assert events(out) == [ResponseReceived, Terminated]
        return
    assert tx.state is NonInviteClientState.COMPLETED and tx.deadlines == {"K": 1.0 + k}
    assert tx.receive(response(options, 200, "OK"), 2.0) == [], "Completed absorbs retransmissions"
    assert _run_timers(tx) == [(6.0, Terminated(tx.key))]


def test_reliable_non_invite_has_only_timer_f() -> None:
    tx = ClientTransaction.create(request("REGISTER", transport="TLS"))
    tx.start(0.0)
    assert tx.deadlines == {"F": 32.0}
