"""The UDP side of the SIP port: tell SIP, STUN and keep-alive datagrams apart.

Why STUN shares this socket: RFC 5626 §4.4.2 keep-alives and RFC 5389 binding requests must leave
from the SIP port, or the NAT binding they refresh or discover is not the one SIP uses.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from asyncio.trsock import TransportSocket
from collections.abc import Callable
from typing import Literal, cast

log = logging.getLogger(__name__)

STUN_MAGIC = b"\x21\x12\xa4\x42"
MAX_DATAGRAM = 65507  # largest UDP payload over IPv4

Kind = Literal["sip", "stun", "keepalive"]


def classify(data: bytes) -> Kind:
    """RFC 7983 style demultiplexing: STUN starts with two zero bits and carries the magic cookie."""
    if len(data) >= 20 and data[0] < 2 and data[4:8] == STUN_MAGIC:
        return "stun"
    if data and not data.strip(b"\r\n"):
        return "keepalive"  # RFC 5626 CRLFCRLF or a "dummy" CRLF keep-alive; nothing to answer
    return "sip"


def address(sockaddr: tuple[str, int] | tuple[str, int, int, int]) -> tuple[str, int]:
    """(host, port) of a socket address; IPv4-mapped IPv6 addresses become plain IPv4."""
    host, port = sockaddr[0], sockaddr[1]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return host.partition("%")[0], port


class DatagramListener(asyncio.DatagramProtocol):
    """Hands every datagram to ``on_datagram(data, (host, port))``; never lets an error escape."""

    def __init__(self, on_datagram: Callable[[bytes, tuple[str, int]], None]) -> None:
        self._on_datagram = on_datagram
        self.transport: asyncio.DatagramTransport | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # not a subclass on 3.11

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            self._on_datagram(data, address(addr))  # type: ignore[arg-type]
        except Exception:
            log.exception("dropping a %d-octet datagram from %s", len(data), addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors (port unreachable...) for an earlier sendto; the transaction layer times out.
        log.debug("UDP error: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.closed.done():
            self.closed.set_result(None)


def set_dscp(sock: socket.socket | TransportSocket, dscp: int | None) -> None:
    """Mark every packet the socket sends with ``dscp`` (IPv4 TOS or IPv6 traffic class)."""
    if dscp is None:
        return
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, dscp << 2)
    else:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, dscp << 2)


class SourceRoutes:
    """Our address towards a peer when listening on a wildcard, for Via, Contact and ``Inbound.local``.

    Asks the kernel's routing table by connecting a UDP socket (no packet is sent); cached.
    """

    def __init__(self, limit: int = 1024) -> None:
        self._cache: dict[str, str] = {}
        self._limit = limit

    def source(self, listener_host: str, peer: str) -> str:
        if listener_host not in ("0.0.0.0", "::"):
            return listener_host
        found = self._cache.get(peer)
        if found is None:
            family = socket.AF_INET6 if ":" in peer else socket.AF_INET
            try:
                with socket.socket(family, socket.SOCK_DGRAM) as probe:
                    probe.connect((peer, 9))
                    found = str(probe.getsockname()[0])
            except OSError:
                return listener_host
            if len(self._cache) >= self._limit:
                self._cache.clear()
            self._cache[peer] = found
        return found
