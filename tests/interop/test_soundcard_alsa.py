"""Sound cards for real (issue 4, Audio): PortAudio streams on ALSA devices that a test can hear.

This sandbox has no sound card, so the test makes ALSA devices of its own: an ALSA configuration
(``ALSA_CONFIG_PATH``) with a speaker whose samples go to a named pipe (the ``file`` plugin over the
``null`` PCM) and a microphone whose samples come from another pipe (``infile``). The test reads
the speaker pipe and feeds the microphone pipe at 48 kHz in real time, so the card runs at a real
card's pace: PortAudio's ALSA host API, its callback thread, portier's mixer and input ring all
work exactly as on a device with a loudspeaker and a microphone.

A ``portier run --audio-in sound:portier_mic --audio-out sound:portier_speaker`` is then called by
SIPp with RTP echo: the ring must come out of the speaker while the call rings, and once answered
the microphone's 700 Hz tone must travel to SIPp and back, and out of the speaker. The error paths
(no card, a card that does not exist, no sounddevice) are checked against this machine as it is.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import numpy.typing as npt
import pytest

from portier.media.audio import AudioError, AudioSpec
from portier.media.soundcard import find_card, list_cards

from .device_process import DeviceProcess
from .sipp import free_port, run_sipp, scenario

RATE = 48000
BURST = 2 * RATE // 10
"""Bytes the microphone pipe gets at once (100 ms). ALSA's file plugin fills a capture period with
whatever one read() returns and keeps stale samples in the rest, so few large writes (one short read
per burst) keep the microphone's audio nearly whole, where 10 ms writes would spoil a fifth of it."""
MIC_HZ = 700.0
RING_HZ = 800.0  # ring Type 2: 800/400,0/200,800/400,0/2000

Floats = npt.NDArray[np.float64]

CONFIG = """</usr/share/alsa/alsa.conf>
pcm.portier_speaker {{
    type plug
    slave {{ pcm {{ type file slave.pcm "null" file "{speaker}" format "raw" }}
             format S16_LE rate {rate} channels 1 }}
    hint {{ show on description "portier test speaker" }}
}}
"""
MIC = """pcm.portier_mic {{
    type plug
    slave {{ pcm {{ type file slave.pcm "null" file "/dev/null" infile "{mic}" format "raw" }}
             format S16_LE rate {rate} channels 1 }}
    hint {{ show on description "portier test microphone" }}
}}
"""


