"""Every codec offered here carries a tone there and back: right pitch, right length, right sizes."""

from __future__ import annotations

import numpy as np
import pytest

from portier.media.codecs import available, codec_info, decoder, encoder

from ._signal import peak_frequency, roundtrip, sine, snr_db

PAYLOAD_BYTES = {  # per packet at the usual ptime (RFC 3551 4.5; MPA: RFC 2250 header + one frame)
    "PCMU": 160,
    "PCMA": 160,
    "G722": 160,
    "G726-16": 40,
    "G726-24": 60,
    "G726-32": 80,
    "G726-40": 100,
    "G723": 24,  # 30 ms at 6.3 kbit/s
    "G729": 20,  # two 10-byte frames
    "MPA": 4 + 192,  # 64 kbit/s at 48 kHz
}
MIN_SNR_DB = {  # waveform codecs; opus, G.723.1 and G.729 model speech, only the pitch is checked
    "PCMU": 30,
    "PCMA": 30,
    "G722": 20,
    "G726-16": 15,
    "G726-24": 15,
    "G726-32": 15,
    "G726-40": 15,
    "MPA": 15,
}
CODECS = list(available())


def opus_frame_ms(toc: int) -> float:
    """Duration of one frame named by an opus TOC byte (RFC 6716 3.1)."""
    config = toc >> 3
    if config < 12:
        return (10, 20, 40, 60)[config % 4]
    if config < 16:
        return (10, 20)[config % 2]
    return (2.5, 5, 10, 20)[config % 4]


def test_the_codecs_this_issue_proves_with_real_peers_are_here() -> None:
    assert {"PCMU", "PCMA", "G722", "G726-32", "opus"} <= set(CODECS)


@pytest.mark.parametrize("frequency", [1000, 440])
@pytest.mark.parametrize("name", CODECS)
def test_a_second_of_tone_comes_back_at_its_pitch_and_length(name: str, frequency: int) -> None:
    coder, back = encoder(name), decoder(name)
    rate = coder.info.sample_rate
    tone = sine(frequency, rate, rate)
    payloads, decoded = roundtrip(coder, back, tone)

    assert decoded.dtype == np.int16 and decoded.ndim == 1
    assert decoded.size == len(payloads) * coder.samples_per_packet
    assert abs(peak_frequency(decoded[: tone.size], rate) - frequency) <= 0.01 * frequency
    if name in PAYLOAD_BYTES:
        assert {len(p) for p in payloads} == {PAYLOAD_BYTES[name]}
    if name in MIN_SNR_DB:
        assert snr_db(tone, decoded, rate) > MIN_SNR_DB[name]


def test_opus_packets_are_single_20_ms_frames_within_the_size_limit() -> None:
    coder = encoder("opus")
    payloads, _ = roundtrip(coder, decoder("opus"), sine(1000, 8000, 8000))
    assert all(1 <= len(p) <= 1275 and p[0] & 3 == 0 and opus_frame_ms(p[0]) == 20 for p in payloads)


def test_opus_wideband_encodes_and_decodes_at_16_khz() -> None:
    info = codec_info("opus", sample_rate=16000)
    assert (info.sample_rate, info.clock_rate, info.rtpmap) == (16000, 48000, "opus/48000/2")
    assert info.fmtp == "maxplaybackrate=16000;sprop-maxcapturerate=16000"
    coder, back = encoder("opus", sample_rate=16000), decoder("opus", sample_rate=16000)
    assert coder.samples_per_packet == 320
    tone = sine(1000, 16000, 16000)
    _, decoded = roundtrip(coder, back, tone)
    assert decoded.size == tone.size
    assert abs(peak_frequency(decoded, 16000) - 1000) <= 10


@pytest.mark.parametrize(
    ("name", "ptime", "samples", "ticks"),
    [
        ("PCMU", 30, 240, 240),
        ("G722", 20, 320, 160),  # 16 kHz audio on the 8 kHz clock
        ("G722", 30, 480, 240),
        ("G729", 30, 240, 240),
        ("G723", 20, 240, 240),  # a G.723.1 frame is 30 ms
        ("G723", 60, 480, 480),
        ("opus", 20, 160, 960),  # 48 kHz clock whatever the audio rate
        ("opus", 30, 160, 960),  # opus makes 10/20/40/60 ms packets only
        ("opus", 60, 480, 2880),
        ("MPA", 20, 1152, 2160),  # 90 kHz clock
    ],
)
def test_packets_are_whole_codec_frames_and_move_the_rtp_clock_by_its_rate(
    name: str, ptime: int, samples: int, ticks: int
) -> None:
    coder = encoder(name, ptime_ms=ptime)
    assert coder.samples_per_packet == samples
    assert coder.info.rtp_ticks(samples) == ticks
    payload = coder.encode(np.zeros(samples, np.int16))
    assert decoder(name).decode(payload).size == samples


def test_g722_payload_for_30_ms_is_240_bytes() -> None:
    assert len(encoder("G722", ptime_ms=30).encode(np.zeros(480, np.int16))) == 240
