"""The user agent edge between two real agents on loopback: what a UAS answers, Auto TCP, rport."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from portier.sip.agent import AgentConfig, IncomingRequest, RequestFailed, UserAgent
from portier.sip.ids import new_call_id, new_tag
from portier.sip.message import Header, SipRequest, SipResponse, parse
from portier.sip.timers import TimerConfig
from portier.sip.transport import Endpoint, TransportConfig
from portier.sip.uri import parse_uri

HOST = "127.0.0.1"


def free_port() -> int:
    """A port free for both UDP and TCP, as a device listens on both with one number."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            udp.bind((HOST, 0))
            port = int(udp.getsockname()[1])
            try:
                tcp.bind((HOST, port))
            except OSError:
                continue
            return port


def config() -> AgentConfig:
    port = free_port()
    transport = TransportConfig(host=HOST, udp_port=port, tcp_port=port, tls_port=None)
    return AgentConfig(transport=transport, timers=TimerConfig(t1=0.05))


@pytest.fixture
async def pair() -> AsyncIterator[tuple[UserAgent, UserAgent]]:
    a, b = UserAgent(config()), UserAgent(config())
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.stop()
        await b.stop()


def request(
    a: UserAgent, to: Endpoint, method: str, *extra: tuple[str, str], body: bytes = b""
) -> SipRequest:
    headers = [
        Header("Via", str(a.make_via(to))),
        Header("Max-Forwards", "70"),
        Header("From", f"<sip:a@{HOST}>;tag={new_tag()}"),
        Header("To", f"<sip:b@{to.host}:{to.port}>"),
        Header("Call-ID", new_call_id()),
        Header("CSeq", f"1 {method}"),
        *(Header(n, v) for n, v in extra),
        Header("Content-Length", str(len(body))),
    ]
    return SipRequest(method=method, uri=parse_uri(f"sip:b@{to.host}:{to.port}"), headers=headers, body=body)


async def test_options_lists_what_the_agent_really_accepts(pair: tuple[UserAgent, UserAgent]) -> None:
    a, b = pair
    to = b.transport.local("UDP")
    answer = await a.request(request(a, to, "OPTIONS"), to)
    assert isinstance(answer, SipResponse) and answer.status == 200
    assert set(answer.values("Allow")) == {"ACK", "CANCEL", "OPTIONS"}
    assert answer.to().tag
    b.on("MESSAGE", lambda incoming: None)
    answer = await a.request(request(a, to, "OPTIONS"), to)
    assert isinstance(answer, SipResponse) and "MESSAGE" in answer.values("Allow")


async def test_uas_rejections(pair: tuple[UserAgent, UserAgent]) -> None:
    a, b = pair
    to = b.transport.local("UDP")
    not_allowed = await a.request(request(a, to, "INVITE"), to)
    assert isinstance(not_allowed, SipResponse) and not_allowed.status == 405 and not_allowed.values("Allow")
    unknown = await a.request(request(a, to, "FROBNICATE"), to)
    assert isinstance(unknown, SipResponse) and unknown.status == 501
    extension = await a.request(request(a, to, "OPTIONS", ("Require", "foo, bar")), to)
    assert isinstance(extension, SipResponse) and extension.status == 420
    assert extension.values("Unsupported") == ["foo", "bar"]
    cancel = await a.request(request(a, to, "CANCEL"), to)
    assert isinstance(cancel, SipResponse) and cancel.status == 481


async def test_rport_and_received_come_back_in_the_response(pair: tuple[UserAgent, UserAgent]) -> None:
    a, b = pair
    to = b.transport.local("UDP")
    answer = await a.request(request(a, to, "OPTIONS"), to)
    assert isinstance(answer, SipResponse)
    via = answer.vias()[0]
    assert via.received == HOST and via.rport == a.transport.local("UDP").port


async def test_handler_answers_and_a_failing_handler_gets_500(pair: tuple[UserAgent, UserAgent]) -> None:
    a, b = pair
    seen: list[IncomingRequest] = []

    def on_message(incoming: IncomingRequest) -> SipResponse:
        seen.append(incoming)
        if incoming.request.body == b"boom":
            raise RuntimeError("handler bug")
        reply = SipResponse(status=202, reason="Accepted", headers=[])
        reply.headers = [
            h for h in incoming.request.headers if h.name in ("Via", "From", "To", "Call-ID", "CSeq")
        ]
        return reply

    b.on("MESSAGE", on_message)
    to = b.transport.local("UDP")
    ok = await a.request(request(a, to, "MESSAGE", ("Content-Type", "text/plain"), body=b"hi"), to)
    assert isinstance(ok, SipResponse) and ok.status == 202
    assert seen[0].source.port == a.transport.local("UDP").port
    bad = await a.request(request(a, to, "MESSAGE", ("Content-Type", "text/plain"), body=b"boom"), to)
    assert isinstance(bad, SipResponse) and bad.status == 500


async def test_auto_tcp_moves_a_large_request_to_tcp(pair: tuple[UserAgent, UserAgent]) -> None:
    a, b = pair
    transports: list[str] = []
    b.on("MESSAGE", lambda incoming: transports.append(incoming.source.transport))
    to = b.transport.local("UDP")
    big = request(a, to, "MESSAGE", ("Content-Type", "text/plain"), body=b"x" * 1400)
    await a.request(big, to, auto_tcp=True)
    small = request(a, to, "MESSAGE", ("Content-Type", "text/plain"), body=b"x" * 100)
    await a.request(small, to, auto_tcp=True)
    big_udp = request(a, to, "MESSAGE", ("Content-Type", "text/plain"), body=b"x" * 1400)
    await a.request(big_udp, to, auto_tcp=False)
    assert transports == ["TCP", "UDP", "UDP"]


async def test_timeout_is_reported_not_raised(pair: tuple[UserAgent, UserAgent]) -> None:
    a, _ = pair
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind((HOST, 0))
        to = Endpoint("UDP", HOST, silent.getsockname()[1])
        result = await asyncio.wait_for(a.request(request(a, to, "OPTIONS"), to), 10)
    assert isinstance(result, RequestFailed) and result.timeout


async def test_malformed_datagram_gets_400_and_the_agent_keeps_serving(
    pair: tuple[UserAgent, UserAgent],
) -> None:
    _, b = pair
    to = b.transport.local("UDP")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind((HOST, 0))
        raw.settimeout(5)
        port = raw.getsockname()[1]
        junk = (
            f"OPTIONS sip:b@{HOST} SIP/2.0\r\nVia: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bKjunk\r\n"
            f"From: <sip:x@{HOST}>;tag=1\r\nTo: <sip:b@{HOST}>\r\nCall-ID: j1\r\n"
            "CSeq: not-a-number OPTIONS\r\n"
            "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        ).encode()
        raw.sendto(junk, (HOST, to.port))
        answer = parse((await asyncio.to_thread(raw.recvfrom, 4096))[0])
        assert isinstance(answer, SipResponse) and answer.status == 400
        raw.sendto(junk.replace(b"not-a-number", b"1").replace(b"junk", b"good"), (HOST, to.port))
        answer = parse((await asyncio.to_thread(raw.recvfrom, 4096))[0])
        assert isinstance(answer, SipResponse) and answer.status == 200
