"""MPA payloads (RFC 2250): frames cut from their own headers, fragments put back together."""

from __future__ import annotations

import numpy as np
import pytest

from portier.media.codecs import CodecError, decoder, encoder
from portier.media.codecs.mpa import frame_length

from ._signal import peak_frequency, sine


def frames(count: int) -> list[bytes]:
    coder = encoder("MPA")
    tone = sine(1000, 48000, 1152 * count)
    return [coder.encode(tone[i * 1152 : (i + 1) * 1152])[4:] for i in range(count)]


@pytest.mark.parametrize(
    ("header", "length"),
    [
        ("fffd44c4", 192),  # MPEG-1 layer II, 64 kbit/s, 48 kHz: what we send
        ("fffb9064", 417),  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding
        ("fffb9264", 418),  # ... with padding
        ("fff39064", 261),  # MPEG-2 layer III, 80 kbit/s, 22.05 kHz: 72 * 80000 / 22050
        ("ffff9064", 78 * 4),  # MPEG-1 layer I, 288 kbit/s, 44.1 kHz: (12 * 288000 / 44100) * 4
    ],
)
def test_frame_lengths_follow_the_mpeg_audio_header(header: str, length: int) -> None:
    assert frame_length(bytes.fromhex(header)) == length


@pytest.mark.parametrize("header", ["00fd44c4", "ffed44c4", "fff944c4", "fffd04c4", "fffdf4c4", "fffd4cc4"])
def test_headers_that_are_not_frames_are_refused(header: str) -> None:
    with pytest.raises(CodecError, match="MPA"):
        frame_length(bytes.fromhex(header))


def test_our_packets_are_one_frame_behind_a_zero_header() -> None:
    payload = encoder("MPA").encode(np.zeros(1152, np.int16))
    assert payload[:4] == bytes(4) and frame_length(payload[4:8]) == len(payload) - 4


def test_two_frames_in_one_payload_decode_to_two_frames_of_audio() -> None:
    first, second = frames(2)
    assert decoder("MPA").decode(bytes(4) + first + second).size == 2304


def test_a_fragmented_frame_decodes_once_its_last_part_arrives() -> None:
    run = frames(3)
    whole, pieces = decoder("MPA"), decoder("MPA")
    expected = [whole.decode(bytes(4) + frame) for frame in run]
    for frame, wanted in zip(run, expected, strict=True):
        assert pieces.decode(bytes(4) + frame[:100]).size == 0
        got = pieces.decode(bytes(2) + (100).to_bytes(2, "big") + frame[100:])
        assert np.array_equal(got, wanted)
    assert abs(peak_frequency(np.concatenate(expected), 48000) - 1000) < 10


def test_a_fragment_that_continues_nothing_is_refused() -> None:
    (frame,) = frames(1)
    with pytest.raises(CodecError, match="does not continue a frame"):
        decoder("MPA").decode(bytes(2) + (100).to_bytes(2, "big") + frame[100:])


def test_a_payload_not_starting_with_a_frame_is_refused() -> None:
    with pytest.raises(CodecError, match="does not start with an MPEG audio frame header"):
        decoder("MPA").decode(bytes(4) + b"\x12\x34\x56\x78" * 10)
