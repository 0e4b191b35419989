"""Taps on the device's own packets: what the packet capture (``services/capture``) listens to.

SIP transports (``sip/transport.py``) and RTP streams (``media/session.py``) each hold one
:class:`Taps` and show it every packet they send or receive. Taps are process-wide: a capture sees
every device of the process, as a capture on a host sees every program on it. The owners test
``taps.active`` (a tuple, empty without a capture) before calling :meth:`Taps.show`, so a packet
costs one attribute read and one truth test while nobody listens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

A = TypeVar("A")
"""How the owner names an address: an ``Endpoint`` for SIP, ``(host, port)`` for RTP."""


class Taps(Generic[A]):
    """Functions ``(octets, source, destination)`` shown each packet; one failing never stops the rest."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.active: tuple[Callable[[bytes, A, A], None], ...] = ()

    def add(self, tap: Callable[[bytes, A, A], None]) -> Callable[[], None]:
        """Start showing packets to ``tap``; returns the function that stops it."""
        self.active = (*self.active, tap)

        def remove() -> None:
            self.active = tuple(t for t in self.active if t is not tap)

        return remove

    def show(self, data: bytes, source: A, destination: A) -> None:
        for tap in self.active:
            try:
                tap(data, source, destination)
            except Exception:
                log.exception("%s packet tap failed", self.what)
