"""Intercom calls (manual 8.1, Tables 6 and 17; issue 5 section 1) from SIPp, with auto answer off.

Every way a caller asks for auto-answer is sent by SIPp (``scenarios/intercom_uac.xml``, the header as
a key): the call is answered after the delay the header asked for, measured between SIPp's own trace
timestamps of its INVITE and of the 200 (0 s or 3 s, +-0.3 s). The same INVITE without the header
rings until "No Answer Auto HangUp Timeout" (480); with "Enable Intercom" off the header is ignored.
"Enable Intercom Tone" plays the intercom tone (a file under ``tones/``) and never the ring. With
Intercom Barge, a second intercom call during an intercom call is refused 486 (barging into a normal
call is ``test_call_waiting.py``'s).
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path

import pytest

from portier.events import CallStateChanged

from .device import RunningDevice, running_device
from .sipp import SippResult, free_port, run_sipp, scenario
from .test_calls_prack import door_line
from .test_calls_sipp import assert_sipp_ok
from .test_tones_sipp import mono, peaks, tone_files, tones_idle

TOLERANCE_S = 0.3
ORDINARY = "Subject: an ordinary call"

VARIANTS = [
    ("Call-Info: <sip:127.0.0.1>;answer-after=0", "", 0.0),
    ("Call-Info: <sip:127.0.0.1>;answer-after=3", "", 3.0),
    ("Alert-Info: <http://127.0.0.1/intercom>;info=alert-autoanswer", "", 0.0),
    ("Alert-Info: <http://127.0.0.1/intercom>;info=alert-autoanswer;delay=3", "", 3.0),
    ("Alert-Info: Ring Answer", "", 0.0),
    ("Alert-Info: auto answer", "", 0.0),
    ("Answer-Mode: Auto", "", 0.0),
    (ORDINARY, ";intercom=true", 0.0),
]


def no_auto_answer(**extra: object) -> dict[str, object]:
    return door_line(**{"SIP1 Auto Answer": 0, **extra})


async def intercom_call(
    dut: RunningDevice,
    tmp_path: Path,
    header: str,
    uri_params: str = "",
    *,
    name: str = "intercom_uac",
    hold_ms: int = 300,
    timeout: float = 15,
) -> SippResult:
    return await asyncio.to_thread(
        run_sipp,
        scenario(name),
        remote=f"127.0.0.1:{dut.sip_port}",
        extra=["-s", "door", "-mp", str(free_port("udp")), "-d", str(hold_ms)],
        keys={"intercom_header": header, "uri_params": uri_params},
        timeout=timeout,
        workdir=tmp_path / "sipp",
    )


_STAMP = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$", re.MULTILINE)


def trace(result: SippResult) -> list[tuple[datetime, str, str]]:
    """(time, "sent"/"received", message) for every message in SIPp's trace, in order."""
    pieces = _STAMP.split(result.messages_log)
    found = []
    for stamp, chunk in zip(pieces[1::2], pieces[2::2], strict=True):
        head, _, message = chunk.strip("\r\n").partition("\n")
        direction = "sent" if " message sent " in head else "received"
        found.append((datetime.fromisoformat(stamp), direction, message.strip("\r\n")))
    return found


def answer_delay(result: SippResult) -> float:
    """Seconds from SIPp's first INVITE to the 200 that answered it, by SIPp's own clock."""
    messages = trace(result)
    sent = next(at for at, way, text in messages if way == "sent" and text.startswith("INVITE "))
    answered = next(
        at for at, way, text in messages
        if way == "received" and text.startswith("SIP/2.0 200") and "CSeq: 1 INVITE" in text
    )  # fmt: skip
    return (answered - sent).total_seconds()


def final_status(result: SippResult) -> int:
    codes = [int(text[8:11]) for _, way, text in trace(result) if way == "received" and text[8:9] in "3456"]
    assert codes, result.explain()
    return codes[-1]


