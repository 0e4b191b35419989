"""Where a call's audio comes from and goes to: WAV files, tones, silence (manual 7.x, 9.16).

A source hands out one frame of int16 mono samples at the call's audio rate each ptime; a sink takes
one. A WAV source loops its file (a door station's test announcement), a WAV sink records each call
to its own file, a tone source plays a frequency, null is silence. Sound cards (PortAudio through
sounddevice) sit behind the same two methods. Files at another rate are resampled once, on open.
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]


class AudioError(Exception):
    """A source or sink that cannot be opened, with the reason a person can act on."""


class Source(Protocol):
    def read(self, count: int) -> Samples: ...

    def close(self) -> None: ...


class Sink(Protocol):
    def write(self, samples: Samples) -> None: ...

    def close(self) -> None: ...


def resample(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """Linear interpolation: good enough for announcements and tests, and exact when rates match."""
    if from_rate == to_rate or samples.size == 0:
        return samples
    count = round(samples.size * to_rate / from_rate)
    positions = np.arange(count) * (from_rate / to_rate)
    out = np.interp(positions, np.arange(samples.size), samples.astype(np.float64))
    result: Samples = np.clip(np.round(out), -32768, 32767).astype(np.int16)
    return result


def read_wav(path: Path, rate: int) -> Samples:
    """A WAV file as mono int16 at ``rate`` (channels averaged)."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, file_rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise AudioError(f"cannot read WAV file {path}: {exc}") from exc
    if width != 2:
        raise AudioError(f"{path}: only 16-bit PCM WAV files are supported, not {8 * width}-bit")
    data = np.frombuffer(raw, dtype="<i2")
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1).round().astype(np.int16)
    return resample(data.astype(np.int16), file_rate, rate)


@dataclass
class WavSource:
    """Loops a WAV file forever."""

    path: Path
    rate: int
    _samples: Samples = field(init=False)
    _pos: int = 0

    def __post_init__(self) -> None:
        self._samples = read_wav(self.path, self.rate)
        if self._samples.size == 0:
            raise AudioError(f"{self.path}: the WAV file holds no audio")

    def read(self, count: int) -> Samples:
        out = np.empty(count, dtype=np.int16)
        filled = 0
        while filled < count:
            take = min(count - filled, self._samples.size - self._pos)
            out[filled : filled + take] = self._samples[self._pos : self._pos + take]
            filled += take
            self._pos = (self._pos + take) % self._samples.size
        return out

    def close(self) -> None:
        return None


@dataclass
class ToneSource:
    """A continuous sine at ``frequency`` Hz and ``level`` dBFS, phase-continuous across frames."""

    frequency: float
    rate: int
    level: float = -10.0
    _phase: int = 0

    def read(self, count: int) -> Samples:
        amplitude = 32767 * 10 ** (self.level / 20)
        n = np.arange(self._phase, self._phase + count)
        self._phase += count
        wave_ = amplitude * np.sin(2 * math.pi * self.frequency * n / self.rate)
        return np.round(wave_).astype(np.int16)

    def close(self) -> None:
        return None


class NullSource:
    def read(self, count: int) -> Samples:
        return np.zeros(count, dtype=np.int16)

    def close(self) -> None:
        return None


@dataclass
class WavSink:
    """Records everything written to a mono 16-bit WAV file (closed, and so readable, on close)."""

    path: Path
    rate: int
    _wav: wave.Wave_write | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - kept open for the whole call
        except OSError as exc:
            raise AudioError(f"cannot record to {self.path}: {exc}") from exc
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(self.rate)
        self._wav = wav

    def write(self, samples: Samples) -> None:
        if self._wav is not None:
            self._wav.writeframes(samples.astype("<i2").tobytes())

    def close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None


class NullSink:
    def write(self, samples: Samples) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class AudioSpec:
    """What the command line or settings chose: ``null``, ``tone:440``, ``wav:/path/file.wav`` (a source),
    ``wav:/dir/`` (a sink records one file per call there)."""

    kind: str
    argument: str = ""

    @classmethod
    def parse(cls, text: str) -> AudioSpec:
        kind, _, argument = text.partition(":")
        kind = kind.strip().lower()
        if kind not in ("null", "tone", "wav"):
            raise AudioError(f"unknown audio {text!r}: use null, tone:FREQUENCY or wav:PATH")
        if kind == "tone":
            try:
                float(argument)
            except ValueError:
                raise AudioError(f"tone needs a frequency in Hz, e.g. tone:440, got {text!r}") from None
        if kind == "wav" and not argument:
            raise AudioError("wav needs a path, e.g. wav:/tmp/announcement.wav")
        return cls(kind, argument)

    def source(self, rate: int) -> Source:
        if self.kind == "tone":
            return ToneSource(float(self.argument), rate)
        if self.kind == "wav":
            return WavSource(Path(self.argument), rate)
        return NullSource()

    def sink(self, rate: int, call_name: str) -> Sink:
        if self.kind == "wav":
            return WavSink(Path(self.argument) / f"{call_name}.wav", rate)
        return NullSink()
