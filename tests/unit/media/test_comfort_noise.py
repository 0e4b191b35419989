"""RFC 3389 comfort noise: the payload, levels in -dBov, the noise we play, checked against FFmpeg's CN codec.

RFC 3389 publishes no test vectors; FFmpeg's ``comfortnoise`` encoder and decoder (an independent
RFC 3389 implementation, through PyAV) serve as the other side instead.
"""

from __future__ import annotations

import math

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.audio.frame import AudioFrame

from portier.media.comfort_noise import (
    CN_PAYLOAD_TYPE,
    SILENT,
    ComfortNoise,
    ComfortNoiseError,
    NoiseGenerator,
    level_from_energy,
    level_of,
    rms_of_level,
)


def rms_dbov(samples: npt.NDArray[np.int16]) -> float:
    values = samples.astype(np.float64)
    return 20 * math.log10(math.sqrt(float(np.mean(values * values))) / 32767)


def white_noise(dbov: float, count: int, seed: int) -> npt.NDArray[np.int16]:
    noise = np.random.default_rng(seed).normal(0.0, 32767 * 10 ** (dbov / 20), count)
    return np.clip(np.round(noise), -32768, 32767).astype(np.int16)


def test_the_payload_is_the_level_octet_then_the_reflection_coefficients() -> None:
    assert CN_PAYLOAD_TYPE == 13
    assert bytes(ComfortNoise(42)) == b"\x2a"
    assert bytes(ComfortNoise(70, (127, 140, 3))) == bytes([70, 127, 140, 3])
    assert ComfortNoise.parse(b"\x2a") == ComfortNoise(42)
    assert ComfortNoise.parse(bytes([70, 127, 140, 3])) == ComfortNoise(70, (127, 140, 3))
    assert ComfortNoise(42).dbov == -42.0
    for level in range(128):
        assert ComfortNoise.parse(bytes(ComfortNoise(level))).level == level


@pytest.mark.parametrize(
    ("payload", "words"),
    [(b"", "empty"), (b"\x80", "top bit"), (b"\xff\x01", "top bit")],
)
def test_unreadable_payloads_say_why(payload: bytes, words: str) -> None:
    with pytest.raises(ComfortNoiseError, match=words):
        ComfortNoise.parse(payload)


def test_levels_out_of_range_are_refused() -> None:
    with pytest.raises(ComfortNoiseError, match="0-127"):
        ComfortNoise(128)
    with pytest.raises(ComfortNoiseError, match="octets"):
        ComfortNoise(10, (256,))


def test_level_of_known_signals() -> None:
    square = np.array([32767, -32767] * 80, dtype=np.int16)
    assert level_of(square) == 0  # 0 dBov: a full-scale square wave (RFC 3389 §3)
    n = np.arange(8000)
    sine = np.round(32767 * 10 ** (-30 / 20) * math.sqrt(2) * np.sin(2 * np.pi * 440 * n / 8000))
    assert level_of(sine.astype(np.int16)) == 30  # a sine with an RMS of -30 dBov
    assert level_of(np.zeros(160, dtype=np.int16)) == SILENT
    assert level_of(np.zeros(0, dtype=np.int16)) == SILENT
    assert level_from_energy(1e-12) == SILENT  # far below -127 dBov: clamped
    assert rms_of_level(0) == pytest.approx(32767.0)
    assert rms_of_level(SILENT) == 0.0


@pytest.mark.parametrize("dbov", [-20.0, -40.0, -50.0, -60.0])
def test_our_level_agrees_with_ffmpegs_rfc3389_encoder(dbov: float) -> None:
    frame = white_noise(dbov, 640, seed=int(-dbov))  # FFmpeg's CN encoder takes 640-sample frames
    context = av.CodecContext.create("comfortnoise", "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate, context.layout, context.format = 8000, "mono", "s16"
    context.open()
    audio = AudioFrame.from_ndarray(frame.reshape(1, -1), format="s16", layout="mono")
    audio.sample_rate, audio.pts = 8000, 0
    payload = bytes(context.encode(audio)[0])
    theirs = ComfortNoise.parse(payload)
    assert len(theirs.coefficients) == 10  # FFmpeg sends a 10th-order spectrum; we read and keep it
    assert abs(theirs.level - level_of(frame)) <= 1  # FFmpeg rounds the level down, we round to nearest
    assert abs(level_of(frame) + dbov) <= 1


def test_ffmpegs_rfc3389_decoder_plays_our_levels_a_decibel_per_step() -> None:
    """FFmpeg's generator plays a level-only payload some dB below nominal (its own excitation scaling);
    what must hold is the scale: 10 levels apart is 10 dB apart."""
    played = {}
    for level in (40, 50):
        context = av.CodecContext.create("comfortnoise", "r")
        assert isinstance(context, av.AudioCodecContext)
        context.sample_rate, context.layout = 8000, "mono"
        context.open()
        payload = bytes(ComfortNoise(level))
        frames = [f.to_ndarray().reshape(-1) for _ in range(10) for f in context.decode(av.Packet(payload))]
        samples = np.concatenate(frames).astype(np.int16)
        played[level] = rms_dbov(samples[samples.size // 2 :])  # after its level has settled
    assert played[40] - played[50] == pytest.approx(10.0, abs=1.5)


def test_the_generator_plays_noise_at_the_level_it_heard() -> None:
    generator = NoiseGenerator(seed=7)
    assert not generator.active
    assert not generator.frame(160).any()  # nothing heard yet: silence
    generator.heard(ComfortNoise(50))
    assert generator.active and generator.level == 50
    noise = np.concatenate([generator.frame(160) for _ in range(50)])
    assert rms_dbov(noise) == pytest.approx(-50.0, abs=0.5)
    assert level_of(noise) == 50
    spectrum = np.abs(np.fft.rfft(noise.astype(np.float64)))
    low, high = spectrum[: spectrum.size // 2].mean(), spectrum[spectrum.size // 2 :].mean()
    assert 0.8 < low / high < 1.25  # white: as much energy above 2 kHz as below
    generator.heard(ComfortNoise(SILENT))
    assert not generator.frame(160).any()  # -127 dBov is digital silence
    generator.stop()
    assert not generator.active
    assert generator.frame(0).size == 0
