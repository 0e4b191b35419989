"""Where a call's audio comes from and goes to: sound cards, WAV files, tones, silence (manual 7.x, 9.16).

A source hands out one frame of int16 mono samples at the call's audio rate each ptime; a sink takes
one. A WAV source loops its file (a door station's test announcement), a WAV sink records each call
to its own file, a tone source plays a frequency, null is silence. Sound cards (PortAudio through
sounddevice, ``soundcard.py``) sit behind the same two methods. Files at another rate are resampled
once, on open.

Volumes (Media page: Speakerphone Volume, Speakerphone Ring Volume, Hands-free microphone gain, all
1-9) are gains in dB, 3 dB a step: the speaker and ring volumes are unity at their default 5 (so
-12 dB at 1, +12 dB at 9), the microphone gain is unity at its default 3 (-6 dB at 1, +18 dB at 9), so
a device left on defaults plays and sends audio at the level it was made. ``GainSource`` and
``GainSink`` read their gain once per frame, so a changed setting is heard on the next frame.
"""

from __future__ import annotations

import functools
import math
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]


VOLUME_STEP_DB = 3.0
SPEAKER_UNITY = 5
"""Speakerphone (ring) volume that plays audio unchanged: the settings' default."""
MICROPHONE_UNITY = 3
"""Hands-free microphone gain that sends audio unchanged: the setting's default."""


class AudioError(Exception):
    """A source or sink that cannot be opened, with the reason a person can act on."""


class Source(Protocol):
    def read(self, count: int) -> Samples:
        """The next ``count`` samples. The frame may be a read-only view of the source's own audio
        (a tone table, a looped file): a caller that changes samples copies the frame first."""
        ...

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


