"""One TCP or TLS connection carrying SIP: framing, RFC 5626 keep-alives, idle close, flow control.

Why an ``asyncio.Protocol`` with timer handles instead of a reader task per connection: a door
station may hold hundreds of idle inbound connections, and callbacks cost nothing until bytes
arrive; there is also no task to forget on shutdown. The owner (``SipTransport``) keeps the
connection table and turns what arrives here into ``Inbound``/``Malformed`` values.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import ssl
from asyncio.trsock import TransportSocket
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from portier.sip.datagram import set_dscp
from portier.sip.errors import SipParseError
from portier.sip.framing import KeepAlive, StreamFramer
from portier.sip.message import SipRequest, SipResponse

if TYPE_CHECKING:
    from portier.sip.transport import Endpoint

log = logging.getLogger(__name__)

PING = b"\r\n\r\n"
PONG = b"\r\n"
LINGER = 1.0  # after framing is lost: time to send a 400 before the connection is closed


class StreamOwner(Protocol):
    def stream_opened(self, conn: StreamConnection) -> bool: ...
    def stream_received(
        self, conn: StreamConnection, item: SipRequest | SipResponse | SipParseError, data: bytes, size: int
    ) -> None: ...
    def stream_closed(self, conn: StreamConnection, reason: str) -> None: ...


class StreamConnection(asyncio.Protocol):
    """A framed SIP connection; ``local``/``remote`` are set by the owner in ``stream_opened``."""

    local: Endpoint
    remote: Endpoint

    def __init__(
        self,
        owner: StreamOwner,
        name: str,
        *,
        outbound: bool,
        idle_timeout: float,
        keepalive_interval: float | None = None,
        pong_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.outbound = outbound
        self.pong_missing = False
        self._owner = owner
        self._idle_timeout = idle_timeout
        self._keepalive = keepalive_interval if outbound else None
        self._pong_timeout = pong_timeout
        self._framer = StreamFramer()
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._last_activity = self._loop.time()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._pong_timer: asyncio.TimerHandle | None = None
        self._close_reason: str | None = None
        self._accepted = False
        self._desynced: str | None = None
        self._writable: asyncio.Future[None] | None = None
        self.closed: asyncio.Future[None] = self._loop.create_future()

    @property
    def is_open(self) -> bool:
        return self._transport is not None and self._close_reason is None and not self.closed.done()

    @property
    def socket(self) -> TransportSocket:
        sock: TransportSocket | None = self._transport.get_extra_info("socket") if self._transport else None
        if sock is None:
            raise OSError("connection has no socket")
        return sock

    # asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._owner.stream_opened(self):
            self._close_reason = "refused"
            transport.abort()
            return
        self._accepted = True
        self._idle_timer = self._loop.call_later(self._idle_timeout, self._check_idle)
        self._arm_ping()

    def data_received(self, data: bytes) -> None:
        if self._desynced is not None:
            return  # message boundaries are lost: nothing more can be read
        self._last_activity = self._loop.time()
        before = self._framer.pending
        try:
            items = self._framer.feed(data)
        except SipParseError as exc:
            # Read no more, but let the owner answer (400/413/513) over this connection: its first
            # write, or LINGER seconds, closes it (RFC 3261 §18.3). Input is still drained and
            # dropped meanwhile so that the close is a FIN, not a reset that could lose the answer.
            self._desynced = f"framing lost: {exc.message}"
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            self._idle_timer = self._loop.call_later(LINGER, self.close, self._desynced)
            self._owner.stream_received(self, exc, data, before + len(data))
            return
        consumed = before + len(data) - self._framer.pending
        for item in items:
            if isinstance(item, KeepAlive):
                self._keepalive_received(item)
                continue
            size = consumed if len(items) == 1 else _wire_size(item)
            self._owner.stream_received(self, item, data, size)
            if not self.is_open:
                return

    def eof_received(self) -> bool | None:
        return None  # close our side too: SIP has no use for half-open connections

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._idle_timer, self._ping_timer, self._pong_timer):
            if timer is not None:
                timer.cancel()
        reason = self._close_reason or (f"connection lost: {exc}" if exc else "closed by the peer")
        self._close_reason = reason
        if self._writable is not None and not self._writable.done():
            self._writable.set_exception(ConnectionResetError(reason))
            self._writable.exception()  # retrieved here; ``drain`` re-raises its own error
        if not self.closed.done():
            self.closed.set_result(None)
        if self._accepted:
            self._owner.stream_closed(self, reason)

    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # used by the owner ------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._transport is None or not self.is_open:
            raise ConnectionResetError(self._close_reason or "connection is closed")
        self._last_activity = self._loop.time()
        self._transport.write(data)
        if self._desynced is not None:
            self._close_reason = self._desynced
            if self._transport.can_write_eof():
                self._transport.write_eof()  # FIN after the answer; the peer's close (or LINGER) ends it
            else:
                self._transport.close()

    async def drain(self) -> None:
        """Wait until the peer has taken the bytes written so far down to the low-water mark."""
        if self._writable is not None and not self._writable.done():
            await asyncio.shield(self._writable)

    def close(self, reason: str) -> None:
        if self._close_reason is None:
            self._close_reason = reason
        if self._transport is not None:
            self._transport.close()

    def abort(self, reason: str) -> None:
        if self._close_reason is None:
            self._close_reason = reason
        if self._transport is not None:
            self._transport.abort()

    # timers -----------------------------------------------------------------------------------

    def _check_idle(self) -> None:
        idle = self._loop.time() - self._last_activity
        if idle >= self._idle_timeout:
            log.debug("closing %s connection to %s: idle for %.0f s", self.name, self.remote, idle)
            self.close(f"idle for {self._idle_timeout:g} s")
        else:
            self._idle_timer = self._loop.call_later(self._idle_timeout - idle, self._check_idle)

    def _arm_ping(self) -> None:
        if self._keepalive is not None:
            # RFC 5626 §4.4.1: each interval a random 80-100 % of the nominal one, so that flows
            # opened together do not ping in lockstep.
            delay = self._keepalive * random.uniform(0.8, 1.0)
            self._ping_timer = self._loop.call_later(delay, self._ping)

    def _ping(self) -> None:
        if not self.is_open or self._transport is None:
            return
        self._transport.write(PING)
        if self._pong_timer is None:
            self._pong_timer = self._loop.call_later(self._pong_timeout, self._no_pong)
        self._arm_ping()

    def _no_pong(self) -> None:
        self.pong_missing = True
        self.abort(f"no keep-alive pong within {self._pong_timeout:g} s")

    def _keepalive_received(self, item: KeepAlive) -> None:
        if item.kind == "ping":
            if self._transport is not None and self.is_open:
                self._transport.write(PONG)  # RFC 5626 §4.4.1: a ping is answered with one CRLF
        elif self._pong_timer is not None:
            self._pong_timer.cancel()
            self._pong_timer = None


def _wire_size(message: SipRequest | SipResponse | SipParseError) -> int:
    """Octets of a message that shared its read with others (re-serialised, so close, not exact)."""
    if isinstance(message, SipParseError):
        return 0
    return len(bytes(message))


class ConnectFailed(Exception):
    """Why an outbound connection could not be opened, as a sentence."""


async def connect_stream(
    factory: Callable[[], StreamConnection],
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None,
    server_hostname: str,
    timeout: float,
    dscp: int | None,
    bind_host: str,
) -> StreamConnection:
    """Open a TCP (or, with ``ssl_context``, TLS) connection marked with ``dscp`` from the first SYN."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        set_dscp(sock, dscp)
        if bind_host not in ("0.0.0.0", "::") and (":" in bind_host) == (family == socket.AF_INET6):
            sock.bind((bind_host, 0))  # leave from the address we listen on
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (host, port))
            _, conn = await loop.create_connection(
                factory,
                sock=sock,
                ssl=ssl_context,
                server_hostname=server_hostname if ssl_context else None,
                ssl_handshake_timeout=timeout if ssl_context else None,
            )
    except TimeoutError:
        sock.close()
        raise ConnectFailed(f"timed out after {timeout:g} s") from None
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise ConnectFailed(f"certificate verification failed: {exc.verify_message or exc.reason}") from None
    except ssl.SSLError as exc:
        sock.close()
        raise ConnectFailed(f"TLS handshake failed: {exc.reason or exc}") from None
    except OSError as exc:
        sock.close()
        raise ConnectFailed(os.strerror(exc.errno) if exc.errno else str(exc)) from None
    except BaseException:
        sock.close()
        raise
    if not conn.is_open:
        raise ConnectFailed("transport is stopped")
    return conn
