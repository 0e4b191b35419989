"""Our STUN Binding client against coturn (Debian's `turnserver`) run as a STUN-only server on loopback.

Why coturn: it is the STUN server most SIP deployments point their phones at; if it reads our
request and we read its answer (XOR-MAPPED-ADDRESS, FINGERPRINT, its extra RFC 5780 attributes),
the codec works with the real thing and not only with the RFC 5769 vectors.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from portier.sip.stun import (
    FINGERPRINT,
    XOR_MAPPED_ADDRESS,
    BindingResult,
    StunBinding,
    StunMessage,
)

pytestmark = pytest.mark.interop
HOST = "127.0.0.1"
STARTUP_LIMIT = 15.0


def run_binding(sock: socket.socket, server: tuple[str, int]) -> tuple[BindingResult, StunMessage]:
    """Drive a StunBinding with the wall clock; its retransmissions cover coturn's start-up."""
    binding = StunBinding(software="portier interop test")
    sock.sendto(binding.start(time.monotonic()), server)
    limit = time.monotonic() + STARTUP_LIMIT
    while not binding.done and time.monotonic() < limit:
        deadline = binding.next_deadline()
        assert deadline is not None
        sock.settimeout(max(0.01, min(deadline, limit) - time.monotonic()))
        try:
            data, _ = sock.recvfrom(2048)
        except (TimeoutError, ConnectionRefusedError):
            again = binding.handle_timer(time.monotonic())
            if again is not None:
                sock.sendto(again, server)
            continue
        if binding.receive(data, time.monotonic()) is not None:
            result = binding.result
            assert isinstance(result, BindingResult), result
            return result, StunMessage.decode(data)
    raise AssertionError(f"coturn did not answer within {STARTUP_LIMIT} s: {binding.result}")


def test_coturn_reports_our_own_address(coturn: tuple[int, Path]) -> None:
    port, log = coturn
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        try:
            result, message = run_binding(sock, (HOST, port))
        except AssertionError as exc:
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"{exc}\n--- coturn log ---\n{tail}") from None
        assert (result.mapped_host, result.mapped_port) == sock.getsockname()
    assert result.software is not None and result.software.startswith("Coturn")
    assert message.get(XOR_MAPPED_ADDRESS) is not None
    assert message.attributes[-1][0] == FINGERPRINT  # verified by decode

    # A second socket gets its own port back: the answer really is per source address.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind((HOST, 0))
        second, _ = run_binding(other, (HOST, port))
        assert (second.mapped_host, second.mapped_port) == other.getsockname()
        assert second.mapped_port != result.mapped_port
