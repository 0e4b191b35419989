"""MPA (RFC 3551 4.5.13, RFC 2250 3.5): MPEG audio in RTP, through PyAV's FFmpeg.

We send MPEG-1 layer II, mono, 48 kHz, one 1152-sample frame (24 ms) per packet. We receive
layers I-III at any MPEG rate. Each payload starts with 4 bytes: 16 zero bits, then the offset
of this payload's data within its frame, non-zero only for the later parts of a frame too big
for one packet. The frames are cut out here, from their own headers, rather than by FFmpeg's
parser: a parser that has swallowed a damaged payload would spoil the good ones after it, while
a payload cut here stands or falls on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from .base import CodecError, CodecFactory, CodecInfo, Decoder, Encoder, Pcm
from .pyav import AvDecoder, AvEncoder, bitrate_option, missing_codec

HEADER_BYTES = 4
"""The RFC 2250 MBZ + Frag_offset header."""

_KBITS = {  # (MPEG-1?, layer) -> kbit/s by bitrate index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def frame_length(header: bytes) -> int:
    """Bytes in the MPEG audio frame this 4-byte header starts; ``CodecError`` if it is not one."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        raise CodecError("MPA data does not start with an MPEG audio frame header")
    version, layer_bits = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index, padding = header[2] >> 4, (header[2] >> 2) & 3, (header[2] >> 1) & 1
    if version == 1 or layer_bits == 0 or rate_index == 3 or bitrate_index in (0, 15):
        raise CodecError("MPA frame header is reserved, free-format or invalid")
    layer = 4 - layer_bits
    mpeg1 = version == 3
    bitrate = _KBITS[mpeg1, layer][bitrate_index - 1] * 1000
    rate = _RATES[version][rate_index]
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    per_frame = 144 if layer == 2 or mpeg1 else 72
    return per_frame * bitrate // rate + padding


class MpaDecoder(AvDecoder):
    """Cuts payloads into frames, reassembles fragmented frames, decodes with FFmpeg."""

    def __init__(self, info: CodecInfo) -> None:
        super().__init__(info, "mp2")  # FFmpeg's MPEG audio decoders all decode layers I-III
        self._partial = b""
        self._wanted = 0

    def decode(self, payload: bytes) -> Pcm:
        if len(payload) <= HEADER_BYTES:
            raise CodecError(f"MPA payload of {len(payload)} bytes has no audio after its 4-byte header")
        offset, data = int.from_bytes(payload[2:4], "big"), payload[HEADER_BYTES:]
        frames: list[bytes] = []
        if offset:
            if offset != len(self._partial) or not self._partial:
                self._partial = b""
                raise CodecError(f"MPA fragment at offset {offset} does not continue a frame")
            self._partial += data
        else:
            self._partial = b""
            while data:
                length = frame_length(data[:4])
                frames.append(data[:length])
                data = data[length:]
            if len(frames[-1]) < frame_length(frames[-1]):
                self._partial = frames.pop()  # the first part of a frame larger than a packet
        if self._partial:
            self._wanted = frame_length(self._partial)
            if len(self._partial) >= self._wanted:
                frames.append(self._partial[: self._wanted])
                self._partial = b""
        if not frames:
            return np.zeros(0, np.int16)  # waiting for the rest of a fragmented frame
        pcm = np.concatenate([self._run(frame) for frame in frames])
        self._spare = np.zeros(0, np.int16)
        return self._plc.heard(pcm)


class MpaFactory:
    """MPEG-1 layer II, mono 48 kHz, 64 kbit/s by default, on the 90 kHz RTP clock."""

    info = CodecInfo(
        "MPA", 90000, 48000, frame_samples=1152, ptime_ms=24, static_payload_type=14, bitrate=64000
    )
    option_names = frozenset[str]({"bitrate"})

    def missing(self) -> str | None:
        return missing_codec(self.info.name, "mp2", "mp2")

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        bitrate = bitrate_option(self.info, options, 32000, 192000)
        if bitrate // 1000 not in _KBITS[True, 2] or bitrate % 1000:
            raise CodecError(f"MPA bitrate must be one of layer II's: {_KBITS[True, 2]} kbit/s")
        return replace(self.info, bitrate=bitrate)

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder:
        return AvEncoder(info, samples, "mp2", header=bytes(HEADER_BYTES))

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder:
        return MpaDecoder(info)


FACTORIES: tuple[CodecFactory, ...] = (MpaFactory(),)
