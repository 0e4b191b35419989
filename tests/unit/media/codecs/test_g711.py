"""G.711 is ours: bit-exact with CPython's audioop (an independent C implementation) everywhere."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from portier.media.codecs import CodecError, decoder, encoder
from portier.media.codecs.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

EVERY_SAMPLE = np.arange(-32768, 32768, dtype=np.int16)
EVERY_CODE = bytes(range(256))


def test_ulaw_encoding_matches_audioop_for_every_sample() -> None:
    assert ulaw_encode(EVERY_SAMPLE) == audioop.lin2ulaw(EVERY_SAMPLE.tobytes(), 2)


def test_alaw_encoding_matches_audioop_for_every_sample() -> None:
    assert alaw_encode(EVERY_SAMPLE) == audioop.lin2alaw(EVERY_SAMPLE.tobytes(), 2)


def test_ulaw_decoding_matches_audioop_for_every_code() -> None:
    assert ulaw_decode(EVERY_CODE).tobytes() == audioop.ulaw2lin(EVERY_CODE, 2)


def test_alaw_decoding_matches_audioop_for_every_code() -> None:
    assert alaw_decode(EVERY_CODE).tobytes() == audioop.alaw2lin(EVERY_CODE, 2)


def test_silence_and_extremes_have_the_codes_g711_gives_them() -> None:
    assert ulaw_encode(np.array([0, 32767, -32768], np.int16)) == bytes([0xFF, 0x80, 0x00])
    assert alaw_encode(np.array([0, 32767, -32768], np.int16)) == bytes([0xD5, 0xAA, 0x2A])


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_encoder_takes_exactly_one_packet_of_int16(name: str) -> None:
    coder = encoder(name, ptime_ms=30)
    assert coder.samples_per_packet == 240
    assert len(coder.encode(np.zeros(240, np.int16))) == 240
    with pytest.raises(CodecError, match="240 mono samples"):
        coder.encode(np.zeros(160, np.int16))
    with pytest.raises(CodecError, match="int16"):
        coder.encode(np.zeros(240, np.float32))  # type: ignore[arg-type,unused-ignore]


@pytest.mark.parametrize("name", ["PCMU", "PCMA"])
def test_decoder_returns_one_sample_per_byte(name: str) -> None:
    assert decoder(name).decode(bytes(range(160))).shape == (160,)
