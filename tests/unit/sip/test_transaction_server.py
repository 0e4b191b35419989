"""Server transactions against RFC 3261 Figures 7/8 (+ RFC 6026 Accepted) with a simulated clock."""

from __future__ import annotations

import pytest

from portier.sip import SipResponse, parse
from portier.sip.server_transaction import InviteServerState, NonInviteServerState, ServerTransaction
from portier.sip.timers import (
    Output,
    RequestReceived,
    Terminated,
    TimedOut,
    Transmit,
    TransportFailed,
    TxKey,
)

from .test_transaction import events, request, response, sent

KEY = TxKey("z9hG4bKclient1", "INVITE", "127.0.0.1:5070")


def _server(method: str = "INVITE", transport: str = "UDP") -> tuple[ServerTransaction, list[Output]]:
    tx = ServerTransaction.create(request(method, transport=transport), KEY)
    return tx, tx.start(0.0)


def _run_timers(tx: ServerTransaction) -> list[tuple[float, Output]]:
    log: list[tuple[float, Output]] = []
    while (deadline := tx.next_deadline()) is not None:
        log += [(deadline, o) for o in tx.handle_timer(deadline)]
    return log


def test_100_trying_after_200_ms() -> None:
    tx, out = _server()
    assert events(out) == [RequestReceived] and sent(out) == []
    assert tx.next_deadline() == pytest.approx(0.2)
    assert tx.handle_timer(0.19) == []
    trying = sent(tx.handle_timer(0.2))
    assert len(trying) == 1
    msg = parse(trying[0])
    assert isinstance(msg, SipResponse) and (msg.status, msg.reason) == (100, "Trying")
    req = request()
    assert [msg.get(h) for h in ("Via", "From", "To", "Call-ID", "CSeq")] == [
        req.get(h) for h in ("Via", "From", "To", "Call-ID", "CSeq")
    ]
    assert tx.next_deadline() is None


def test_no_100_trying_when_tu_answers_in_time() -> None:
    tx, _ = _server()
    ringing = response(request(), 180, "Ringing")
    assert sent(tx.respond(ringing, 0.1)) == [bytes(ringing)]
    assert tx.next_deadline() is None
    # A retransmitted INVITE gets the last provisional again (§17.2.1).
    assert sent(tx.receive(request(), 0.5)) == [bytes(ringing)]


def test_timer_g_retransmits_final_until_timer_h() -> None:
    tx, _ = _server()
    busy = response(request(), 486, "Busy Here")
    assert sent(tx.respond(busy, 0.1)) == [bytes(busy)]
    assert tx.state is InviteServerState.COMPLETED
    log = _run_timers(tx)
    times = [round(t, 6) for t, o in log if isinstance(o, Transmit)]
    # G: T1, 2*T1, 4*T1, then capped at T2; H = 64*T1 after the final response.
    assert times == [0.6, 1.6, 3.6, 7.6, 11.6, 15.6, 19.6, 23.6, 27.6, 31.6]
    assert all(o.data == bytes(busy) for _, o in log if isinstance(o, Transmit))
    assert [o for _, o in log if not isinstance(o, Transmit)] == [TimedOut(KEY, "H"), Terminated(KEY)]


def test_invite_retransmission_in_completed_resends_final() -> None:
    tx, _ = _server()
    busy = response(request(), 486, "Busy Here")
    tx.respond(busy, 0.1)
    assert sent(tx.receive(request(), 0.3)) == [bytes(busy)]


def test_ack_confirms_and_timer_i_ends_it() -> None:
    tx, _ = _server()
    tx.respond(response(request(), 486, "Busy Here"), 0.1)
    assert tx.receive(request("ACK", to_tag="b2"), 1.0) == []
    assert tx.state is InviteServerState.CONFIRMED
    assert tx.deadlines == {"I": 6.0}, "G and H stop, I = T4"
    assert tx.receive(request("ACK", to_tag="b2"), 2.0) == [], "Confirmed absorbs ACKs"
    assert tx.receive(request(), 2.0) == []
    assert _run_timers(tx) == [(6.0, Terminated(KEY))]


def test_reliable_invite_server_has_no_timer_g_and_zero_timer_i() -> None:
    tx, _ = _server(transport="TCP")
    tx.respond(response(request(transport="TCP"), 486, "Busy Here"), 0.1)
    assert set(tx.deadlines) == {"H"}
    assert tx.receive(request("ACK", transport="TCP", to_tag="b2"), 0.2) == [Terminated(KEY)]


def test_accepted_state_until_timer_l() -> None:
    tx, _ = _server()
    ok = response(request(), 200, "OK")
    assert sent(tx.respond(ok, 0.1)) == [bytes(ok)]
    assert tx.state is InviteServerState.ACCEPTED
    assert tx.deadlines == {"L": pytest.approx(32.1)}
    assert tx.receive(request(), 0.6) == [], "retransmitted INVITE absorbed"
    assert sent(tx.respond(ok, 0.6)) == [bytes(ok)], "the TU's 2xx retransmission goes out"
    ack = request("ACK", to_tag="b2")
    assert tx.receive(ack, 0.7) == [RequestReceived(KEY, ack)]
    assert [(round(t, 6), o) for t, o in _run_timers(tx)] == [(32.1, Terminated(KEY))]


def test_non_invite_server_states_and_timer_j() -> None:
    tx, out = _server("OPTIONS")
    assert events(out) == [RequestReceived]
    assert tx.receive(request("OPTIONS"), 0.1) == [], "Trying absorbs retransmissions"
    progress = response(request("OPTIONS"), 183, "Progress")
    tx.respond(progress, 0.2)
    assert tx.state is NonInviteServerState.PROCEEDING
    assert sent(tx.receive(request("OPTIONS"), 0.3)) == [bytes(progress)]
    ok = response(request("OPTIONS"), 200, "OK")
    tx.respond(ok, 0.4)
    assert tx.state.value == "Completed"
    assert sent(tx.receive(request("OPTIONS"), 0.5)) == [bytes(ok)]
    assert tx.respond(response(request("OPTIONS"), 500, "Oops"), 0.6) == [], "final already sent"
    assert tx.deadlines == {"J": pytest.approx(32.4)}
    assert [(round(t, 6), o) for t, o in _run_timers(tx)] == [(32.4, Terminated(KEY))]


def test_timer_j_is_zero_on_tcp() -> None:
    tx, _ = _server("OPTIONS", transport="TCP")
    out = tx.respond(response(request("OPTIONS", transport="TCP"), 200, "OK"), 0.1)
    assert events(out) == [Terminated]


def test_transport_error_in_proceeding_terminates() -> None:
    tx, _ = _server()
    assert events(tx.transport_error(0.1, "connection reset")) == [TransportFailed, Terminated]


def test_transport_error_in_accepted_keeps_timer_l() -> None:
    tx, _ = _server()
    tx.respond(response(request(), 200, "OK"), 0.1)
    assert events(tx.transport_error(0.2, "connection reset")) == [TransportFailed]
    assert tx.state is InviteServerState.ACCEPTED
