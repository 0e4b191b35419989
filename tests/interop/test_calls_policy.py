"""Refusing calls: the Reject and Busy Response Codes (manual Table 17), between two real devices."""

from __future__ import annotations

import asyncio
from pathlib import Path

from portier.events import CallStateChanged

from .device import running_device


async def test_reject_sends_603_and_busy_sends_486(tmp_path: Path) -> None:
    caller = running_device(tmp_path / "a", {"RTP Initial Port": 23000})
    door = running_device(
        tmp_path / "b", {"RTP Initial Port": 24000, "P2P Auto Answer": 0, "P1 CallWaiting": 0}
    )
    async with caller as a, door as b:
        first = await a.calls.dial(f"sip:door@127.0.0.1:{b.sip_port}", agent=a.sip.agent())
        await b.call_state("Ringing")
        assert b.calls.reject()
        await first.ended.wait()
        assert first.reason == "603 Decline"

        second = await a.calls.dial(f"sip:door@127.0.0.1:{b.sip_port}", agent=a.sip.agent())
        await b.call_state("Ringing", after=len(b.events.events) - 1)
        assert b.calls.answer()
        mark = len(a.events.events)
        await a.call_state("Talking", after=mark - 5)
        third = await a.calls.dial(f"sip:door@127.0.0.1:{b.sip_port}", agent=a.sip.agent())
        await asyncio.wait_for(third.ended.wait(), 10)
        assert third.reason == "486 Busy Here"
        assert second.state == "Talking"
        ringing = [e for e in b.events.events if isinstance(e, CallStateChanged) and e.state == "Ringing"]
        assert len(ringing) == 2  # the busy call never rang
