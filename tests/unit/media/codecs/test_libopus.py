"""opus through libopus directly: FFmpeg's packets byte for byte, decoded at the call's rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from portier.media.codecs import codec_info, decoder, encoder, libopus
from portier.media.codecs.pyav import AvEncoder, OpusDecoder

from ._signal import peak_frequency, rms, roundtrip, sine


def ffmpeg_encoder(rate: int, ptime: int, fec: bool) -> AvEncoder:
    """The FFmpeg path exactly as ``OpusFactory`` builds it when no libopus can be loaded."""
    info = codec_info("opus", sample_rate=rate)
    samples = info.packet_samples(ptime)
    settings = {"application": "voip", "frame_duration": str(ptime), "fec": "1" if fec else "0",
                "packet_loss": "10" if fec else "0"}  # fmt: skip
    return AvEncoder(info, samples, "libopus", options=settings)


def test_the_libopus_used_is_the_one_pyav_s_ffmpeg_loaded() -> None:
    lib = libopus.library()
    assert lib is not None
    assert Path(str(lib._name)).name.startswith("libopus")
    assert str(lib._name) in libopus._loaded_by_ffmpeg()
    assert (libopus.version() or "").startswith("libopus ")


@pytest.mark.parametrize("fec", [False, True])
@pytest.mark.parametrize(("rate", "ptime"), [(8000, 20), (16000, 20), (48000, 20), (8000, 10), (8000, 60)])
def test_packets_are_byte_for_byte_those_of_ffmpeg_s_libopus(rate: int, ptime: int, fec: bool) -> None:
    direct = encoder("opus", ptime_ms=ptime, sample_rate=rate, fec=fec)
    assert isinstance(direct, libopus.LibopusEncoder)
    ffmpeg = ffmpeg_encoder(rate, ptime, fec)
    noise = np.random.default_rng(rate + ptime).normal(0, 600, rate * 2)
    signal = np.clip(sine(440, rate, rate * 2).astype(np.float64) + noise, -32768, 32767).astype(np.int16)
    n = direct.samples_per_packet
    frames = [signal[i : i + n] for i in range(0, signal.size - n + 1, n)]
    assert [direct.encode(f) for f in frames] == [ffmpeg.encode(f) for f in frames]


def test_a_48_khz_stream_decodes_straight_to_the_call_s_8_khz() -> None:
    sender = encoder("opus", sample_rate=48000)
    back = decoder("opus")  # the call's rate: 8 kHz, the default
    assert isinstance(back, libopus.LibopusDecoder)
    _, decoded = roundtrip(sender, back, sine(1000, 48000, 48000))
    assert decoded.size == 50 * 160
    assert abs(peak_frequency(decoded[800:], 8000) - 1000) <= 10


def test_concealment_is_libopus_s_own_in_any_size_and_fades() -> None:
    coder, back = encoder("opus"), decoder("opus")
    assert back.conceal(160).tolist() == [0] * 160  # nothing heard yet: silence
    _, heard = roundtrip(coder, back, sine(440, 8000, 4000))
    sizes = [1, 7, 20, 160, 333, 13, 240]
    parts = [back.conceal(size) for size in sizes]
    assert [p.size for p in parts] == sizes and all(p.dtype == np.int16 for p in parts)
    assert rms(np.concatenate(parts)[:80]) > 0.5 * rms(heard[-160:])  # the first 10 ms carry on the tone
    assert rms(np.concatenate([back.conceal(160) for _ in range(10)])[-160:]) < 0.2 * rms(heard[-160:])
    assert back.decode(coder.encode(sine(440, 8000, 160))).size == 160


def test_a_damaged_packet_is_a_codec_error_naming_opus() -> None:
    back = decoder("opus")
    with pytest.raises(libopus.CodecError, match=r"^opus payload of 3 bytes does not decode"):
        back.decode(bytes([0xFF, 0xFF, 0xFF]))  # code 3 frame count byte asking for 63 frames of 120 ms


def test_the_ffmpeg_fallback_still_carries_the_tone() -> None:
    info = codec_info("opus")
    coder, back = ffmpeg_encoder(8000, 20, False), OpusDecoder(info)
    _, decoded = roundtrip(coder, back, sine(440, 8000, 8000))
    assert abs(peak_frequency(decoded, 8000) - 440) <= 4.4
