"""STUN from the SIP port (manual Table 16): learn the address a NAT shows the registrar.

The binding must leave from the very socket SIP uses, or the mapping it reports belongs to another
port; so the request goes out through the agent's UDP listener and the agent hands STUN datagrams
back here. The sans-IO ``StunBinding`` does the RFC 5389 retransmissions; this only waits on them.
"""

from __future__ import annotations

import asyncio
import contextlib

from portier.sip.agent import UserAgent
from portier.sip.resolve import ResolveError, locate
from portier.sip.stun import BindingFailed, BindingResult, StunBinding
from portier.sip.transport import Endpoint, TransportError


async def stun_binding(
    agent: UserAgent, host: str, port: int, *, timeout: float
) -> BindingResult | BindingFailed:
    """One Binding transaction to ``host:port`` from the agent's UDP port, given up after ``timeout``."""
    loop = asyncio.get_running_loop()
    try:
        targets = await locate(host, port, "UDP", "A")
    except ResolveError as exc:
        return BindingFailed(f"cannot resolve STUN server {host!r}: {exc}")
    server = Endpoint("UDP", targets[0].host, targets[0].port)
    binding = StunBinding(software="portier")
    answered = asyncio.Event()

    def on_stun(data: bytes, source: Endpoint) -> None:
        if binding.receive(data, loop.time()) is not None:
            answered.set()

    remove = agent.on_stun(on_stun)
    try:
        agent.transport.send_stun(binding.start(loop.time()), server)
        give_up = loop.time() + timeout
        while binding.result is None:
            deadline = min(binding.next_deadline() or give_up, give_up)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(answered.wait(), max(deadline - loop.time(), 0.0))
            if binding.result is not None:
                break
            if loop.time() >= give_up:
                return BindingFailed(f"no STUN answer from {host}:{port} within {timeout:g} s")
            again = binding.handle_timer(loop.time())
            if again is not None:
                agent.transport.send_stun(again, server)
    except TransportError as exc:
        return BindingFailed(f"cannot send STUN to {host}:{port}: {exc}")
    finally:
        remove()
    return binding.result