class PipeCard:
    """Two ALSA devices backed by named pipes, driven in real time by two threads of the test.

    The speaker pipe is held open for reading the whole time (so ALSA never waits to open it) and
    read at ``RATE`` samples a second; the microphone pipe gets a ``MIC_HZ`` tone at the same pace,
    reopened whenever its reader (PortAudio probing devices, then the stream) closed it."""

    def __init__(self, directory: Path, *, microphone: bool = True) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.speaker_path = directory / "speaker.fifo"
        self.mic_path = directory / "mic.fifo"
        self.config = directory / "asound.conf"
        text = CONFIG.format(speaker=self.speaker_path, rate=RATE)
        if microphone:
            text += MIC.format(mic=self.mic_path, rate=RATE)
        self.config.write_text(text)
        os.mkfifo(self.speaker_path)
        os.mkfifo(self.mic_path)
        self.heard = bytearray()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._listen, daemon=True)]
        if microphone:
            self._threads.append(threading.Thread(target=self._speak, daemon=True))

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _listen(self) -> None:
        fd = os.open(self.speaker_path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            start = time.monotonic()
            while not self._stop.is_set():
                due = start + len(self.heard) / 2 / RATE
                time.sleep(max(0.0, due - time.monotonic()))
                ready, _, _ = select.select([fd], [], [], 0.05)
                if not ready:
                    continue
                chunk = os.read(fd, 960)  # 10 ms
                if not chunk:  # no writer right now
                    time.sleep(0.01)
                    start = time.monotonic() - len(self.heard) / 2 / RATE
                    continue
                self.heard.extend(chunk)
        finally:
            os.close(fd)

    def _speak(self) -> None:
        n = np.arange(RATE)
        second = (8000 * np.sin(2 * np.pi * MIC_HZ * n / RATE)).astype("<i2").tobytes()
        while not self._stop.is_set():
            try:
                fd = os.open(self.mic_path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: nobody reads yet
                    raise
                time.sleep(0.01)
                continue
            os.set_blocking(fd, True)  # a full pipe holds the writer back: the reader sets the pace
            sent, start = 0, time.monotonic()
            try:
                while not self._stop.is_set():
                    time.sleep(max(0.0, start + sent / 2 / RATE - time.monotonic()))
                    offset = sent % len(second)
                    sent += os.write(fd, second[offset : offset + BURST])
            except BrokenPipeError:
                pass
            finally:
                os.close(fd)

    def samples(self) -> Floats:
        usable = len(self.heard) - len(self.heard) % 2
        result: Floats = np.frombuffer(bytes(self.heard[:usable]), dtype="<i2").astype(np.float64) / 32768
        return result


class SoundDevice(DeviceProcess):
    """``portier run`` with sound card audio (the environment carries ``ALSA_CONFIG_PATH``)."""

    audio: tuple[str, ...] = ()

    @property
    def argv(self) -> list[str]:
        return [*super().argv, *self.audio]


def dominant(samples: Floats, window_s: float = 0.1) -> list[float | None]:
    """The strongest frequency of each ``window_s`` window (None when quieter than -40 dBFS)."""
    size = round(window_s * RATE)
    found: list[float | None] = []
    for index in range(samples.size // size):
        part = samples[index * size : (index + 1) * size]
        if 20 * np.log10(max(float(np.sqrt(np.mean(part**2))), 1e-9)) < -40:
            found.append(None)
            continue
        spectrum = np.abs(np.fft.rfft(part * np.hanning(size), n=8 * size))
        found.append(float(np.argmax(spectrum) * RATE / (8 * size)))
    return found


def runs_of(found: list[float | None], frequency: float) -> list[tuple[int, int]]:
    """(first window, length) of each run of windows whose peak is within 2 % of ``frequency``."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for index, value in enumerate([*found, None]):
        hit = value is not None and abs(value - frequency) <= 0.02 * frequency
        if hit and start is None:
            start = index
        elif not hit and start is not None:
            runs.append((start, index - start))
            start = None
    return runs


async def test_ring_and_call_audio_go_through_a_real_portaudio_stream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Auto answer after 1 s: the speaker rings (800 Hz bursts), then plays the microphone's 700 Hz
    tone that went to SIPp and came back in RTP; both through one output stream and its mixer."""
    device = SoundDevice(tmp_path / "dut", limit=60)
    device.audio = ("--audio-in", "sound:portier_mic", "--audio-out", "sound:portier_speaker")
    device.configure({"P2P Auto Answer": 1, "P2P Auto Answer Delay": 1, "Ring Type": "Type 2"})
    with PipeCard(tmp_path / "card") as card:
        monkeypatch.setenv("ALSA_CONFIG_PATH", str(card.config))
        with device:
            result = await asyncio.to_thread(
                run_sipp,
                scenario("call_uac_bye"),
                remote=f"127.0.0.1:{device.port}",
                extra=["-rtp_echo", "-mp", str(free_port("udp")), "-d", "2500"],
                timeout=20,
                workdir=tmp_path / "sipp",
            )
            await asyncio.sleep(0.3)
            assert not device.tracebacks(), device.tracebacks()
            log = device.log
        samples = card.samples()
    assert result.ok, result.explain()
    assert "sound card output" in log and "sound card input" in log, log[-3000:]
    assert samples.size > 4 * RATE, f"the speaker played only {samples.size / RATE:.2f} s\n{log[-3000:]}"
    found = dominant(samples)
    rings = [run for run in runs_of(found, RING_HZ) if run[1] >= 3]
    echoes = [run for run in runs_of(found, MIC_HZ) if run[1] >= 15]
    heard = " ".join("-" if f is None else f"{f:.0f}" for f in found)
    assert rings, f"no 800 Hz ring burst of 300 ms or more on the speaker: {heard}"
    assert echoes, f"the microphone's 700 Hz never came back to the speaker for 1.5 s: {heard}"
    assert rings[0][0] < echoes[0][0], f"the echo came before the ring: {heard}"


def test_the_default_card_or_a_clear_error() -> None:
    """With no sound card (this sandbox) asking for the default one says so and how to look; on a
    machine with one, ``sound`` finds it. A name no card has is refused either way."""
    if any(card.outputs for card in list_cards()):
        assert find_card("", "output").outputs > 0
    else:
        with pytest.raises(AudioError, match="no default sound card output") as caught:
            find_card("", "output")
        assert "PortAudio finds no sound card output" in str(caught.value)
    with pytest.raises(AudioError, match="no sound card output is called 'no-such-card-x'"):
        AudioSpec.parse("sound:no-such-card-x").sink(8000, "call")


def test_an_unknown_card_lists_the_cards_there_are(tmp_path: Path) -> None:
    """``portier run --audio-out sound:nope`` refuses to start and lists the outputs it found."""
    with PipeCard(tmp_path / "card", microphone=False) as card:
        env = {**os.environ, "ALSA_CONFIG_PATH": str(card.config)}
        argv = [
            sys.executable,
            "-m",
            "portier",
            "run",
            "--data",
            str(tmp_path / "d"),
            "--audio-out",
            "sound:nope",
        ]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, check=False)
    assert run.returncode == 2, run
    assert "no sound card output is called 'nope'" in run.stderr, run.stderr
    assert "portier_speaker" in run.stderr, run.stderr


def test_without_sounddevice_the_error_says_what_to_install() -> None:
    """A Python where sounddevice cannot be imported (blocked in ``sys.modules``) names the package."""
    code = (
        "import sys; sys.modules['sounddevice'] = None\n"
        "from portier.media.audio import AudioError, AudioSpec\n"
        "try:\n    AudioSpec.parse('sound').source(8000)\n"
        "except AudioError as exc:\n    print(exc)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert "pip install sounddevice" in run.stdout, run
