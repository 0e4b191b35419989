"""Tones and rings around real calls (issue 4, Audio): what the speaker plays, judged by its spectrum.

A running device records every tone playback to its own WAV file under ``<audio-out>/tones/``. SIPp
places and takes the calls: an unanswered incoming call must ring with the configured ring type at
the ring volume; an outgoing call that SIPp lets alert (180) must hear the country's ringback, and
after SIPp's 486 the busy tone; a second call during a talking call must get the call-waiting tone
and no ring. Frequencies are checked by FFT and cadences by the energy of 10 ms windows; the
cadence in a file is exact by construction, only the file's length follows the clock, and that is
checked loosely.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import numpy.typing as npt

from portier.events import CallStateChanged
from portier.phone.tone_player import TonePlayer

from .audio_check import read_wav
from .conftest import SippServerFactory
from .device import RunningDevice, running_device
from .sipp import free_port, run_sipp, scenario

Floats = npt.NDArray[np.float64]

ALERT_THEN_BUSY = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- UAS: ring (180) for 3.5 s, then refuse the call 486 Busy Here; the ACK is needed. -->
<scenario name="alert_then_busy">
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTagTone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="3500"/>
  <send>
    <![CDATA[

      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTagTone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
"""


# --- analysis ------------------------------------------------------------------------------------


def mono(path: Path) -> tuple[int, Floats]:
    rate, channels, frames = read_wav(path)
    assert channels == 1, f"{path}: {channels} channels"
    samples: Floats = frames[:, 0]
    return rate, samples


def peaks(samples: Floats, rate: int, count: int) -> list[float]:
    """The ``count`` strongest spectral peaks of the loud part (Hz, lowest first), 1 Hz resolution."""
    loud = samples[np.repeat(window_levels(samples, rate) > -40, rate // 100)[: samples.size]]
    spectrum = np.abs(np.fft.rfft(loud * np.hanning(loud.size), n=max(rate, loud.size)))
    freqs = np.fft.rfftfreq(max(rate, loud.size), 1 / rate)
    local = [i for i in range(1, spectrum.size - 1) if spectrum[i - 1] < spectrum[i] >= spectrum[i + 1]]
    strongest = sorted(local, key=lambda i: spectrum[i], reverse=True)[:count]
    return sorted(float(freqs[i]) for i in strongest)


def window_levels(samples: Floats, rate: int) -> Floats:
    """dBFS RMS of each 10 ms window."""
    size = rate // 100
    count = samples.size // size
    rms = np.sqrt(np.mean(samples[: count * size].reshape(count, size) ** 2, axis=1))
    levels: Floats = 20 * np.log10(np.maximum(rms, 1e-9))
    return levels


def bursts(samples: Floats, rate: int) -> list[tuple[float, float]]:
    """(start, end) in seconds of each stretch of 10 ms windows louder than -40 dBFS."""
    loud = window_levels(samples, rate) > -40
    found: list[tuple[float, float]] = []
    start: int | None = None
    for index, is_loud in enumerate([*loud.tolist(), False]):
        if is_loud and start is None:
            start = index
        elif not is_loud and start is not None:
            found.append((start / 100, index / 100))
            start = None
    return found


def assert_cadence(found: list[tuple[float, float]], expected: list[tuple[float, float]], what: str) -> None:
    """The first bursts start and end where the cadence says (within 20 ms, a window and rounding)."""
    assert len(found) >= len(expected), f"{what}: bursts {found}, expected at least {expected}"
    for (start, end), (want_start, want_end) in zip(found, expected, strict=False):
        assert abs(start - want_start) <= 0.02 and abs(end - want_end) <= 0.02, (
            f"{what}: bursts {found[: len(expected) + 1]}, expected {expected}"
        )


def near(found: list[float], wanted: list[float], what: str) -> None:
    assert len(found) == len(wanted) and all(
        abs(f - w) <= 0.01 * w for f, w in zip(found, wanted, strict=True)
    ), f"{what}: spectral peaks at {found} Hz, expected {wanted} Hz (+-1 %)"


def tone_files(recordings: Path, kind: str) -> list[Path]:
    return sorted((recordings / "tones").glob(f"{kind}-*.wav"))


async def tones_idle(dut: RunningDevice, timeout: float = 10.0) -> None:
    """Wait until the tone player has stopped every playback (and so closed every file)."""
    player = dut.device.service("tones")
    assert isinstance(player, TonePlayer)
    deadline = asyncio.get_running_loop().time() + timeout
    while player.playing is not None or player.alarms:
        assert asyncio.get_running_loop().time() < deadline, f"tones still playing {player.playing}"
        await asyncio.sleep(0.05)


async def sipp_uac(dut: RunningDevice, tmp_path: Path, name: str, hold_ms: int, timeout: float = 20) -> None:
    result = await asyncio.to_thread(
        run_sipp,
        scenario(name),
        remote=f"127.0.0.1:{dut.sip_port}",
        extra=["-mp", str(free_port("udp")), "-d", str(hold_ms)],
        timeout=timeout,
        workdir=tmp_path / "sipp",
    )
    assert result.ok, result.explain()


# --- tests ---------------------------------------------------------------------------------------


async def test_unanswered_call_rings_with_the_configured_ring_at_the_ring_volume(tmp_path: Path) -> None:
    """Auto answer off, Default Ring Type 2 (800 Hz, 400 on / 200 off / 400 on / 2000 off), ring volume
    7 (+6 dB): SIPp's call rings 4 s and is cancelled; one ring file holds exactly that ring. The ring
    volume turned down to 3 (-6 dB) while it rings is heard from the next frame on: the second cycle's
    burst is 12 dB quieter than the first ones."""
    recordings = tmp_path / "recordings"
    values = {"P2P Auto Answer": 0, "Ring Type": "Type 2", "HandFree Ring Vol": 7}
    async with running_device(tmp_path / "dut", values, audio_out=f"wav:{recordings}") as dut:
        caller = asyncio.create_task(sipp_uac(dut, tmp_path, "call_cancel", hold_ms=4000))
        await dut.call_state("Ringing")
        await asyncio.sleep(1.8)  # the first cycle's bursts are over (0.1 s grace + 1.0 s)
        await dut.set({"HandFree Ring Vol": 3})
        await caller
        await dut.call_state("Ended")
        await tones_idle(dut)
    files = tone_files(recordings, "ring")
    assert len(files) == 1, f"expected one ring file, found {list((recordings / 'tones').iterdir())}"
    assert not list(recordings.glob("*.wav")), "an unanswered call must leave no call recording"
    rate, samples = mono(files[0])
    near(peaks(samples, rate, 1), [800.0], "ring")
    found = bursts(samples, rate)
    assert_cadence(found, [(0.0, 0.4), (0.6, 1.0), (3.0, 3.4)], "ring Type 2")
    assert 3.5 <= samples.size / rate <= 5.0, (
        f"the ring lasted {samples.size / rate:.2f} s, the call rang 4 s"
    )
    levels = [level_of(samples[int(start * rate) : int(end * rate)]) for start, end in found[:3]]
    assert abs(levels[0] - (-10 - 3 + 6)) <= 1.0, f"ring at {levels} dBFS RMS, expected -7 (ring level +6 dB)"
    assert abs(levels[2] - levels[0] + 12) <= 1.0, f"bursts at {levels} dBFS: volume 7 -> 3 is -12 dB"


def level_of(samples: Floats) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples**2))))


