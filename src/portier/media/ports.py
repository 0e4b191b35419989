"""RTP port pairs from the "RTP Port" range (manual 9.9, Service Port): even RTP, odd RTCP, +2 per call."""

from __future__ import annotations

import socket


class PortsExhausted(Exception):
    pass


class RtpPorts:
    """Hands out even ports in [start, start + quantity) whose pair is free right now."""

    def __init__(self, start: int, quantity: int, host: str = "0.0.0.0") -> None:
        self.start = start + (start % 2)
        self.end = start + quantity
        self.host = host
        self._used: set[int] = set()
        self._next = self.start

    def acquire(self) -> int:
        span = max((self.end - self.start) // 2, 1)
        for _ in range(span):
            port = self._next
            self._next = self.start if self._next + 2 >= self.end else self._next + 2
            if port in self._used or port + 1 > 65535:
                continue
            if _free(self.host, port) and _free(self.host, port + 1):
                self._used.add(port)
                return port
        raise PortsExhausted(f"no free RTP port pair in {self.start}-{self.end - 1}")

    def release(self, port: int) -> None:
        self._used.discard(port)


def _free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
