"""Two portier devices call each other directly (P2P): audio both ways, hold/resume, DTMF, hangup."""

from __future__ import annotations

import asyncio
from pathlib import Path

from portier.phone.calls import CallManager
from portier.settings.document import find
from portier.settings.values import from_text

from .audio_check import analyse
from .device import running_device


def peak_hz(directory: Path) -> float:
    (path,) = list(directory.glob("*.wav"))
    return analyse(path).peak_hz


async def test_call_hold_resume_dtmf_and_hangup(tmp_path: Path) -> None:
    a_rec, b_rec = tmp_path / "a-rec", tmp_path / "b-rec"
    a_device = running_device(
        tmp_path / "a", {"RTP Initial Port": 21000}, audio_in="tone:440", audio_out=f"wav:{a_rec}"
    )
    b_device = running_device(
        tmp_path / "b", {"RTP Initial Port": 22000}, audio_in="tone:1000", audio_out=f"wav:{b_rec}"
    )
    async with a_device as a, b_device as b:
        await a.calls.dial(f"sip:door@127.0.0.1:{b.sip_port}", agent=a.sip.agent())
        await a.call_state("Talking")
        await b.call_state("Talking")
        await asyncio.sleep(1.5)
        mark_a, mark_b = len(a.events.events), len(b.events.events)
        await a.calls.hold()
        await b.call_state("Held", after=mark_b)
        await a.call_state("Held", after=mark_a)
        await a.calls.hold(resume=True)
        await b.call_state("Talking", after=mark_b)
        await a.calls.send_dtmf("5")
        await asyncio.sleep(0.5)
        assert b.digits() == "5"
        b.device.settings.update({find("P2P DTMF Mode"): from_text(find("P2P DTMF Mode"), "SIP_INFO")})
        await a.calls.send_dtmf("#")
        await asyncio.sleep(0.3)
        assert b.digits() == "5#"
        await a.calls.hangup()
        ended = await b.call_state("Ended")
        assert ended.reason == "remote hangup"
        assert a.calls.calls == {} and b.calls.calls == {}  # ended calls are dropped, not kept for ever
    assert abs(peak_hz(a_rec) - 1000) < 10
    assert abs(peak_hz(b_rec) - 440) < 4.4


def test_p2p_prefix_turns_a_short_number_into_an_address() -> None:
    from portier.settings.document import with_values
    from portier.settings.schema import Settings

    settings = with_values(Settings(), {find("P1 IP Dial Prefix"): "127.0.0."})
    uri, endpoint = CallManager._target(None, "#160", None, settings)  # type: ignore[arg-type]
    assert uri == "sip:127.0.0.160" and (endpoint.host, endpoint.port) == ("127.0.0.160", 5060)
