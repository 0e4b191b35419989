"""The asyncio SIP transport: UDP, TCP and TLS listeners and connections (RFC 3261 §18, RFC 5626).

Why one object owns every socket: responses must leave over the connection the request came in on
(§18.2.2) and UDP must be sent from the listening port (symmetric signalling, rport), so sending is
a lookup in the table of what is already open before anything new is opened. Everything that
arrives is parsed here and handed up as a value; nothing a peer sends can raise past this module.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from portier.packet_taps import Taps
from portier.sip.datagram import MAX_DATAGRAM, DatagramListener, SourceRoutes, address, classify, set_dscp
from portier.sip.errors import SipParseError
from portier.sip.message import SipRequest, SipResponse, parse
from portier.sip.stream import ConnectFailed, StreamConnection, connect_stream
from portier.sip.tls import TlsSettings, TlsSettingsError, client_context, server_context

log = logging.getLogger(__name__)

STREAMS = ("TCP", "TLS")
DRAIN_TIMEOUT = 32.0  # 64*T1: a peer that takes no bytes for this long is gone
CLOSE_GRACE = 1.0  # stop(): time given to TLS close_notify before connections are aborted


@dataclass(frozen=True)
class Endpoint:
    transport: str  # "UDP" | "TCP" | "TLS"
    host: str  # IP literal, no brackets
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport} {host}:{self.port}"


@dataclass(frozen=True)
class Inbound:
    """One framed, parsed SIP message and where it came from."""

    message: SipRequest | SipResponse
    source: Endpoint
    local: Endpoint
    size: int


@dataclass(frozen=True)
class Malformed:
    """Octets that did not parse (``data``: the datagram, or the stream read that held them)."""

    error: SipParseError
    data: bytes
    source: Endpoint
    local: Endpoint


class TransportError(Exception):
    """A listen or send that could not be done; the message says what and why."""


PacketTap = Callable[[bytes, Endpoint, Endpoint], None]
"""Sees every message a transport sends or receives: (octets, source, destination)."""

_taps: Taps[Endpoint] = Taps("SIP")


def add_packet_tap(tap: PacketTap) -> Callable[[], None]:
    """Show ``tap`` what every transport of this process sends and receives (the packet capture);
    returns the function that removes it. UDP datagrams are passed as they are; a stream's
    messages one by one, as plaintext (above TLS; a received one re-serialised), without the
    CRLF keep-alives."""
    return _taps.add(tap)


@dataclass(frozen=True)
class TransportConfig:
    host: str = "0.0.0.0"
    udp_port: int | None = 5060
    tcp_port: int | None = 5060
    tls_port: int | None = None
    tls: TlsSettings | None = None
    dscp: int | None = None
    connect_timeout: float = 5.0
    idle_timeout: float = 300.0
    keepalive_interval: float | None = None
    pong_timeout: float = 10.0
    max_inbound_connections: int = 256


def _ip(host: str, what: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        raise TransportError(f"{what}: {host!r} is not an IP address (resolve names first)") from None


class SipTransport:
    """Listeners plus the table of open stream connections; see the module docstring."""

    def __init__(
        self,
        config: TransportConfig,
        on_message: Callable[[Inbound | Malformed], None],
        on_stun: Callable[[bytes, Endpoint, Endpoint], None] | None = None,
        on_flow_failed: Callable[[Endpoint, str], None] | None = None,
    ) -> None:
        self._config = config
        self._on_message = on_message
        self._on_stun = on_stun
        self._on_flow_failed = on_flow_failed
        self._udp: DatagramListener | None = None
        self._servers: dict[str, asyncio.Server] = {}
        self._listeners: dict[str, Endpoint] = {}
        self._streams: dict[Endpoint, list[StreamConnection]] = {}
        self._inbound = 0
        self._connecting: dict[Endpoint, asyncio.Future[StreamConnection]] = {}
        self._client_ctx: ssl.SSLContext | None = None
        self._routes = SourceRoutes()
        self._stopping = False

    # lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind every configured listener; on any failure nothing stays bound."""
        cfg, loop = self._config, asyncio.get_running_loop()
        self._stopping = False
        plan = [("UDP", cfg.udp_port), ("TCP", cfg.tcp_port), ("TLS", cfg.tls_port)]
        for name, port in plan:
            if port is None:
                continue
            where = str(Endpoint(name, cfg.host, port))
            try:
                if name == "UDP":
                    _, self._udp = await loop.create_datagram_endpoint(
                        lambda: DatagramListener(self._datagram), local_addr=(cfg.host, port)
                    )
                    assert self._udp.transport is not None
                    sock = self._udp.transport.get_extra_info("socket")
                    set_dscp(sock, cfg.dscp)
                    self._listeners[name] = Endpoint(name, cfg.host, sock.getsockname()[1])
                    continue
                ctx = None
                if name == "TLS":
                    if cfg.tls is None:
                        raise TransportError(f"cannot listen on {where}: no TLS settings given")
                    ctx = server_context(cfg.tls)
                server = await loop.create_server(
                    functools.partial(self._new_stream, name, outbound=False),
                    cfg.host,
                    port,
                    ssl=ctx,
                    ssl_handshake_timeout=cfg.connect_timeout if ctx else None,
                )
                self._servers[name] = server
                set_dscp(server.sockets[0], cfg.dscp)
                self._listeners[name] = Endpoint(name, cfg.host, server.sockets[0].getsockname()[1])
            except (OSError, TlsSettingsError) as exc:
                await self.stop()
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise TransportError(f"cannot listen on {where}: {reason}") from None
            except TransportError:
                await self.stop()
                raise

    async def stop(self) -> None:
        """Close listeners and connections; returns when they are closed (or aborted)."""
        self._stopping = True
        for server in self._servers.values():
            server.close()
        conns = [c for group in self._streams.values() for c in group]
        for conn in conns:
            conn.close("transport stopped")
        if conns:
            _, pending = await asyncio.wait([c.closed for c in conns], timeout=CLOSE_GRACE)
            for conn in conns:
                if not conn.closed.done():
                    conn.abort("transport stopped")
            if pending:
                await asyncio.wait(pending, timeout=CLOSE_GRACE)
        for server in self._servers.values():
            await server.wait_closed()
        self._servers.clear()
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.close()  # the socket is released in connection_lost: wait for it,
            await asyncio.wait_for(asyncio.shield(self._udp.closed), CLOSE_GRACE)  # so a restart can bind
        self._udp = None
        self._listeners.clear()
        self._streams.clear()
        self._inbound = 0

    def local(self, transport: str) -> Endpoint:
        """The bound listener for ``transport`` (ephemeral port resolved)."""
        try:
            return self._listeners[transport.upper()]
        except KeyError:
            raise TransportError(f"no {transport.upper()} listener is running") from None

    def local_for(self, to: Endpoint) -> Endpoint:
        """The listener endpoint as seen from ``to``: a wildcard host becomes the routed source IP."""
        listener = self.local(to.transport)
        return Endpoint(listener.transport, self._routes.source(listener.host, to.host), listener.port)

    def connections(self) -> list[tuple[Endpoint, Endpoint]]:
        """(local, remote) of every open stream connection."""
        return [(c.local, c.remote) for group in self._streams.values() for c in group if c.is_open]

    def tos(self, endpoint: Endpoint) -> int:
        """IP_TOS (IPv6: traffic class) in effect on a listener (its local endpoint) or connection
        (its remote endpoint): what the Signal DSCP setting actually did."""
        level, option = socket.IPPROTO_IP, socket.IP_TOS
        if ":" in endpoint.host:
            level, option = socket.IPPROTO_IPV6, socket.IPV6_TCLASS
        if self._listeners.get(endpoint.transport) == endpoint:
            if endpoint.transport == "UDP" and self._udp and self._udp.transport:
                value: int = self._udp.transport.get_extra_info("socket").getsockopt(level, option)
                return value
            return self._servers[endpoint.transport].sockets[0].getsockopt(level, option)
        conn = self._open_stream(endpoint)
        if conn is None:
            raise TransportError(f"no listener or connection {endpoint}")
        value = conn.socket.getsockopt(level, option)
        return value

    # sending ----------------------------------------------------------------------------------

    async def send(self, data: bytes, to: Endpoint, *, server_name: str | None = None) -> Endpoint:
        """Send one message; returns the local endpoint it left from (for Via and Contact).

        TLS checks the server certificate against ``server_name`` (RFC 5922: the host of the SIP
        URI), default ``to.host``.
        """
        if to.transport == "UDP":
            self._sendto(data, to)
            return self.local_for(to)
        if to.transport not in STREAMS:
            raise TransportError(f"unknown transport {to.transport!r}; expected UDP, TCP or TLS")
        _ip(to.host, f"cannot send to {to}")
        conn = self._open_stream(to) or await self._connect(to, server_name)
        try:
            conn.write(data)
            if _taps.active:
                _taps.show(data, conn.local, conn.remote)
            async with asyncio.timeout(DRAIN_TIMEOUT):
                await conn.drain()
        except TimeoutError:
            conn.abort(f"peer took no data for {DRAIN_TIMEOUT:g} s")
            raise TransportError(f"cannot send to {to}: peer took no data for {DRAIN_TIMEOUT:g} s") from None
        except ConnectionError as exc:
            raise TransportError(f"cannot send to {to}: {exc}") from None
        return conn.local

    def send_stun(self, data: bytes, to: Endpoint) -> None:
        """Send a STUN message from the SIP UDP port."""
        self._sendto(data, to)

    def send_datagram(self, data: bytes, to: Endpoint) -> None:
        """Send over UDP at once, from the listening socket (no task, no await: the hot path of a
        UA answering requests); raises TransportError like ``send``."""
        self._sendto(data, to)

    def _sendto(self, data: bytes, to: Endpoint) -> None:
        if self._udp is None or self._udp.transport is None:
            raise TransportError(f"cannot send to {to}: no UDP listener is running")
        addr = _ip(to.host, f"cannot send to {to}")
        if len(data) > MAX_DATAGRAM:
            raise TransportError(f"cannot send {len(data)} octets over UDP (at most {MAX_DATAGRAM})")
        host, family = to.host, self._udp.transport.get_extra_info("socket").family
        if addr.version == 6 and family != socket.AF_INET6:
            raise TransportError(f"cannot send to {to}: the UDP listener is IPv4 only")
        if addr.version == 4 and family == socket.AF_INET6:
            host = f"::ffff:{host}"  # dual-stack listener on "::"
        self._udp.transport.sendto(data, (host, to.port))
        if _taps.active:
            _taps.show(data, self.local_for(to), to)

    def _open_stream(self, remote: Endpoint) -> StreamConnection | None:
        return next((c for c in self._streams.get(remote, ()) if c.is_open), None)

    async def _connect(self, to: Endpoint, server_name: str | None) -> StreamConnection:
        pending = self._connecting.get(to)
        if pending is not None:  # one connection per peer even when two sends race
            return await asyncio.shield(pending)
        future: asyncio.Future[StreamConnection] = asyncio.get_running_loop().create_future()
        self._connecting[to] = future
        try:
            conn = await self._open_connection(to, server_name)
            future.set_result(conn)
            return conn
        except BaseException as exc:
            if not isinstance(exc, TransportError):
                exc = TransportError(f"connecting to {to} was given up")
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            del self._connecting[to]

    async def _open_connection(self, to: Endpoint, server_name: str | None) -> StreamConnection:
        if self._stopping:
            raise TransportError(f"cannot connect to {to}: transport is stopped")
        cfg = self._config
        ctx = self._tls_client_context(to) if to.transport == "TLS" else None
        try:
            return await connect_stream(
                lambda: self._new_stream(to.transport, outbound=True),
                to.host,
                to.port,
                ssl_context=ctx,
                server_hostname=server_name or to.host,
                timeout=cfg.connect_timeout,
                dscp=cfg.dscp,
                bind_host=cfg.host,
            )
        except ConnectFailed as exc:
            raise TransportError(f"cannot connect to {to}: {exc}") from None

    def _tls_client_context(self, to: Endpoint) -> ssl.SSLContext:
        if self._client_ctx is None:
            if self._config.tls is None:
                raise TransportError(f"cannot connect to {to}: no TLS settings given")
            try:
                self._client_ctx = client_context(self._config.tls)
            except TlsSettingsError as exc:
                raise TransportError(f"cannot connect to {to}: {exc}") from None
        return self._client_ctx

    # receiving --------------------------------------------------------------------------------

    def _deliver(self, item: Inbound | Malformed) -> None:
        try:
            self._on_message(item)
        except Exception:
            log.exception("message handler failed on a message from %s", item.source)

    def _datagram(self, data: bytes, addr: tuple[str, int]) -> None:
        source = Endpoint("UDP", *addr)
        listener = self._listeners["UDP"]
        local = Endpoint("UDP", self._routes.source(listener.host, source.host), listener.port)
        if _taps.active:
            _taps.show(data, source, local)
        kind = classify(data)
        if kind == "stun":
            if self._on_stun is not None:
                self._on_stun(data, source, local)
        elif kind == "sip":
            try:
                self._deliver(Inbound(parse(data), source, local, len(data)))
            except SipParseError as exc:
                self._deliver(Malformed(exc, data, source, local))

    def _new_stream(self, name: str, *, outbound: bool) -> StreamConnection:
        cfg = self._config
        return StreamConnection(
            self,
            name,
            outbound=outbound,
            idle_timeout=cfg.idle_timeout,
            keepalive_interval=cfg.keepalive_interval,
            pong_timeout=cfg.pong_timeout,
        )

    # StreamOwner ------------------------------------------------------------------------------

    def stream_opened(self, conn: StreamConnection) -> bool:
        if self._stopping or (not conn.outbound and self._inbound >= self._config.max_inbound_connections):
            why = "transport is stopping" if self._stopping else "too many connections"
            log.warning("refusing a %s connection: %s", conn.name, why)
            return False
        sock = conn.socket
        try:
            conn.local = Endpoint(conn.name, *address(sock.getsockname()))
            conn.remote = Endpoint(conn.name, *address(sock.getpeername()))
        except OSError:  # reset before we got to look at it
            return False
        if not conn.outbound:
            set_dscp(sock, self._config.dscp)
            self._inbound += 1
        self._streams.setdefault(conn.remote, []).append(conn)
        return True

    def stream_received(
        self, conn: StreamConnection, item: SipRequest | SipResponse | SipParseError, data: bytes, size: int
    ) -> None:
        if _taps.active:
            _taps.show(data if isinstance(item, SipParseError) else bytes(item), conn.remote, conn.local)
        if isinstance(item, SipParseError):
            self._deliver(Malformed(item, data, conn.remote, conn.local))
        else:
            self._deliver(Inbound(item, conn.remote, conn.local, size))

    def stream_closed(self, conn: StreamConnection, reason: str) -> None:
        group = self._streams.get(conn.remote, [])
        if conn not in group:
            return  # refused, never entered the table
        group.remove(conn)
        if not group:
            del self._streams[conn.remote]
        if not conn.outbound:
            self._inbound -= 1
        log.debug("%s connection %s -> %s closed: %s", conn.name, conn.local, conn.remote, reason)
        flow = conn.outbound and (conn.pong_missing or self._config.keepalive_interval is not None)
        if flow and not self._stopping and self._on_flow_failed is not None:
            try:
                self._on_flow_failed(conn.remote, reason)
            except Exception:
                log.exception("flow-failure handler failed for %s", conn.remote)
