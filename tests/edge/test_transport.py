"""SipTransport over real loopback sockets: UDP, TCP framing, keep-alives, DSCP, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from portier.certificates import make_self_signed
from portier.sip.message import SipRequest, SipResponse
from portier.sip.tls import TlsSettings
from portier.sip.transport import (
    Endpoint,
    Inbound,
    Malformed,
    SipTransport,
    TransportConfig,
    TransportError,
)

LOOP = "127.0.0.1"
WAIT = 5.0


def options(call_id: str = "a84b4c76e66710", body: bytes = b"", via: str = "UDP 127.0.0.1:5060") -> bytes:
    return (
        f"OPTIONS sip:door@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/{via};branch=z9hG4bK{call_id}\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:alice@127.0.0.1>;tag=1928301774\r\n"
        "To: <sip:door@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def ok(call_id: str = "a84b4c76e66710") -> bytes:
    return (
        "SIP/2.0 200 OK\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK{call_id}\r\n"
        "From: <sip:alice@127.0.0.1>;tag=1928301774\r\n"
        "To: <sip:door@127.0.0.1>;tag=99\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


class Peer:
    """A SipTransport plus queues of what it delivered."""

    def __init__(self, **config: Any) -> None:
        config = {"host": LOOP, "udp_port": 0, "tcp_port": 0, **config}
        self.received: asyncio.Queue[Inbound | Malformed] = asyncio.Queue()
        self.stun: asyncio.Queue[tuple[bytes, Endpoint, Endpoint]] = asyncio.Queue()
        self.failed: asyncio.Queue[tuple[Endpoint, str]] = asyncio.Queue()
        self.transport = SipTransport(
            TransportConfig(**config),
            self.received.put_nowait,
            on_stun=lambda *a: self.stun.put_nowait(a),
            on_flow_failed=lambda *a: self.failed.put_nowait(a),
        )

    async def next(self) -> Inbound | Malformed:
        return await asyncio.wait_for(self.received.get(), WAIT)

    async def next_inbound(self) -> Inbound:
        item = await self.next()
        assert isinstance(item, Inbound), item
        return item


@pytest.fixture
async def make_peer() -> AsyncIterator[Callable[..., Any]]:
    peers: list[Peer] = []

    async def make(**config: Any) -> Peer:
        peer = Peer(**config)
        await peer.transport.start()
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await peer.transport.stop()


@contextlib.asynccontextmanager
async def raw_stream(to: Endpoint) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection(to.host, to.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((LOOP, 0))
    return sock


# UDP ------------------------------------------------------------------------------------------


async def test_udp_round_trip_is_symmetric(make_peer: Callable[..., Any]) -> None:
    a, b = await make_peer(), await make_peer()
    a_udp, b_udp = a.transport.local("UDP"), b.transport.local("UDP")
    sent_from = await a.transport.send(options(), b_udp)
    assert sent_from == a_udp
    request = await b.next_inbound()
    assert isinstance(request.message, SipRequest) and request.message.method == "OPTIONS"
    assert request.source == a_udp  # sent from the listening socket: rport and symmetric replies work
    assert request.local == b_udp
    assert request.size == len(options())
    await b.transport.send(ok(), request.source)
    response = await a.next_inbound()
    assert isinstance(response.message, SipResponse) and response.message.status == 200
    assert response.source == b_udp


async def test_udp_garbage_and_truncation_are_malformed_and_harmless(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    to = b.transport.local("UDP")
    with udp_socket() as raw:
        raw.sendto(b"\x00\xff\xfe binary garbage \x80\x81", (to.host, to.port))
        raw.sendto(options(body=b"v=0\r\n")[:-3], (to.host, to.port))  # body shorter than Content-Length
        raw.sendto(b"J" * 65000, (to.host, to.port))
        raw.sendto(options("after-junk"), (to.host, to.port))
        garbage, truncated, huge = await b.next(), await b.next(), await b.next()
        assert isinstance(garbage, Malformed) and garbage.data.startswith(b"\x00\xff")
        assert garbage.source == Endpoint("UDP", LOOP, raw.getsockname()[1])
        assert isinstance(truncated, Malformed) and "Content-Length" in truncated.error.message
        assert truncated.error.status == 400 and ("Call-ID", "a84b4c76e66710") in truncated.error.headers
        assert isinstance(huge, Malformed) and len(huge.data) == 65000
        after = await b.next_inbound()
        assert after.message.call_id() == "after-junk"


async def test_stun_goes_to_on_stun_and_crlf_keepalives_are_ignored(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    to = b.transport.local("UDP")
    binding = bytes.fromhex("0001 0000 2112a442") + bytes(range(12))
    with udp_socket() as raw:
        raw.sendto(b"\r\n\r\n", (to.host, to.port))
        raw.sendto(b"\r\n", (to.host, to.port))
        raw.sendto(binding, (to.host, to.port))
        raw.sendto(options("after-crlf"), (to.host, to.port))
        data, source, local = await asyncio.wait_for(b.stun.get(), WAIT)
        assert data == binding and source.port == raw.getsockname()[1] and local == to
        first = await b.next_inbound()  # the CRLF datagrams produced nothing
        assert first.message.call_id() == "after-crlf"
        b.transport.send_stun(b"stun answer", source)
        raw.settimeout(WAIT)
        assert raw.recvfrom(100) == (b"stun answer", (to.host, to.port))


async def test_a_failing_handler_does_not_stop_the_transport(make_peer: Callable[..., Any]) -> None:
    seen: list[str] = []

    def handler(item: Inbound | Malformed) -> None:
        assert isinstance(item, Inbound)
        seen.append(item.message.call_id())
        if len(seen) == 1:
            raise RuntimeError("handler bug")

    a = await make_peer()
    b = SipTransport(TransportConfig(host=LOOP, udp_port=0, tcp_port=None), handler)
    await b.start()
    try:
        for call_id in ("one", "two"):
            await a.transport.send(options(call_id), b.local("UDP"))
        for _ in range(100):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.02)
        assert seen == ["one", "two"]
    finally:
        await b.stop()


async def test_send_and_listen_errors_are_readable(make_peer: Callable[..., Any]) -> None:
    a = await make_peer(tcp_port=None)
    taken = a.transport.local("UDP")
    clash = SipTransport(TransportConfig(host=LOOP, udp_port=taken.port, tcp_port=None), lambda _: None)
    in_use = rf"cannot listen on UDP 127\.0\.0\.1:{taken.port}: Address already in use"
    with pytest.raises(TransportError, match=in_use):
        await clash.start()
    with pytest.raises(TransportError, match="no TCP listener"):
        a.transport.local("TCP")
    with pytest.raises(TransportError, match="not an IP address"):
        await a.transport.send(options(), Endpoint("UDP", "door.example.test", 5060))
    with pytest.raises(TransportError, match="at most 65507"):
        await a.transport.send(b"x" * 70000, taken)
    with socket.socket() as closed:  # a port that nothing listens on
        closed.bind((LOOP, 0))
        port = closed.getsockname()[1]
    with pytest.raises(TransportError, match=rf"cannot connect to TCP 127\.0\.0\.1:{port}: .*refused"):
        await a.transport.send(options(), Endpoint("TCP", LOOP, port))


# TCP ------------------------------------------------------------------------------------------


async def test_tcp_reply_reuses_the_inbound_connection(make_peer: Callable[..., Any]) -> None:
    a, b = await make_peer(), await make_peer()
    server = b.transport.local("TCP")
    local = await a.transport.send(options(via="TCP 127.0.0.1:5060"), server)
    assert local.transport == "TCP" and local.port != a.transport.local("TCP").port
    request = await b.next_inbound()
    assert request.source == Endpoint("TCP", LOOP, local.port) and request.local == server
    assert await b.transport.send(ok(), request.source) == server
    response = await a.next_inbound()
    assert isinstance(response.message, SipResponse) and response.local == local
    assert b.transport.connections() == [(server, request.source)]
    assert a.transport.connections() == [(local, server)]
    await a.transport.send(options("second"), server)  # requests reuse it too
    assert (await b.next_inbound()).source == request.source
    assert len(b.transport.connections()) == 1


async def test_concurrent_sends_open_one_connection(make_peer: Callable[..., Any]) -> None:
    a, b = await make_peer(), await make_peer()
    server = b.transport.local("TCP")
    locals_ = await asyncio.gather(*(a.transport.send(options(f"c{i}"), server) for i in range(5)))
    assert len(set(locals_)) == 1 and len(a.transport.connections()) == 1
    ids = {(await b.next_inbound()).message.call_id() for _ in range(5)}
    assert ids == {f"c{i}" for i in range(5)}


async def test_tcp_framing_of_split_and_coalesced_writes(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    body = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
    split = options("split", body=body)
    async with raw_stream(b.transport.local("TCP")) as (_, writer):
        for i in range(0, len(split), 7):
            writer.write(split[i : i + 7])
            await writer.drain()
            await asyncio.sleep(0)
        writer.write(options("first") + options("second"))
        await writer.drain()
        got = [await b.next_inbound() for _ in range(3)]
    assert [g.message.call_id() for g in got] == ["split", "first", "second"]
    assert got[0].message.body == body and got[0].size == len(split)


async def test_tcp_ping_gets_pong(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    async with raw_stream(b.transport.local("TCP")) as (reader, writer):
        writer.write(b"\r\n\r\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.readexactly(2), WAIT) == b"\r\n"


async def test_tcp_framing_error_is_answered_then_closed(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    bad = options("bad-length").replace(b"Content-Length: 0", b"Content-Length: lots")
    async with raw_stream(b.transport.local("TCP")) as (reader, writer):
        writer.write(bad)
        await writer.drain()
        item = await b.next()
        assert isinstance(item, Malformed) and item.error.status == 400
        assert b"Call-ID: bad-length" in item.data
        writer.write(options("ignored"))  # the stream is out of sync: nothing more is read
        await b.transport.send(b"SIP/2.0 400 Bad Content-Length\r\n\r\n", item.source)
        assert await asyncio.wait_for(reader.read(), WAIT) == b"SIP/2.0 400 Bad Content-Length\r\n\r\n"
    assert b.transport.connections() == [] and b.received.empty()


async def test_tcp_framing_error_closes_without_an_answer_too(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    async with raw_stream(b.transport.local("TCP")) as (reader, writer):
        writer.write(b"INVITE sip:x@y SIP/2.0\r\n" + b"X-Long: " + b"a" * 20000)
        await writer.drain()
        item = await b.next()
        assert isinstance(item, Malformed) and item.error.status == 513
        assert await asyncio.wait_for(reader.read(), WAIT) == b""


async def test_malformed_but_framed_message_keeps_the_connection(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    bad = options("bad-cseq").replace(b"CSeq: 1 OPTIONS", b"CSeq: one OPTIONS")
    async with raw_stream(b.transport.local("TCP")) as (_, writer):
        writer.write(bad + options("good"))
        await writer.drain()
        first, second = await b.next(), await b.next_inbound()
        assert isinstance(first, Malformed) and second.message.call_id() == "good"
        assert len(b.transport.connections()) == 1


async def test_keepalive_without_pong_fails_the_flow() -> None:
    pings = asyncio.get_running_loop().create_future()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = b""
        while b"\r\n\r\n" not in data.partition(b"Content-Length: 0\r\n\r\n")[2]:
            chunk = await reader.read(4096)
            if not chunk:
                break
            data += chunk
        if not pings.done():
            pings.set_result(data)
        await reader.read()  # never answers
        writer.close()

    server = await asyncio.start_server(silent, LOOP, 0)
    peer = Peer(udp_port=None, tcp_port=None, keepalive_interval=0.1, pong_timeout=0.3)
    await peer.transport.start()
    try:
        to = Endpoint("TCP", LOOP, server.sockets[0].getsockname()[1])
        await peer.transport.send(options(), to)
        assert (await asyncio.wait_for(pings, WAIT)).endswith(b"\r\n\r\n")
        remote, reason = await asyncio.wait_for(peer.failed.get(), WAIT)
        assert remote == to and "pong" in reason
        assert peer.transport.connections() == []
    finally:
        await peer.transport.stop()
        server.close()
        await server.wait_closed()


async def test_keepalive_answered_keeps_the_flow(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    a = await make_peer(keepalive_interval=0.05, pong_timeout=0.2)
    await a.transport.send(options(), b.transport.local("TCP"))
    await b.next_inbound()
    await asyncio.sleep(0.6)  # a dozen pings, each answered by b's pong
    assert a.failed.empty() and len(a.transport.connections()) == 1


async def test_kept_alive_flow_closed_by_the_peer_is_reported(make_peer: Callable[..., Any]) -> None:
    b = await make_peer()
    a = await make_peer(keepalive_interval=30.0)
    server = b.transport.local("TCP")
    await a.transport.send(options(), server)
    await b.next_inbound()
    await b.transport.stop()
    remote, reason = await asyncio.wait_for(a.failed.get(), WAIT)
    assert remote == server and reason == "closed by the peer"
    assert a.transport.connections() == []


async def test_idle_connections_are_closed(make_peer: Callable[..., Any]) -> None:
    b = await make_peer(idle_timeout=0.2)
    async with raw_stream(b.transport.local("TCP")) as (reader, _):
        assert await asyncio.wait_for(reader.read(), WAIT) == b""
    assert b.transport.connections() == []


async def test_inbound_connection_limit(make_peer: Callable[..., Any]) -> None:
    b = await make_peer(max_inbound_connections=2)
    server = b.transport.local("TCP")
    async with raw_stream(server), raw_stream(server), raw_stream(server) as (third, _):
        assert await asyncio.wait_for(third.read(), WAIT) == b""
        assert len(b.transport.connections()) == 2


# DSCP -----------------------------------------------------------------------------------------


async def test_dscp_marks_listeners_and_connections(make_peer: Callable[..., Any]) -> None:
    tos = 46 << 2
    a, b = await make_peer(dscp=46), await make_peer(dscp=46)
    assert a.transport.tos(a.transport.local("UDP")) == tos
    assert a.transport.tos(a.transport.local("TCP")) == tos
    server = b.transport.local("TCP")
    await a.transport.send(options(), server)
    inbound = await b.next_inbound()
    assert a.transport.tos(server) == tos  # outbound connection
    assert b.transport.tos(inbound.source) == tos  # accepted connection
    with udp_socket() as raw:  # and the mark is really on the wire
        raw.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        raw.settimeout(WAIT)
        await a.transport.send(options(), Endpoint("UDP", LOOP, raw.getsockname()[1]))
        _, ancillary, _, _ = raw.recvmsg(4096, socket.CMSG_SPACE(1))
        assert [(lvl, kind, data[0]) for lvl, kind, data in ancillary] == [
            (socket.IPPROTO_IP, socket.IP_TOS, tos)
        ]


# shutdown -------------------------------------------------------------------------------------


async def test_stop_closes_everything_and_leaves_no_tasks() -> None:
    cert, key = make_self_signed("portier", hosts=[LOOP])
    a = Peer(keepalive_interval=0.1, tls=TlsSettings(trust_pems=(cert,)))
    b = Peer(tls_port=0, tls=TlsSettings(certificate_pem=cert, key_pem=key))
    await a.transport.start()
    await b.transport.start()
    server, udp = b.transport.local("TCP"), b.transport.local("UDP")
    for to in (server, b.transport.local("TLS"), udp):
        await a.transport.send(options(), to)
        await b.next_inbound()
    assert len(a.transport.connections()) == 2
    reader, writer = await asyncio.open_connection(server.host, server.port)
    await a.transport.stop()
    await b.transport.stop()
    assert await asyncio.wait_for(reader.read(), WAIT) == b""
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert a.transport.connections() == [] and b.transport.connections() == []
    assert a.failed.empty()  # a deliberate stop is not a flow failure
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:  # the port is free again
        again.bind((LOOP, udp.port))
