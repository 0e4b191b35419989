"""Audio proven by analysis: write test tones, and judge a recording by its spectrum and its silences.

"A packet arrived" proves nothing about what a person hears. A recording passes when it holds the
tone that was sent (FFT peak within a relative tolerance), for as long as the call talked, without
silent holes. Silence is judged per 5 ms window: a window whose RMS is below -45 dBFS is silent.
A -10 dBFS test tone (-13 dBFS RMS) stays 30 dB above that through G.711, G.722, G.726 and opus,
while a lost packet played as silence leaves three or four silent windows per 20 ms, so a measured
gap is at most 10 ms shorter than the hole. Leading and trailing silence (a jitter buffer filling,
the far end starting late) is not a gap: it shortens the active part, which ``duration`` checks.

The reader takes what baresip's ``sndfile`` module writes (RIFF/WAVE, 16-bit PCM or 32-bit float,
one file per direction at the codec's rate, two channels for opus) and what linphone's file sound
card writes (16-bit PCM). It walks the RIFF chunks itself instead of using ``wave`` so that float
samples, WAVE_FORMAT_EXTENSIBLE and a data size left at 0 or 0xFFFFFFFF by a killed writer still read.
"""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

WINDOW_S = 0.005
SILENCE_DBFS = -45.0
MIN_REPORTED_GAP_S = 0.020

Samples = npt.NDArray[np.float64]

_PCM = 1
_FLOAT = 3
_EXTENSIBLE = 0xFFFE


class AudioFileError(ValueError):
    """The file is not a WAV this module can read; the message says what was found."""


@dataclass(frozen=True)
class AudioReport:
    """What a recording holds. Times are seconds from the file's start; ``gaps`` are the silent
    stretches (start, length) of at least 20 ms between ``active_start_s`` and ``active_end_s``."""

    path: Path
    rate: int
    channels: int
    duration_s: float
    active_start_s: float
    active_end_s: float
    peak_hz: float
    level_dbfs: float
    snr_db: float
    gaps: list[tuple[float, float]] = field(default_factory=list)

    @property
    def active_s(self) -> float:
        return max(0.0, self.active_end_s - self.active_start_s)

    @property
    def longest_gap_s(self) -> float:
        return max((length for _, length in self.gaps), default=0.0)

    def __str__(self) -> str:
        gaps = ", ".join(f"{start:.3f}s+{length * 1000:.0f}ms" for start, length in self.gaps[:8])
        if len(self.gaps) > 8:
            gaps += f", ... ({len(self.gaps)} in all)"
        return (
            f"{self.path.name}: {self.rate} Hz x{self.channels}, {self.duration_s:.3f} s in file, "
            f"active {self.active_start_s:.3f}-{self.active_end_s:.3f} s ({self.active_s:.3f} s), "
            f"peak {self.peak_hz:.1f} Hz at {self.level_dbfs:.1f} dBFS RMS, SNR {self.snr_db:.1f} dB, "
            f"gaps [{gaps}]"
        )


def make_tone_wav(
    path: Path,
    frequency: float,
    seconds: float,
    rate: int = 8000,
    level_dbfs: float = -10.0,
    channels: int = 1,
) -> Path:
    """Write a sine of ``frequency`` Hz, peak ``level_dbfs`` (so RMS 3 dB lower), 16-bit PCM."""
    if not 0 < frequency < rate / 2:
        raise ValueError(f"a {frequency} Hz tone cannot be sampled at {rate} Hz")
    count = round(seconds * rate)
    amplitude = 32767 * 10 ** (level_dbfs / 20)
    tone = amplitude * np.sin(2 * np.pi * frequency * np.arange(count) / rate)
    frames = np.repeat(np.round(tone).astype("<i2")[:, None], channels, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.tobytes())
    return path


def read_wav(path: Path) -> tuple[int, int, Samples]:
    """(rate, channels, samples) with samples as float64 in [-1, 1], shape (frames, channels)."""
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioFileError(f"{path} is not a RIFF/WAVE file ({len(data)} bytes, starts {data[:12]!r})")
    fmt: tuple[int, int, int, int] | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            tag, channels, rate = struct.unpack_from("<HHI", data, body)
            (bits,) = struct.unpack_from("<H", data, body + 14)
            if tag == _EXTENSIBLE and size >= 40:
                (tag,) = struct.unpack_from("<H", data, body + 24)  # first two bytes of the GUID
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise AudioFileError(f"{path}: data chunk before the fmt chunk")
            end = len(data) if size in (0, 0xFFFFFFFF) else min(len(data), body + size)
            return _decode(path, fmt, data[body:end])
        offset = body + size + (size & 1)
    raise AudioFileError(f"{path}: no data chunk (fmt {fmt})")


def _decode(path: Path, fmt: tuple[int, int, int, int], raw: bytes) -> tuple[int, int, Samples]:
    tag, channels, rate, bits = fmt
    if channels < 1 or rate < 1:
        raise AudioFileError(f"{path}: {channels} channels at {rate} Hz")
    if tag == _PCM and bits == 16:
        usable = len(raw) - len(raw) % (2 * channels)
        samples = np.frombuffer(raw[:usable], dtype="<i2").astype(np.float64) / 32768.0
    elif tag == _FLOAT and bits == 32:
        usable = len(raw) - len(raw) % (4 * channels)
        samples = np.frombuffer(raw[:usable], dtype="<f4").astype(np.float64)
    else:
        raise AudioFileError(f"{path}: format tag {tag} with {bits}-bit samples is not 16-bit PCM or float")
    return rate, channels, samples.reshape(-1, channels)


