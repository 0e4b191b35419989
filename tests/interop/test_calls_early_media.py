"""Early media (issue: Calls and media): portier calls SIPp, which answers 183 with SDP and plays speech
for 3 s before its 200. The recording must hold that very speech before the answer, proven by
correlating it with the capture SIPp played, and the 200 must carry the same stream on (one recording).
Hanging up during early media CANCELs the INVITE.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from portier.events import CallStateChanged

from .audio_check import Samples, analyse, read_wav
from .conftest import SippServerFactory
from .device import running_device
from .sipp import free_port, scenario
from .test_calls_sipp import SPEECH, active_span, alaw_decode, assert_sipp_ok, rtp_payloads

RATE = 8000


def best_match(recording: Samples, piece: Samples) -> tuple[float, int]:
    """The highest normalised correlation of ``piece`` against ``recording`` and where it is (samples)."""
    window = len(piece)
    scores = np.correlate(recording, piece, mode="valid")
    energy = np.sqrt(np.convolve(recording**2, np.ones(window), mode="valid"))
    normalised = scores / (np.maximum(energy, 1e-9) * float(np.linalg.norm(piece)))
    at = int(np.argmax(normalised))
    return float(normalised[at]), at


async def test_183_with_sdp_plays_before_the_200(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    assert SPEECH.is_file(), f"SIPp's capture {SPEECH} is missing: install sip-tester"
    server = sipp_server_factory(
        scenario("call_uas_early_media"), extra=["-mp", str(free_port("udp")), "-d", "1500"], timeout=20
    )
    recordings = tmp_path / "recordings"
    async with running_device(tmp_path / "dut", {}, audio_out=f"wav:{recordings}") as dut:
        loop = asyncio.get_running_loop()
        seen: dict[str, float] = {}

        def note(event: CallStateChanged) -> None:
            seen.setdefault(event.state, loop.time())

        dut.device.bus.subscribe(CallStateChanged, note)
        call = await dut.calls.dial(f"sip:service@127.0.0.1:{server.port}", agent=dut.sip.agent())
        ended = await dut.call_state("Ended", timeout=15)
        assert ended.call_id == call.call_id and ended.reason == "remote hangup", ended
        result = await asyncio.to_thread(server.wait, 10)
    assert_sipp_ok(result)
    early = seen["Talking"] - seen["Alerting"]
    assert early >= 2.5, f"SIPp answered {early:.2f} s after the 183, not about 3 s; {seen}"

    files = sorted(recordings.glob("*.wav"))
    assert len(files) == 1, f"the 200 should keep the early stream, not start another: {files}"
    rate, _, frames = read_wav(files[0])
    assert rate == RATE
    recorded = frames.mean(axis=1)
    reference = np.concatenate([alaw_decode(p) for p in rtp_payloads(SPEECH)])
    start, _ = active_span(reference, RATE)
    piece = reference[int(start * RATE) : int((start + 1.0) * RATE)]  # the first second of speech
    before_answer = recorded[: int((early - 0.1) * RATE)]
    score, at = best_match(before_answer, piece)
    assert score > 0.8, f"the audio before the 200 is not the speech SIPp played (correlation {score:.2f})"
    assert (at + len(piece)) / RATE < early, "the matching speech came after the answer"
    report = analyse(files[0])
    assert report.active_start_s < 1.0, f"sound began {report.active_start_s:.2f} s into the call: {report}"
    assert report.active_end_s > early + 1.0, f"the speech stopped at the answer: {report}"


async def test_hanging_up_during_early_media_cancels_the_invite(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    server = sipp_server_factory(scenario("call_uas_cancelled"), extra=["-mp", str(free_port("udp"))])
    async with running_device(tmp_path / "dut", {}) as dut:
        await dut.calls.dial(f"sip:service@127.0.0.1:{server.port}", agent=dut.sip.agent())
        await dut.call_state("Alerting")
        await asyncio.sleep(0.3)
        assert await dut.calls.hangup()
        ended = await dut.call_state("Ended")
        assert ended.reason == "local hangup"
        result = await asyncio.to_thread(server.wait, 10)
        assert dut.calls.calls == {}
    assert_sipp_ok(result)
    assert "Talking" not in [e.state for e in dut.events.events if isinstance(e, CallStateChanged)]
