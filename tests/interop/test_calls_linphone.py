"""portier and linphonec call each other and both must hear the other (issue 4, "Proven by").

linphone (belle-sip, mediastreamer2) is a second SIP/SDP/RTP stack next to baresip. It plays a
1 kHz WAV and records what it hears; portier plays a 440 Hz WAV and records each call. Both
recordings are judged by ``assert_tone`` (tone within 1 %, duration within 5 % of that side's talk
time, no hole over 40 ms). linphonec is driven by blocking calls, run in a thread so that the device,
which shares the test's event loop, keeps its media flowing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from portier.events import CallStateChanged

from .audio_check import assert_tone, make_tone_wav
from .device import RunningDevice, running_device
from .linphone import Linphone

pytestmark = pytest.mark.interop

LINPHONE_HZ = 1000.0
PORTIER_HZ = 440.0
TALK_S = 3.0
SOURCE_S = 20.0

T = TypeVar("T")


async def blocking(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(function, *args)


async def stamped(function: Callable[..., Any], *args: Any) -> float:
    """Run a blocking wait in a thread; when it returned, by time.monotonic()."""
    await blocking(function, *args)
    return time.monotonic()


@dataclass
class CallClock:
    """When portier's call changed state, by time.monotonic()."""

    events: list[tuple[CallStateChanged, float]] = field(default_factory=list)

    def __call__(self, event: CallStateChanged) -> None:
        self.events.append((event, time.monotonic()))

    def at(self, state: str) -> float:
        found = [when for event, when in self.events if event.state == state]
        assert found, f"portier's call never reached {state}: {[e.state for e, _ in self.events]}"
        return found[0]

    @property
    def talk(self) -> float:
        return self.at("Ended") - self.at("Talking")


def make_linphone(tmp_path: Path) -> Linphone:
    return Linphone(
        tmp_path / "linphone",
        audio_source_wav=make_tone_wav(tmp_path / "linphone-1k.wav", LINPHONE_HZ, SOURCE_S),
        record_wav=tmp_path / "linphone" / "heard.wav",
        codecs=["PCMU"],
        auto_answer=True,
        lifetime=40,
    )


async def talk(
    tmp_path: Path, start: Callable[[RunningDevice, Linphone], Awaitable[Any]], *, portier_hangs_up: bool
) -> None:
    """A PCMU call between portier and linphonec that ``start`` sets up, TALK_S long, then both
    recordings checked against their own side's talk time."""
    portier_wav = make_tone_wav(tmp_path / "portier-440.wav", PORTIER_HZ, 1.0, 8000)
    portier_rec = tmp_path / "portier-rec"
    linphone = make_linphone(tmp_path)
    await blocking(linphone.start)
    try:
        device = running_device(
            tmp_path / "portier",
            {"Audio Codec Sets": "PCMU"},
            audio_in=f"wav:{portier_wav}",
            audio_out=f"wav:{portier_rec}",
        )
        async with device as dut:
            clock = CallClock()
            dut.device.bus.subscribe(CallStateChanged, clock)
            await start(dut, linphone)
            connected = await stamped(linphone.wait_connected, 15.0)
            await dut.call_state("Talking", timeout=15)
            (call,) = dut.calls.calls.values()
            assert call.stream is not None, "portier talks without an RTP stream"
            codec = call.stream.config.send_codec
            await asyncio.sleep(TALK_S)
            if portier_hangs_up:
                assert await dut.calls.hangup(), "portier found no call to hang up"
            else:
                await blocking(linphone.terminate)
            ended = await stamped(linphone.wait_ended, 10.0)
            await dut.call_state("Ended", timeout=10)
            await asyncio.sleep(0.2)
    finally:
        await blocking(linphone.stop)  # "quit" closes linphone's recording
    assert codec == "PCMU", f"portier sends {codec}"
    (portier_heard,) = sorted(portier_rec.glob("*.wav"))
    print(f"portier talked {clock.talk:.3f} s, linphone {ended - connected:.3f} s")
    print("portier heard", assert_tone(portier_heard, LINPHONE_HZ, duration=clock.talk))
    print("linphone heard", assert_tone(linphone.record_wav, PORTIER_HZ, duration=ended - connected))


async def test_linphonec_calls_portier_and_both_hear_the_other(tmp_path: Path) -> None:
    async def start(dut: RunningDevice, linphone: Linphone) -> None:
        linphone.call(f"sip:door@127.0.0.1:{dut.sip_port}")

    await talk(tmp_path, start, portier_hangs_up=False)


async def test_portier_calls_linphonec_and_both_hear_the_other(tmp_path: Path) -> None:
    async def start(dut: RunningDevice, linphone: Linphone) -> None:
        await dut.calls.dial(linphone.uri, agent=dut.sip.agent())

    await talk(tmp_path, start, portier_hangs_up=True)
