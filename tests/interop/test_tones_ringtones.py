"""Uploaded ringtones on a running device (manual 9.8 Upgrade: ringtone upload, WAV and MP3).

An MP3 made by PyAV's FFmpeg (a 660 Hz tone) is stored the way the web's upload will store it, chosen
as the Default Ring Type, and a SIPp call that nobody answers must ring with it: the ring file holds
660 Hz, looped for as long as the call rang. The door's alarm rings (``play_ring``) use the same
path; one plays a built-in type for a set time.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import av
import numpy as np
from av.audio.stream import AudioStream

from portier.media.ringtone import list_ringtones, store_ringtone
from portier.phone.tone_player import TonePlayer

from .device import running_device
from .test_tones_sipp import mono, near, peaks, sipp_uac, tone_files, tones_idle


def mp3_tone(frequency: float, seconds: float, rate: int = 44100) -> bytes:
    count = round(seconds * rate)
    samples = (12000 * np.sin(2 * np.pi * frequency * np.arange(count) / rate)).astype(np.int16)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate, layout="mono")
        assert isinstance(stream, AudioStream)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buffer.getvalue()


async def test_an_uploaded_mp3_rings_and_an_alarm_plays_for_its_time(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    async with running_device(tmp_path / "dut", {"P2P Auto Answer": 0}, audio_out=f"wav:{recordings}") as dut:
        name = await asyncio.to_thread(store_ringtone, dut.device.storage, "doorbell.mp3", mp3_tone(660, 0.7))
        assert "doorbell.mp3" in list_ringtones(dut.device.storage)
        await dut.set({"Ring Type": name})
        await sipp_uac(dut, tmp_path, "call_cancel", hold_ms=2000)
        await dut.call_state("Ended")
        player = dut.device.service("tones")
        assert isinstance(player, TonePlayer)
        await tones_idle(dut)
        player.play_ring("Type 5", 1.0)
        await tones_idle(dut)
    [ring] = tone_files(recordings, "ring")
    rate, samples = mono(ring)
    near(peaks(samples, rate, 1), [660.0], "uploaded ring")
    assert 1.5 <= samples.size / rate <= 3.0, (
        f"the ring lasted {samples.size / rate:.2f} s, the call rang 2 s"
    )
    [alarm] = tone_files(recordings, "alarm")
    rate, samples = mono(alarm)
    near(peaks(samples, rate, 1), [1400.0], "ring Type 5")
    assert abs(samples.size / rate - 1.0) <= 0.05, f"the alarm played {samples.size / rate:.2f} s, not 1 s"
