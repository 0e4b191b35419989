"""The sender's VAD: which frames are voice, the hangover, the noise floor, and what goes out in a silence."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from portier.media.comfort_noise import SILENT
from portier.media.vad import (
    AUDIO,
    COMFORT_NOISE,
    NOTHING,
    Decision,
    SilenceSuppressor,
    VoiceActivityDetector,
    dbov,
    energy_of,
)

RATE = 8000
FRAME = 160


def tone(dbov_rms: float, frames: int) -> list[npt.NDArray[np.int16]]:
    amplitude = 32767 * 10 ** (dbov_rms / 20) * math.sqrt(2)
    n = np.arange(frames * FRAME)
    samples = np.round(amplitude * np.sin(2 * np.pi * 440 * n / RATE)).astype(np.int16)
    return list(samples.reshape(frames, FRAME))


def noise(dbov_rms: float, frames: int, seed: int = 1) -> list[npt.NDArray[np.int16]]:
    values = np.random.default_rng(seed).normal(0, 32767 * 10 ** (dbov_rms / 20), frames * FRAME)
    return list(np.clip(np.round(values), -32768, 32767).astype(np.int16).reshape(frames, FRAME))


def voice(detector: VoiceActivityDetector, frames: list[npt.NDArray[np.int16]]) -> list[bool]:
    return [detector.update(energy_of(frame)) for frame in frames]


def test_levels() -> None:
    assert dbov(32767.0**2) == pytest.approx(0.0)
    assert dbov(energy_of(tone(-30, 1)[0])) == pytest.approx(-30.0, abs=0.05)
    assert dbov(0.0) == -127.0
    assert energy_of(np.zeros(0, dtype=np.int16)) == 0.0


def test_speech_over_a_quiet_background_is_voice_and_the_background_is_not() -> None:
    detector = VoiceActivityDetector()
    assert voice(detector, noise(-60, 25)) == [False] * 25
    assert detector.noise == pytest.approx(-60, abs=1)
    assert voice(detector, tone(-25, 10)) == [True] * 10
    assert detector.threshold == pytest.approx(-51, abs=1)  # 9 dB above the background


def test_the_hangover_keeps_word_endings_then_lets_go() -> None:
    detector = VoiceActivityDetector(hangover=0.2)
    voice(detector, noise(-60, 25))
    voice(detector, tone(-25, 5))
    after = voice(detector, noise(-60, 15, seed=2))
    assert after == [True] * 10 + [False] * 5  # 200 ms = 10 frames after the last loud one


def test_a_short_pause_inside_the_hangover_does_not_split_the_talkspurt() -> None:
    detector = VoiceActivityDetector()
    voice(detector, noise(-60, 25))
    decisions = voice(detector, tone(-25, 5) + noise(-60, 6, seed=3) + tone(-25, 5))
    assert all(decisions)


def test_the_floor_keeps_line_hiss_out_and_the_ceiling_keeps_loud_sounds_in() -> None:
    detector = VoiceActivityDetector()
    voice(detector, [np.zeros(FRAME, dtype=np.int16)] * 25)  # digital silence: the floor tracks to -127
    assert voice(detector, noise(-58, 5)) == [False] * 5  # -58 dBov of hiss is below the -55 dBov floor
    loud = VoiceActivityDetector()
    assert voice(loud, tone(-20, 500)) == [True] * 500  # 10 s of a steady tone stays voice...
    assert loud.threshold == -30.0  # ...because no threshold goes above the ceiling


def test_a_background_that_steps_up_is_learned_within_seconds() -> None:
    detector = VoiceActivityDetector()
    voice(detector, noise(-60, 50))
    louder = voice(detector, noise(-45, 600, seed=4))  # a machine starts: 15 dB more, for 12 s
    assert louder[0] and not any(louder[-100:])
    assert detector.noise == pytest.approx(-45, abs=1.5)


def test_the_floor_starts_at_the_first_frame() -> None:
    detector = VoiceActivityDetector()
    assert detector.noise is None
    assert voice(detector, noise(-45, 3)) == [False] * 3  # not mistaken for voice while it calibrates


def test_the_detector_refuses_a_floor_above_its_ceiling() -> None:
    with pytest.raises(ValueError, match="ceiling"):
        VoiceActivityDetector(floor=-20, ceiling=-30)


def test_the_sender_sends_comfort_noise_at_the_start_of_a_silence_then_every_400_ms() -> None:
    suppressor = SilenceSuppressor(0.02)
    frames = noise(-50, 5) + tone(-20, 20) + noise(-50, 60, seed=5) + tone(-20, 3)
    decisions = [suppressor.decide(frame) for frame in frames]
    sends = [d.send for d in decisions]
    # a call that starts quiet starts with CN
    assert sends[:5] == [COMFORT_NOISE] + [NOTHING] * 4
    # the talkspurt: audio, the first packet marked
    assert sends[5:25] == [AUDIO] * 20 and decisions[5].marker and not any(d.marker for d in decisions[6:25])
    # 10 frames of hangover, then CN at once and every 20 frames (400 ms)
    silence = sends[25:85]
    assert silence[:10] == [AUDIO] * 10
    noise_at = [i for i, send in enumerate(silence) if send == COMFORT_NOISE]
    assert noise_at == [10, 30, 50]
    assert all(send == NOTHING for i, send in enumerate(silence[10:], 10) if i not in noise_at)
    # each CN carries the background's level
    assert all(abs(decisions[25 + i].level - 50) <= 1 for i in noise_at)
    # voice again: the first audio packet after the silence carries the marker
    assert decisions[85] == Decision(AUDIO, marker=True)
    assert decisions[86] == Decision(AUDIO)


def test_digital_silence_is_sent_as_the_quietest_comfort_noise() -> None:
    suppressor = SilenceSuppressor(0.02)
    first = suppressor.decide(np.zeros(FRAME, dtype=np.int16))
    assert first == Decision(COMFORT_NOISE, level=SILENT)


def test_the_refresh_follows_the_frame_length() -> None:
    assert SilenceSuppressor(0.03).refresh_frames == 13  # 30 ms packets: 390 ms
    assert SilenceSuppressor(0.02, refresh=0.2).refresh_frames == 10
