"""Test signals and the measurements the codec tests judge by."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from portier.media.codecs import Decoder, Encoder, Pcm

LEVEL = 32767 * 10 ** (-10 / 20)
"""-10 dBFS peak."""


def sine(frequency: float, rate: int, samples: int, level: float = LEVEL) -> Pcm:
    return np.round(level * np.sin(2 * np.pi * frequency * np.arange(samples) / rate)).astype(np.int16)


def rms(pcm: npt.NDArray[np.int16]) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if pcm.size else 0.0


def peak_frequency(pcm: Pcm, rate: int) -> float:
    """Frequency of the strongest FFT bin, refined by parabolic interpolation."""
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64) * np.hanning(pcm.size)))
    k = int(np.argmax(spectrum[1:-1])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-12)
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return float((k + shift) * rate / pcm.size)


def delay(reference: Pcm, decoded: Pcm, rate: int) -> int:
    """The codec's delay: the smallest lag (up to 50 ms) that lines the output up with the input."""
    start, length = rate // 10, rate // 5
    target = reference[start : start + length].astype(np.float64)
    scores = [
        float(np.dot(target, decoded[start + lag : start + lag + length].astype(np.float64)))
        for lag in range(rate // 20)
    ]
    best = max(scores)
    return next(lag for lag, score in enumerate(scores) if score >= 0.99 * best)


def snr_db(reference: Pcm, decoded: Pcm, rate: int) -> float:
    """Signal to noise of the decoded audio against the input, after the codec's delay."""
    lag = delay(reference, decoded, rate)
    skip = rate // 10  # adaptive codecs settle first
    x = reference[skip : reference.size - lag].astype(np.float64)
    y = decoded[skip + lag : reference.size].astype(np.float64)
    return float(10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2)))


def roundtrip(coder: Encoder, decoder: Decoder, pcm: Pcm) -> tuple[list[bytes], Pcm]:
    """Encode packet by packet (zero-padding the last) and decode every payload in order."""
    n = coder.samples_per_packet
    packets = -(-pcm.size // n)
    padded = np.zeros(packets * n, np.int16)
    padded[: pcm.size] = pcm
    payloads = [coder.encode(padded[i * n : (i + 1) * n]) for i in range(packets)]
    return payloads, np.concatenate([decoder.decode(p) for p in payloads])
