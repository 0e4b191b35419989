"""Transaction layer: matching (RFC 3261 §17.1.3, §17.2.3, RFC 2543 style) and lossy back-to-back runs.

The helpers at the top build messages from literal SIP text through the real parser; the client and
server test modules import them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portier.sip import SipRequest, SipResponse, parse
from portier.sip.transaction import (
    InviteServerState,
    Output,
    RequestReceived,
    ResponseReceived,
    Terminated,
    TimedOut,
    TransactionLayer,
    Transmit,
    TxKey,
)


def _text(text: str) -> bytes:
    lines = [line.strip() for line in text.strip().splitlines()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def request(
    method: str = "INVITE",
    *,
    branch: str = "z9hG4bKclient1",
    transport: str = "UDP",
    sent_by: str = "127.0.0.1:5070",
    cseq: int = 1,
    cseq_method: str | None = None,
    to_tag: str | None = None,
    call_id: str = "call-1@127.0.0.1",
    uri: str = "sip:door@127.0.0.1:5060",
) -> SipRequest:
    to = "<sip:door@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    branch_param = f";branch={branch}" if branch else ""
    msg = parse(
        _text(f"""
        {method} {uri} SIP/2.0
        Via: SIP/2.0/{transport} {sent_by}{branch_param}
        Max-Forwards: 70
        Route: <sip:127.0.0.1:5080;lr>
        From: <sip:alice@127.0.0.1>;tag=a1
        To: {to}
        Call-ID: {call_id}
        CSeq: {cseq} {cseq_method or method}
        Contact: <sip:alice@127.0.0.1:5070>
        Content-Length: 0
        """)
    )
    assert isinstance(msg, SipRequest)
    return msg


def response(req: SipRequest, status: int, reason: str, to_tag: str | None = "b2") -> SipResponse:
    """A UAS response to ``req`` (copying Via/From/Call-ID/CSeq, adding a To tag)."""
    to = req.get("To") or ""
    if to_tag and ";tag=" not in to:
        to += f";tag={to_tag}"
    vias = "\n".join(f"Via: {v}" for v in req.get_all("Via"))
    msg = parse(
        _text(f"""
        SIP/2.0 {status} {reason}
        {vias}
        From: {req.get("From")}
        To: {to}
        Call-ID: {req.call_id()}
        CSeq: {req.get("CSeq")}
        Content-Length: 0
        """)
    )
    assert isinstance(msg, SipResponse)
    return msg


def sent(outputs: list[Output]) -> list[bytes]:
    return [o.data for o in outputs if isinstance(o, Transmit)]


def events(outputs: list[Output]) -> list[type]:
    return [type(o) for o in outputs if not isinstance(o, Transmit)]


# --- matching ------------------------------------------------------------------------------------


def test_response_matches_branch_and_cseq_method() -> None:
    layer = TransactionLayer()
    inv = request()
    key, _ = layer.send_request(inv, 0.0)
    assert key == TxKey("z9hG4bKclient1", "INVITE")
    other_branch = response(request(branch="z9hG4bKother"), 180, "Ringing")
    assert layer.receive(other_branch, 0.1) == []
    cancel_reply = response(request("CANCEL"), 200, "OK")
    assert layer.receive(cancel_reply, 0.1) == [], "same branch, CSeq CANCEL: not the INVITE's"
    out = layer.receive(response(inv, 180, "Ringing"), 0.1)
    assert [type(o) for o in out] == [ResponseReceived]


def test_stray_response_is_dropped() -> None:
    assert TransactionLayer().receive(response(request(), 200, "OK"), 0.0) == []


def test_retransmitted_request_is_absorbed_and_answered_with_last_response() -> None:
    layer = TransactionLayer()
    out = layer.receive(request("OPTIONS"), 0.0)
    assert [type(o) for o in out] == [RequestReceived]
    assert isinstance(out[0], RequestReceived) and out[0].key is not None
    key = out[0].key
    assert layer.receive(request("OPTIONS"), 0.1) == [], "Trying absorbs retransmissions"
    ok = response(request("OPTIONS"), 200, "OK")
    assert sent(layer.respond(key, ok, 0.2)) == [bytes(ok)]
    assert sent(layer.receive(request("OPTIONS"), 0.3)) == [bytes(ok)]


def test_same_branch_other_sent_by_is_a_new_transaction() -> None:
    layer = TransactionLayer()
    layer.receive(request("OPTIONS"), 0.0)
    out = layer.receive(request("OPTIONS", sent_by="127.0.0.1:5099"), 0.0)
    assert [type(o) for o in out] == [RequestReceived]
    assert len(layer.servers) == 2


def test_ack_matches_invite_and_cancel_is_its_own_transaction() -> None:
    layer = TransactionLayer()
    first = layer.receive(request(), 0.0)[0]
    assert isinstance(first, RequestReceived) and first.key is not None
    invite_key = first.key
    cancel_out = layer.receive(request("CANCEL"), 0.05)
    assert isinstance(cancel_out[0], RequestReceived) and cancel_out[0].key is not None
    assert cancel_out[0].key == TxKey("z9hG4bKclient1", "CANCEL", "127.0.0.1:5070")
    target = layer.cancel_target(request("CANCEL"))
    assert target is not None and target.key == invite_key
    layer.respond(invite_key, response(request(), 487, "Request Terminated"), 0.06)
    assert layer.receive(request("ACK", to_tag="b2"), 0.07) == []
    assert layer.servers[invite_key].state is InviteServerState.CONFIRMED


def test_ack_without_transaction_goes_to_the_tu() -> None:
    ack = request("ACK", branch="z9hG4bKnew", to_tag="b2")
    assert TransactionLayer().receive(ack, 0.0) == [RequestReceived(None, ack)]


@pytest.mark.parametrize("branch", ["", "rfc2543branch"])
def test_rfc2543_matching(branch: str) -> None:
    layer = TransactionLayer()
    first = layer.receive(request(branch=branch), 0.0)[0]
    assert isinstance(first, RequestReceived) and first.key is not None
    key = first.key
    assert key.branch.startswith("rfc2543-")
    assert sent(layer.receive(request(branch=branch), 0.5)), "retransmission matched: 100 Trying re-sent"
    assert events(layer.receive(request(branch=branch, call_id="other@127.0.0.1"), 0.5)) == [RequestReceived]
    busy = response(request(branch=branch), 486, "Busy Here")
    layer.respond(key, busy, 1.0)
    assert layer.receive(request("ACK", branch=branch, to_tag="wrong"), 1.1) == [
        RequestReceived(None, request("ACK", branch=branch, to_tag="wrong"))
    ], "ACK with another To tag is not this transaction's"
    assert layer.receive(request("ACK", branch=branch, to_tag="b2"), 1.2) == []
    assert layer.servers[key].state is InviteServerState.CONFIRMED


def test_rfc2543_cancel_target() -> None:
    layer = TransactionLayer()
    layer.receive(request(branch=""), 0.0)
    target = layer.cancel_target(request("CANCEL", branch=""))
    assert target is not None and target.request.method == "INVITE"


def test_layer_timers_and_reaping() -> None:
    layer = TransactionLayer()
    layer.send_request(request("OPTIONS"), 0.0)
    assert layer.next_deadline() == 0.5
    out: list[Output] = []
    while (deadline := layer.next_deadline()) is not None:
        out += layer.handle_timer(deadline)
    assert TimedOut(TxKey("z9hG4bKclient1", "OPTIONS"), "F") in out
    assert isinstance(out[-1], Terminated) and not layer.clients


def test_sending_ack_through_a_transaction_is_refused() -> None:
    with pytest.raises(ValueError, match="ACK"):
        TransactionLayer().send_request(request("ACK", to_tag="b2"), 0.0)


# --- back to back over a lossy wire --------------------------------------------------------------

Tu = Callable[[TransactionLayer, RequestReceived, float], list[Output]]


def _run(req: SipRequest, tu: Tu, drop_first: int) -> tuple[list[Output], list[Output]]:
    """Move bytes between a client and a server layer, dropping the first ``drop_first`` datagrams."""
    client, server = TransactionLayer(), TransactionLayer()
    client_events: list[Output] = []
    server_events: list[Output] = []
    wire: list[tuple[TransactionLayer, bytes]] = []
    dropped = 0
    now = 0.0

    def feed(origin: TransactionLayer, outputs: list[Output]) -> None:
        peer = server if origin is client else client
        for o in outputs:
            if isinstance(o, Transmit):
                wire.append((peer, o.data))
            else:
                (client_events if origin is client else server_events).append(o)
            if isinstance(o, RequestReceived) and o.key is not None and origin is server:
                feed(server, tu(server, o, now))

    feed(client, client.send_request(req, now)[1])
    for _ in range(1000):
        while wire:
            target, data = wire.pop(0)
            if dropped < drop_first:
                dropped += 1
                continue
            feed(target, target.receive(parse(data), now))
        deadlines = [d for d in (client.next_deadline(), server.next_deadline()) if d is not None]
        if not deadlines:
            break
        now = min(deadlines)
        feed(client, client.handle_timer(now))
        feed(server, server.handle_timer(now))
    assert not client.clients and not server.servers
    return client_events, server_events


def _busy(layer: TransactionLayer, ev: RequestReceived, now: float) -> list[Output]:
    assert ev.key is not None
    return layer.respond(ev.key, response(ev.request, 486, "Busy Here"), now)


def _ok(layer: TransactionLayer, ev: RequestReceived, now: float) -> list[Output]:
    assert ev.key is not None
    return layer.respond(ev.key, response(ev.request, 200, "OK"), now)


@pytest.mark.parametrize("drop_first", [0, 1, 2, 3, 5])
def test_invite_rejected_over_lossy_wire(drop_first: int) -> None:
    client_events, server_events = _run(request(), _busy, drop_first)
    statuses = [e.response.status for e in client_events if isinstance(e, ResponseReceived)]
    assert statuses == [486]
    assert not [e for e in client_events + server_events if isinstance(e, TimedOut)]


@pytest.mark.parametrize("drop_first", [0, 1, 4, 6])
def test_options_over_lossy_wire(drop_first: int) -> None:
    client_events, _ = _run(request("OPTIONS"), _ok, drop_first)
    statuses = [e.response.status for e in client_events if isinstance(e, ResponseReceived)]
    assert statuses == [200]


def test_invite_accepted_over_lossy_wire() -> None:
    client_events, _ = _run(request(), _ok, 2)
    assert [e.response.status for e in client_events if isinstance(e, ResponseReceived)] == [200]