def call_states(dut: RunningDevice) -> list[tuple[str, str]]:
    return [(e.state, e.reason) for e in dut.events.events if isinstance(e, CallStateChanged)]


@pytest.mark.parametrize(("header", "uri_params", "delay"), VARIANTS)
async def test_each_intercom_request_is_answered_after_its_delay(
    tmp_path: Path, header: str, uri_params: str, delay: float
) -> None:
    recordings = tmp_path / "audio"
    async with running_device(tmp_path / "dut", no_auto_answer(), audio_out=f"wav:{recordings}") as dut:
        result = await intercom_call(dut, tmp_path, header, uri_params)
        assert_sipp_ok(result)
        waited = answer_delay(result)
        assert abs(waited - delay) <= TOLERANCE_S, f"{header}{uri_params}: answered after {waited:.3f} s"
        await dut.call_state("Ended")
        await tones_idle(dut)
        assert [state for state, _ in call_states(dut)] == ["Ringing", "Talking", "Ended"]
    assert not tone_files(recordings, "ring"), "an intercom call must not ring"
    (tone,) = tone_files(recordings, "intercom")
    rate, samples = mono(tone)
    assert peaks(samples, rate, 1) == pytest.approx([1000.0], rel=0.01), "the intercom tone is 1 kHz"


async def test_the_same_call_without_the_header_rings_until_the_no_answer_timeout(tmp_path: Path) -> None:
    recordings = tmp_path / "audio"
    values = no_auto_answer(**{"P1 Call Timeout": 2})
    async with running_device(tmp_path / "dut", values, audio_out=f"wav:{recordings}") as dut:
        result = await intercom_call(dut, tmp_path, ORDINARY, name="intercom_uac_refused")
        assert_sipp_ok(result)
        assert final_status(result) == 480
        assert not any(text.startswith("SIP/2.0 200") for _, _, text in trace(result))
        await dut.call_state("Ended")
        await tones_idle(dut)
        assert call_states(dut) == [("Ringing", ""), ("Ended", "no answer")]
    assert tone_files(recordings, "ring"), "an ordinary call rings"
    assert not tone_files(recordings, "intercom")


async def test_with_intercom_off_the_header_is_an_ordinary_call(tmp_path: Path) -> None:
    values = no_auto_answer(**{"P1 Call Timeout": 2, "P1 Enable Intercom": 0})
    async with running_device(tmp_path / "dut", values) as dut:
        header = "Call-Info: <sip:127.0.0.1>;answer-after=0"
        result = await intercom_call(dut, tmp_path, header, name="intercom_uac_refused")
        assert_sipp_ok(result)
        assert final_status(result) == 480


async def test_intercom_tone_off_answers_silently(tmp_path: Path) -> None:
    recordings = tmp_path / "audio"
    values = no_auto_answer(**{"P1 Intercom Tone": 0})
    async with running_device(tmp_path / "dut", values, audio_out=f"wav:{recordings}") as dut:
        assert_sipp_ok(await intercom_call(dut, tmp_path, "Answer-Mode: Auto"))
        await dut.call_state("Ended")
        await tones_idle(dut)
    assert not tone_files(recordings, "intercom") and not tone_files(recordings, "ring")


async def test_a_second_intercom_call_during_an_intercom_call_is_busy(tmp_path: Path) -> None:
    values = no_auto_answer(**{"P1 Intercom Barge": 1})
    header = "Call-Info: <sip:127.0.0.1>;answer-after=0"
    async with running_device(tmp_path / "dut", values) as dut:
        first = asyncio.create_task(intercom_call(dut, tmp_path, header, hold_ms=3000))
        talking = await dut.call_state("Talking")
        second = await intercom_call(dut, tmp_path, header, name="intercom_uac_refused")
        assert_sipp_ok(second)
        assert final_status(second) == 486
        assert dut.calls.calls[talking.call_id].state == "Talking", "the first intercom call goes on"
        assert_sipp_ok(await asyncio.wait_for(first, 20))
        await dut.call_state("Ended")
