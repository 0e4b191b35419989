"""Damaged and missing packets: never a crash, and a hole is filled with something plausible."""

from __future__ import annotations

import random

import numpy as np
import pytest

from portier.media.codecs import CodecError, available, decoder, encoder

from ._signal import peak_frequency, rms, roundtrip, sine

CODECS = list(available())
LENGTHS = (1, 2, 3, 4, 5, 10, 11, 12, 20, 24, 40, 80, 100, 160, 196, 320, 1500)


@pytest.mark.parametrize("name", CODECS)
def test_garbage_payloads_decode_or_raise_codec_error_and_the_stream_recovers(name: str) -> None:
    rng = random.Random(f"garbage {name}")
    coder, back = encoder(name), decoder(name)
    for _ in range(150):
        payload = rng.randbytes(rng.choice(LENGTHS))
        if name == "MPA" and rng.random() < 0.5:
            payload = b"\0\0\0\0\xff\xfd" + payload  # past the header check, into the frame cutter
        try:
            pcm = back.decode(payload)
        except CodecError as exc:
            assert str(exc).startswith(name)
        else:
            assert pcm.dtype == np.int16 and pcm.ndim == 1
    rate = coder.info.sample_rate
    _, decoded = roundtrip(coder, back, sine(440, rate, rate))
    second_half = decoded[rate // 2 : rate]  # ADPCM and CELP state needs a moment to re-converge
    assert abs(peak_frequency(second_half, rate) - 440) <= 4.4


@pytest.mark.parametrize("name", CODECS)
def test_an_empty_payload_is_a_codec_error(name: str) -> None:
    with pytest.raises(CodecError, match=r"empty|no audio"):
        decoder(name).decode(b"")


@pytest.mark.parametrize("name", CODECS)
def test_concealment_continues_the_sound_then_fades(name: str) -> None:
    coder, back = encoder(name), decoder(name)
    rate, n = coder.info.sample_rate, coder.samples_per_packet
    _, heard = roundtrip(coder, back, sine(440, rate, n * -(-rate // 5 // n)))  # >= 200 ms, whole packets
    ten_ms = rate // 100
    hole = [back.conceal(ten_ms) for _ in range(8)]

    assert [part.size for part in hole] == [ten_ms] * 8
    assert all(part.dtype == np.int16 for part in hole)
    assert rms(hole[0]) > 0.5 * rms(heard[-ten_ms:])
    assert rms(hole[-1]) < 0.2 * rms(hole[0])
    assert back.conceal(7).size == 7 and back.conceal(1).size == 1 and back.conceal(0).size == 0
    payload = coder.encode(sine(440, rate, coder.samples_per_packet))
    assert back.decode(payload).size == coder.samples_per_packet


@pytest.mark.parametrize("name", CODECS)
def test_concealment_before_anything_was_heard_is_quiet(name: str) -> None:
    back = decoder(name)
    samples = back.info.sample_rate // 50
    assert rms(back.conceal(samples)) < 100


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_g711_concealment_carries_on_the_waveform_in_phase(name: str) -> None:
    tone = sine(1000, 8000, 1760)
    coder, back = encoder(name), decoder(name)
    for start in range(0, 1600, 160):
        back.decode(coder.encode(tone[start : start + 160]))
    guess = back.conceal(80).astype(np.float64)
    truth = tone[1600:1680].astype(np.float64)
    assert np.dot(guess, truth) / np.sqrt(np.dot(guess, guess) * np.dot(truth, truth)) > 0.95
