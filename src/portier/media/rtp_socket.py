"""The RTP socket of a stream (edge): bound with its DSCP, read by the stream's own tick.

Why the tick reads the socket instead of the event loop waking for each packet: a call already wakes
every ptime to send; waking a second time for every packet that arrives doubles the wake-ups, and on
a small board the wake-ups, not the audio work, are most of what a call costs. Packets that arrive
between ticks wait in the kernel and are read just before the tick plays a frame, which is all the
jitter buffer needs -- provided it is told when each packet *arrived*, not when it was read: the
kernel stamps each datagram on arrival (``SO_TIMESTAMPNS``), and that stamp, moved from the wall
clock to the loop's clock, is the arrival time. Without the stamp (not Linux), the read time is used.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import struct
import sys
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)
_TIMESPEC = struct.Struct("@ll")
_ANCILLARY = socket.CMSG_SPACE(_TIMESPEC.size)
MAX_DATAGRAM = 2048
MAX_READS = 64
"""Datagrams read per tick at most; the rest wait for the next tick rather than stall the loop."""


def bind(host: str, port: int, dscp: int | None) -> socket.socket:
    """A non-blocking UDP socket on ``host:port`` whose packets carry ``dscp``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if dscp is not None:
            level, option = (
                (socket.IPPROTO_IPV6, socket.IPV6_TCLASS)
                if family == socket.AF_INET6
                else (socket.IPPROTO_IP, socket.IP_TOS)
            )
            sock.setsockopt(level, option, dscp << 2)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class RtpSocket:
    """One bound RTP socket: ``send`` now, ``drain`` what arrived since the last drain."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._poll: select.poll | None = None
        if hasattr(select, "poll"):  # asking after a read is cheaper than the exception of an empty one
            self._poll = select.poll()
            self._poll.register(sock.fileno(), select.POLLIN)
        self.stamped = False
        if SO_TIMESTAMPNS is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                self.stamped = True

    def send(self, data: bytes, address: tuple[str, int]) -> bool:
        """Send one datagram; False (and a debug line) if the kernel refused it."""
        try:
            self.sock.sendto(data, address)
        except OSError as exc:  # a full buffer or an ICMP error from an earlier packet: RTP moves on
            log.debug("RTP send to %s:%d failed: %s", *address[:2], exc)
            return False
        return True

    def drain(self, now: float, deliver: Callable[[bytes, tuple[str, int], float], None]) -> int:
        """Hand every waiting datagram to ``deliver(data, address, arrival)``; returns how many.

        ``now`` is the loop's clock; ``arrival`` is on that clock and never later than ``now``.
        """
        count = 0
        wall = time.time() if self.stamped else 0.0
        sock = self.sock
        ready = self._poll.poll if self._poll is not None else None
        for _ in range(MAX_READS):
            try:
                data, ancillary, _, address = sock.recvmsg(MAX_DATAGRAM, _ANCILLARY)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:  # an ICMP port unreachable for something we sent: not a packet
                log.debug("RTP receive: %s", exc)
                if ready is not None and not ready(0):
                    break
                continue
            count += 1
            arrival = now
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= _TIMESPEC.size:
                    seconds, nanoseconds = _TIMESPEC.unpack_from(value)
                    age = wall - (seconds + nanoseconds * 1e-9)  # held to 0-1 s (not min/max: 50 a second)
                    arrival = now - (age if 0.0 < age < 1.0 else 0.0 if age <= 0.0 else 1.0)
            deliver(data, address, arrival)
            if ready is not None and not ready(0):  # read first, ask after: one packet a tick is usual
                break
        return count

    def close(self) -> None:
        self.sock.close()