async def test_outgoing_call_hears_the_countrys_ringback_then_busy(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    """Tone standard UK: SIPp alerts for 3.5 s (ringback 400+450 Hz, 400/200/400/2000 ms), then
    answers 486: the busy tone (400 Hz, 375 on / 375 off) follows for three seconds."""
    script = tmp_path / "alert_then_busy.xml"
    script.write_text(ALERT_THEN_BUSY)
    server = sipp_server_factory(script, timeout=20)
    recordings = tmp_path / "recordings"
    async with running_device(
        tmp_path / "dut", {"Select Your Tone": "UK"}, audio_out=f"wav:{recordings}"
    ) as dut:
        await dut.calls.dial(f"sip:service@127.0.0.1:{server.port}", agent=dut.sip.agent())
        ended = await dut.call_state("Ended", timeout=15)
        assert ended.reason.startswith("486"), ended
        await tones_idle(dut)
        result = await asyncio.to_thread(server.wait, 10)
    assert result.ok, result.explain()
    [ringback] = tone_files(recordings, "ringback")
    rate, samples = mono(ringback)
    near(peaks(samples, rate, 2), [400.0, 450.0], "ringback")
    assert_cadence(bursts(samples, rate), [(0.0, 0.4), (0.6, 1.0), (3.0, 3.4)], "UK ringback")
    assert 3.0 <= samples.size / rate <= 4.5, (
        f"ringback lasted {samples.size / rate:.2f} s, SIPp alerted 3.5 s"
    )
    [busy] = tone_files(recordings, "busy")
    rate, samples = mono(busy)
    near(peaks(samples, rate, 1), [400.0], "busy")
    assert_cadence(
        bursts(samples, rate), [(0.0, 0.375), (0.75, 1.125), (1.5, 1.875), (2.25, 2.625)], "UK busy"
    )
    assert abs(samples.size / rate - 3.0) <= 0.1, f"busy played {samples.size / rate:.2f} s, not 3 s"


async def test_second_call_during_a_call_gets_the_call_waiting_tone(tmp_path: Path) -> None:
    """A talking call (answered by hand), then a second call rings 1.5 s and is cancelled: the speaker
    plays the call-waiting tone (USA: 440 Hz, 300 ms every 10 s), not the second call's ring."""
    recordings = tmp_path / "recordings"
    async with running_device(tmp_path / "dut", {"P2P Auto Answer": 0}, audio_out=f"wav:{recordings}") as dut:
        first = asyncio.create_task(sipp_uac(dut, tmp_path, "call_uac_bye", hold_ms=6000))
        ringing = await dut.call_state("Ringing")
        assert dut.calls.answer(ringing.call_id)
        await dut.call_state("Talking")
        await sipp_uac(dut, tmp_path, "call_cancel", hold_ms=1500)
        await first
        await tones_idle(dut)
    second = next(
        e for e in dut.events.events if isinstance(e, CallStateChanged) and e.call_id != ringing.call_id
    )
    assert not [f for f in tone_files(recordings, "ring") if second.call_id.split("@")[0] in f.name]
    [waiting] = tone_files(recordings, "call-waiting")
    rate, samples = mono(waiting)
    near(peaks(samples, rate, 1), [440.0], "call waiting")
    assert_cadence(bursts(samples, rate), [(0.0, 0.3)], "USA call waiting")
    assert len(bursts(samples, rate)) == 1
