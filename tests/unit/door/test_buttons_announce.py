"""The address a door station says in command mode (Table 1), and the digit tones used without speech."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from portier.door import announce
from portier.door.announce import DIGIT_S, DOT_S, GAP_S, digit_tones, speech
from portier.media.tones import dtmf_frequencies
from portier.services.network_watch import device_address

RATE = 16000


def strongest(samples: np.ndarray, count: int) -> list[float]:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64), n=RATE))
    freqs = np.fft.rfftfreq(RATE, 1 / RATE)
    local = [i for i in range(1, spectrum.size - 1) if spectrum[i - 1] < spectrum[i] >= spectrum[i + 1]]
    return sorted(float(freqs[i]) for i in sorted(local, key=lambda i: spectrum[i], reverse=True)[:count])


def test_a_bound_address_is_the_one_announced() -> None:
    assert device_address("10.20.30.40") == "10.20.30.40"
    assert device_address("fd00::7") == "fd00::7"


def test_digit_tones_play_each_digit_and_pause_at_each_dot() -> None:
    samples = digit_tones("19.2", RATE)
    digit, gap, dot = round(DIGIT_S * RATE), round(GAP_S * RATE), round(DOT_S * RATE)
    assert samples.size == 3 * (digit + gap) + dot
    one = samples[:digit]
    nine = samples[digit + gap : 2 * digit + gap]
    dot_at = 2 * (digit + gap)
    assert strongest(one, 2) == pytest.approx(list(dtmf_frequencies("1")), abs=1.0)
    assert strongest(nine, 2) == pytest.approx(list(dtmf_frequencies("9")), abs=1.0)
    assert not samples[digit : digit + gap].any(), "a gap after each digit"
    assert not samples[dot_at : dot_at + dot].any(), "a longer pause for the dot"
    two = samples[dot_at + dot : dot_at + dot + digit]
    assert strongest(two, 2) == pytest.approx(list(dtmf_frequencies("2")), abs=1.0)


def test_digit_tones_of_nothing_is_silence() -> None:
    assert digit_tones("", RATE).size == 0


async def test_without_espeak_there_is_no_speech_and_the_log_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(announce, "ESPEAK", "espeak-ng-absent-for-this-test")
    caplog.set_level(logging.WARNING, logger="portier")
    assert await speech("1 2 7", RATE) is None
    assert "espeak-ng-absent-for-this-test is not installed" in caplog.text
    assert "apt-get install espeak-ng" in caplog.text