class StreamResampler:
    """Linear interpolation across frame boundaries, for audio that arrives frame by frame.

    ``resample`` on each frame alone would restart the interpolation at every frame (a click every
    20 ms); this keeps the last sample and the fractional position, so the joined output is the same
    as resampling the whole stream at once."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate, self.to_rate = from_rate, to_rate
        self._step = from_rate / to_rate
        self._previous = 0.0
        self._position = 1.0  # in the chunk [previous, *new]: the first output is the first new sample

    def __call__(self, samples: Samples) -> Samples:
        if self.from_rate == self.to_rate or samples.size == 0:
            return samples
        chunk = np.concatenate(([self._previous], samples.astype(np.float64)))
        last = chunk.size - 1
        count = max(0, int(np.floor((last - self._position) / self._step)) + 1)
        positions = self._position + self._step * np.arange(count)
        out = np.interp(positions, np.arange(chunk.size), chunk)
        self._position += self._step * count - last
        self._previous = float(chunk[-1])
        return _to_int16(out)


def _to_int16(samples: npt.NDArray[np.float64]) -> Samples:
    result: Samples = np.clip(np.round(samples), -32768, 32767).astype(np.int16)
    return result


def volume_db(step: int, unity: int = SPEAKER_UNITY) -> float:
    """The gain of a 1-9 volume setting: ``VOLUME_STEP_DB`` per step from ``unity`` (0 dB)."""
    if not 1 <= step <= 9:
        raise ValueError(f"a volume is 1-9, got {step}")
    return (step - unity) * VOLUME_STEP_DB


def microphone_db(step: int) -> float:
    """The gain of Hands-free microphone gain 1-9 (unity at the default 3)."""
    return volume_db(step, MICROPHONE_UNITY)


def apply_gain(samples: Samples, db: float) -> Samples:
    """``samples`` louder by ``db`` dB, clipped to int16 (never wrapped around)."""
    if db == 0 or samples.size == 0:
        return samples
    return _to_int16(samples.astype(np.float64) * 10.0 ** (db / 20.0))


Gain = Callable[[], float]
"""The current gain in dB, asked once per frame so a changed setting applies at once."""

_Document = TypeVar("_Document")


def gain_of(current: Callable[[], _Document], gain: Callable[[_Document], float]) -> Gain:
    """A ``Gain`` that is ``gain(current())``, worked out again only when ``current()`` changes.

    For gains that come from the settings: a stream asks for its gain on every frame, and settings
    change as whole new documents (``SettingsStore.replace``), so "is the document still the one the
    gain came from" is one identity test, where reading the setting again costs a chain of model
    lookups and a dB conversion 50 times a second per direction.
    """
    seen: _Document | None = None
    value = 0.0

    def now() -> float:
        nonlocal seen, value
        document = current()
        if document is not seen:
            value, seen = gain(document), document
        return value

    return now


@dataclass
class GainSource:
    """A source whose frames are made louder or quieter by ``gain`` (the microphone gain)."""

    source: Source
    gain: Gain

    def read(self, count: int) -> Samples:
        return apply_gain(self.source.read(count), self.gain())

    def close(self) -> None:
        self.source.close()


@dataclass
class GainSink:
    """A sink that hears frames louder or quieter by ``gain`` (the speakerphone volume)."""

    sink: Sink
    gain: Gain

    def write(self, samples: Samples) -> None:
        self.sink.write(apply_gain(samples, self.gain()))

    def close(self) -> None:
        self.sink.close()


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
class LoopSource:
    """Plays ``samples`` over and over (a WAV announcement, an uploaded ringtone)."""

    samples: Samples
    _pos: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.samples.size == 0:
            raise AudioError("there is no audio to play")
        if self.samples.flags.writeable:  # frames are views of it: nobody may write into them
            frozen = self.samples.view()
            frozen.flags.writeable = False
            self.samples = frozen

    def read(self, count: int) -> Samples:
        """The next ``count`` samples: a read-only view when they lie in one piece, else a copy."""
        if self._pos + count <= self.samples.size:
            start, self._pos = self._pos, (self._pos + count) % self.samples.size
            return self.samples[start : start + count]
        out = np.empty(count, dtype=np.int16)
        filled = 0
        while filled < count:
            take = min(count - filled, self.samples.size - self._pos)
            out[filled : filled + take] = self.samples[self._pos : self._pos + take]
            filled += take
            self._pos = (self._pos + take) % self.samples.size
        return out

    def close(self) -> None:
        return None


class WavSource(LoopSource):
    """Loops a WAV file forever."""

    def __init__(self, path: Path, rate: int) -> None:
        self.path, self.rate = path, rate
        samples = read_wav(path, rate)
        if samples.size == 0:
            raise AudioError(f"{path}: the WAV file holds no audio")
        super().__init__(samples)


@dataclass
class ToneSource:
    """A continuous sine at ``frequency`` Hz and ``level`` dBFS, phase-continuous across frames.

    Why a table: a tone repeats after ``rate / gcd(frequency, rate)`` samples (200 for 440 Hz at
    8 kHz), so its samples are worked out once per tone and each frame is a slice of the table,
    instead of a sine of every sample 50 times a second. The table holds the same values the sine
    gives (sample ``n`` is sample ``n mod period``), and a frame is a read-only view of it, not a
    copy: a call reads the source 50 times a second, each time on cold caches, where every numpy call
    counts (bench/README.md, CPU per call). A tone whose period is longer than a second, or a read
    longer than the table's spare, is computed sample by sample as before.
    """

    frequency: float
    rate: int
    level: float = -10.0
    _phase: int = 0
    _table: tuple[int, Samples] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._table = _tone_table(self.frequency, self.rate, self.level)

    def read(self, count: int) -> Samples:
        table = self._table
        if table is not None:
            period, samples = table
            start = self._phase % period
            if start + count <= samples.size:
                self._phase += count
                return samples[start : start + count]
        n = np.arange(self._phase, self._phase + count)
        self._phase += count
        return _sine(self.frequency, self.rate, self.level, n)

    def close(self) -> None:
        return None


MAX_TONE_PERIOD_S = 1.0
TONE_SPARE = 4096
"""Samples a tone table holds beyond one period: the longest read served by one slice (85 ms at 48 kHz)."""


def _sine(frequency: float, rate: int, level: float, n: npt.NDArray[np.int64]) -> Samples:
    amplitude = 32767 * 10 ** (level / 20)
    wave_ = amplitude * np.sin(2 * math.pi * frequency * n / rate)
    result: Samples = np.round(wave_).astype(np.int16)
    return result


@functools.lru_cache(maxsize=32)
def _tone_table(frequency: float, rate: int, level: float) -> tuple[int, Samples] | None:
    """(period, one period and ``TONE_SPARE`` samples more) of a tone; None when the period is too long."""
    period = (Fraction(frequency) / rate).denominator if rate > 0 and math.isfinite(frequency) else 0
    if not 0 < period <= MAX_TONE_PERIOD_S * rate:
        return None
    samples = _sine(frequency, rate, level, np.arange(period + TONE_SPARE, dtype=np.int64))
    samples.flags.writeable = False
    return period, samples


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
    """What the command line chose: ``null``, ``tone:440``, ``wav:/path/file.wav`` (a source),
    ``wav:/dir/`` (a sink records one file per call there), ``sound`` (the default sound card) or
    ``sound:NAME`` / ``sound:INDEX`` (a PortAudio device, as ``python -m sounddevice`` lists them)."""

    kind: str
    argument: str = ""

    @classmethod
    def parse(cls, text: str) -> AudioSpec:
        kind, _, argument = text.partition(":")
        kind = kind.strip().lower()
        if kind not in ("null", "tone", "wav", "sound"):
            raise AudioError(
                f"unknown audio {text!r}: use null, tone:FREQUENCY, wav:PATH, sound or sound:DEVICE"
            )
        if kind == "tone":
            try:
                float(argument)
            except ValueError:
                raise AudioError(f"tone needs a frequency in Hz, e.g. tone:440, got {text!r}") from None
        if kind == "wav" and not argument:
            raise AudioError("wav needs a path, e.g. wav:/tmp/announcement.wav")
        return cls(kind, argument.strip() if kind == "sound" else argument)

    def __str__(self) -> str:
        return f"{self.kind}:{self.argument}" if self.argument else self.kind

    def source(self, rate: int, gain: Gain | None = None) -> Source:
        """A new source at ``rate``; ``gain`` (dB, read every frame) is the microphone gain."""
        source: Source
        if self.kind == "tone":
            source = ToneSource(float(self.argument), rate)
        elif self.kind == "wav":
            source = WavSource(Path(self.argument), rate)
        elif self.kind == "sound":
            from .soundcard import open_input

            source = open_input(self.argument, rate)
        else:
            return NullSource()
        return GainSource(source, gain) if gain is not None else source

    def sink(self, rate: int, call_name: str, gain: Gain | None = None) -> Sink:
        """A new sink at ``rate`` named after the call (a WAV directory records ``call_name``.wav; a
        sound card mixes it with whatever else plays); ``gain`` (dB, read every frame) is the volume."""
        sink: Sink
        if self.kind == "wav":
            sink = WavSink(Path(self.argument) / f"{call_name}.wav", rate)
        elif self.kind == "sound":
            from .soundcard import open_output

            sink = open_output(self.argument, rate)
        else:
            return NullSink()
        return GainSink(sink, gain) if gain is not None else sink