def analyse(path: Path, *, silence_dbfs: float = SILENCE_DBFS) -> AudioReport:
    """Read ``path`` and measure it; a 5 ms window quieter than ``silence_dbfs`` RMS is silent."""
    rate, channels, frames = read_wav(path)
    mono = frames.mean(axis=1)
    window = max(1, round(WINDOW_S * rate))
    count = len(mono) // window
    if count:
        rms = np.sqrt(np.mean(mono[: count * window].reshape(count, window) ** 2, axis=1))
    else:
        rms = np.zeros(0)
    loud = 20 * np.log10(np.maximum(rms, 1e-12)) >= silence_dbfs
    active = np.flatnonzero(loud)
    if active.size == 0:
        return AudioReport(Path(path), rate, channels, len(mono) / rate, 0.0, 0.0, 0.0, -math.inf, -math.inf)
    first, last = int(active[0]), int(active[-1]) + 1
    part = mono[first * window : last * window]
    peak_hz, snr_db = _spectrum(part, rate)
    level = 20 * math.log10(max(float(np.sqrt(np.mean(part**2))), 1e-12))
    return AudioReport(
        path=Path(path),
        rate=rate,
        channels=channels,
        duration_s=len(mono) / rate,
        active_start_s=first * window / rate,
        active_end_s=last * window / rate,
        peak_hz=peak_hz,
        level_dbfs=level,
        snr_db=snr_db,
        gaps=_gaps(loud[first:last], first, window / rate),
    )


def _gaps(loud: npt.NDArray[np.bool_], first: int, window_s: float) -> list[tuple[float, float]]:
    gaps: list[tuple[float, float]] = []
    start: int | None = None
    for index, is_loud in enumerate([*loud.tolist(), True]):
        if not is_loud and start is None:
            start = index
        elif is_loud and start is not None:
            length = (index - start) * window_s
            if length >= MIN_REPORTED_GAP_S - 1e-9:
                gaps.append(((first + start) * window_s, length))
            start = None
    return gaps


def _spectrum(part: Samples, rate: int) -> tuple[float, float]:
    """Peak frequency (parabolic interpolation between bins) and the tone-to-rest power ratio."""
    size = 1 << max(14, math.ceil(math.log2(len(part))))
    power = np.abs(np.fft.rfft(part * np.hanning(len(part)), n=size)) ** 2
    power[: max(1, round(20 * size / rate))] = 0.0  # DC and rumble below 20 Hz say nothing here
    peak = int(np.argmax(power))
    shift = 0.0
    if 0 < peak < len(power) - 1:
        left, centre, right = np.log(power[peak - 1 : peak + 2] + 1e-300)
        denominator = left - 2 * centre + right
        shift = 0.5 * (left - right) / denominator if denominator else 0.0
    peak_hz = (peak + shift) * rate / size
    band = max(3, round(0.02 * peak_hz * size / rate))
    tone = float(power[max(0, peak - band) : peak + band + 1].sum())
    rest = float(power.sum()) - tone
    snr = 10 * math.log10(tone / rest) if rest > 0 else math.inf
    return float(peak_hz), snr


def assert_tone(
    path: Path,
    frequency: float,
    *,
    duration: float | None = None,
    tolerance: float = 0.01,
    duration_tolerance: float = 0.05,
    max_gap: float = 0.04,
    min_active: float = 1.0,
    min_snr_db: float = 10.0,
    silence_dbfs: float = SILENCE_DBFS,
) -> AudioReport:
    """Fail unless ``path`` holds ``frequency`` (within ``tolerance``, relative) for at least
    ``min_active`` seconds, for ``duration`` seconds within ``duration_tolerance`` (relative) if
    given, with no silent stretch longer than ``max_gap`` and the tone ``min_snr_db`` above the rest."""
    report = analyse(path, silence_dbfs=silence_dbfs)
    problems = []
    if report.active_s < min_active:
        problems.append(f"only {report.active_s:.3f} s of sound (want at least {min_active} s)")
    else:
        if abs(report.peak_hz - frequency) > tolerance * frequency:
            problems.append(f"peak at {report.peak_hz:.1f} Hz, not {frequency} Hz ±{tolerance:.0%}")
        if report.snr_db < min_snr_db:
            problems.append(f"tone only {report.snr_db:.1f} dB above the rest (want {min_snr_db} dB)")
        if duration is not None and abs(report.active_s - duration) > duration_tolerance * duration:
            problems.append(
                f"sound lasts {report.active_s:.3f} s, not {duration:.3f} s ±{duration_tolerance:.0%}"
            )
        long_gaps = [(start, length) for start, length in report.gaps if length > max_gap + 1e-9]
        if long_gaps:
            listed = ", ".join(f"{start:.3f}s+{length * 1000:.0f}ms" for start, length in long_gaps[:5])
            problems.append(f"{len(long_gaps)} silent gap(s) longer than {max_gap * 1000:.0f} ms: {listed}")
    if problems:
        raise AssertionError(f"{path}: " + "; ".join(problems) + f"\n  report: {report}")
    return report
