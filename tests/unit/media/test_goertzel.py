"""In-band DTMF detection: every digit through noise at 8 and 16 kHz, and nothing from speech or music."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from portier.media.goertzel import DtmfDetector, tone_power
from portier.media.tones import ToneGenerator, dtmf_tone

DIGITS = "0123456789*#ABCD"
LEVEL = -20.0


def goertzel_recurrence(samples: list[float], frequency: float, rate: int) -> float:
    """The textbook Goertzel filter, one sample at a time."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coefficient * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coefficient * s1 * s2


def with_noise(signal: npt.NDArray[np.int16], snr_db: float, seed: int) -> npt.NDArray[np.int16]:
    """White noise whose power is ``snr_db`` below the power of the two tones at LEVEL dBFS each."""
    amplitude = 32767 * 10 ** (LEVEL / 20)
    noise_power = amplitude**2 / 10 ** (snr_db / 10)  # two tones of peak A: power A^2/2 each
    noise = np.random.default_rng(seed).normal(0.0, math.sqrt(noise_power), len(signal))
    return np.clip(np.round(signal + noise), -32768, 32767).astype(np.int16)


def detect(samples: npt.NDArray[np.int16], rate: int, frame: int) -> str:
    detector = DtmfDetector(rate)
    found = []
    for start in range(0, len(samples), frame):
        found += detector.feed(samples[start:start + frame])
    return "".join(found)


def keyed(digits: str, rate: int, on: float = 0.1, off: float = 0.1) -> npt.NDArray[np.int16]:
    gap = np.zeros(round(off * rate), dtype=np.int16)
    parts = [gap]
    for digit in digits:
        parts += [dtmf_tone(digit, on, rate, level=LEVEL), gap]
    return np.concatenate(parts)


def test_tone_power_is_what_the_goertzel_recurrence_computes() -> None:
    block = np.random.default_rng(3).normal(0, 1000, 205)
    frequencies = (697, 1209, 1633)
    powers = tone_power(block, frequencies, 8000)
    for frequency, power in zip(frequencies, powers, strict=True):
        assert power == pytest.approx(goertzel_recurrence(list(block), frequency, 8000), rel=1e-9)


@pytest.mark.parametrize(("rate", "frame"), [(8000, 160), (16000, 320), (8000, 97)])
def test_every_digit_is_detected_once_through_white_noise_at_20_db(rate: int, frame: int) -> None:
    samples = with_noise(keyed(DIGITS, rate), snr_db=20.0, seed=rate + frame)
    assert detect(samples, rate, frame) == DIGITS


def test_a_held_key_gives_one_digit_and_a_repeated_key_two() -> None:
    held = with_noise(keyed("5", 8000, on=2.0), 20.0, seed=1)
    assert detect(held, 8000, 160) == "5"
    twice = with_noise(keyed("55", 8000, on=0.06, off=0.06), 20.0, seed=2)
    assert detect(twice, 8000, 160) == "55"


def test_minimum_duration() -> None:
    assert detect(keyed("7", 8000, on=0.02), 8000, 160) == ""  # 20 ms: too short for a keypress
    assert detect(keyed("7", 8000, on=0.045), 8000, 160) == "7"
    assert detect(keyed("7", 16000, on=0.045), 16000, 320) == "7"


def test_twist_limits() -> None:
    rate = 8000
    gap = np.zeros(800, dtype=np.int16)

    def tone(twist: float) -> npt.NDArray[np.int16]:
        return np.concatenate([gap, dtmf_tone("9", 0.1, rate, level=LEVEL, twist=twist), gap])

    assert detect(tone(6.0), rate, 160) == "9"  # column louder: normal on lines
    assert detect(tone(-3.0), rate, 160) == "9"
    assert detect(tone(-6.0), rate, 160) == ""  # row much louder: reverse twist beyond 4 dB
    assert detect(tone(10.0), rate, 160) == ""


def test_a_quiet_tone_below_the_minimum_level_is_ignored() -> None:
    quiet = np.concatenate([np.zeros(800, dtype=np.int16), dtmf_tone("1", 0.1, 8000, level=-50.0)])
    assert detect(quiet, 8000, 160) == ""


def test_no_digits_from_a_440_hz_tone_or_dial_tone() -> None:
    assert detect(ToneGenerator("440/0", 8000, level=-10.0).read(8000 * 3), 8000, 160) == ""
    assert detect(ToneGenerator("350+440/0", 8000, level=-10.0).read(8000 * 3), 8000, 160) == ""


def speech_like(seconds: float, rate: int, seed: int) -> npt.NDArray[np.int16]:
    """Voiced sound with a wandering pitch and moving formants, syllable envelopes and fricative noise."""
    rng = np.random.default_rng(seed)
    count = round(seconds * rate)
    t = np.arange(count) / rate
    f0 = 140 + 60 * np.sin(2 * np.pi * 0.7 * t) + 20 * np.sin(2 * np.pi * 3.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    # formant targets change every 150 ms, like vowels
    vowels = rng.uniform([250, 800, 2200], [900, 2300, 3200], size=(int(seconds / 0.15) + 1, 3))
    formants = vowels[(t / 0.15).astype(int)]
    voiced = np.zeros(count)
    for k in range(1, 40):
        harmonic = k * f0
        gain = sum(np.exp(-(((harmonic - formants[:, i]) / 90.0) ** 2)) / (i + 1) for i in range(3))
        voiced += np.where(harmonic < rate / 2, gain, 0.0) * np.sin(k * phase) / math.sqrt(k)
    syllables = 0.5 * (1 - np.cos(2 * np.pi * 4.0 * t)) ** 2
    fricative = rng.normal(0, 0.3, count) * (np.sin(2 * np.pi * 1.3 * t) > 0.8)
    signal = voiced * syllables + fricative
    signal *= 32767 * 10 ** (-15 / 20) / np.max(np.abs(signal))
    return np.round(signal).astype(np.int16)


@pytest.mark.parametrize("seed", range(4))
def test_no_digits_from_speech_like_sound(seed: int) -> None:
    assert detect(speech_like(6.0, 8000, seed), 8000, 160) == ""


def test_no_digits_from_white_noise() -> None:
    noise = np.random.default_rng(9).normal(0, 3000, 8000 * 3).astype(np.int16)
    assert detect(noise, 8000, 160) == ""


def test_digits_are_still_found_over_speech() -> None:
    speech = speech_like(2.0, 8000, 11) // 10  # speech 20 dB quieter than the tones, as on a line
    tones = keyed("123", 8000, on=0.1, off=0.5)
    mixed = tones[:len(speech)].astype(np.int32) + speech[:len(tones)]
    assert detect(np.clip(mixed, -32768, 32767).astype(np.int16), 8000, 160) == "123"
