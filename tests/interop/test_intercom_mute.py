"""Intercom Mute (manual 8.1, Table 6 / Table 17 "Enable Intercom Mute") heard at the far end.

The device's microphone is a 440 Hz tone (``--audio-in tone:440``). SIPp calls with
``Call-Info: ...;answer-after=0`` and auto answering off, so only the intercom rule answers; the SDP
sends the device's RTP to the test's own socket (``rtp_capture.py``), which decodes the PCMU it gets.
In portier, mute is the microphone at -200 dB: RTP keeps flowing (the far end's jitter buffer and
NAT bindings stay alive), and every packet carries silence. With Intercom Mute off the intercom call
carries the tone, and with it on an ordinary (non-intercom) call still does: the mute is for
intercom calls only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from .audio_check import analyse, assert_tone
from .device import RunningDevice, running_device
from .rtp_capture import PCMU, RtpCapture
from .sipp import SippResult, free_port, run_sipp, scenario
from .test_calls_sipp import assert_sipp_ok

TONE_HZ = 440.0
CALL_MS = 2500
INTERCOM = "Call-Info: <sip:127.0.0.1>;answer-after=0"
ORDINARY = "Subject: an ordinary call"


async def call_with_media(dut: RunningDevice, tmp_path: Path, header: str, rtp: RtpCapture) -> SippResult:
    """SIPp calls the device with ``header``; the device's RTP goes to ``rtp``. SIPp hangs up."""
    return await asyncio.to_thread(
        run_sipp,
        scenario("intercom_uac_rtp"),
        remote=f"127.0.0.1:{dut.sip_port}",
        extra=["-mp", str(free_port("udp")), "-d", str(CALL_MS)],
        keys={"intercom_header": header, "rtp_port": str(rtp.port)},
        timeout=20,
        workdir=tmp_path / "sipp",
    )


@pytest.mark.parametrize(
    ("mute", "header", "heard"),
    [
        pytest.param(1, INTERCOM, False, id="intercom-muted"),
        pytest.param(0, INTERCOM, True, id="intercom-not-muted"),
        pytest.param(1, ORDINARY, True, id="ordinary-call-not-muted"),
    ],
)
async def test_intercom_mute_silences_the_microphone_of_intercom_calls(
    tmp_path: Path, mute: int, header: str, heard: bool
) -> None:
    intercom = header == INTERCOM
    values = {"P1 Intercom Mute": mute, "P2P Auto Answer": 0 if intercom else 1}
    async with (
        RtpCapture() as rtp,
        running_device(tmp_path / "dut", values, audio_in=f"tone:{TONE_HZ:g}") as dut,
    ):
        result = await call_with_media(dut, tmp_path, header, rtp)
        assert_sipp_ok(result)
        ended = await dut.call_state("Ended")
        assert ended.reason == "remote hangup"
        talking = await dut.call_state("Talking")
        assert talking.call_id == ended.call_id, "answered: by the intercom rule, auto answer being off"
    packets = rtp.of(PCMU)
    seconds = len(packets) * 0.02
    assert seconds >= 0.8 * CALL_MS / 1000, (
        f"only {len(packets)} PCMU packets ({seconds:.2f} s) for a {CALL_MS} ms call: RTP must keep flowing"
    )
    recording = rtp.write_wav(tmp_path / "received.wav")
    if heard:
        report = assert_tone(recording, TONE_HZ, min_active=0.8 * CALL_MS / 1000)
        assert report.level_dbfs > -30, f"the tone arrives too quietly: {report}"
    else:
        report = analyse(recording)
        peak = float(np.max(np.abs(rtp.audio())))
        assert report.active_s == 0.0 and peak < 10 ** (-60 / 20), (
            f"a muted intercom call sent sound: peak {20 * np.log10(max(peak, 1e-12)):.1f} dBFS; {report}"
        )
