"""G.711 μ-law (PCMU) and A-law (PCMA), our own, as numpy lookup tables.

The tables are computed once from the segment rules of ITU-T G.711 (μ-law: bias 0x84, all bits
inverted; A-law: even bits inverted with 0x55) in the form of Sun Microsystems' g711.c, which
CPython's ``audioop`` also uses, so the results are bit-exact with ``audioop`` (tested over all
65536 inputs and 256 codes). Encoding a packet is one table lookup per sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .base import CodecError, CodecFactory, CodecInfo, Decoder, Encoder, Pcm, check_pcm
from .plc import RepeatFade

_ULAW_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_ALAW_SEGMENT_ENDS = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])
_ULAW_CLIP = 8159


def _all_samples() -> npt.NDArray[np.int32]:
    """Every int16 value, ordered so that ``table[sample.view(uint16)]`` finds its code."""
    return np.arange(1 << 16, dtype=np.int32).astype(np.uint16).view(np.int16).astype(np.int32)


def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    value = _all_samples() >> 2  # 14-bit, arithmetic shift as in g711.c
    negative = value < 0
    mask = np.where(negative, 0x7F, 0xFF)
    magnitude = np.minimum(np.where(negative, -value, value), _ULAW_CLIP) + (0x84 >> 2)
    segment = np.searchsorted(_ULAW_SEGMENT_ENDS, magnitude, side="left")
    mantissa = (magnitude >> np.minimum(segment + 1, 31)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (segment << 4) | mantissa) ^ mask
    return code.astype(np.uint8)


def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    value = _all_samples() >> 3  # 13-bit
    negative = value < 0
    mask = np.where(negative, 0x55, 0xD5)
    magnitude = np.where(negative, -value - 1, value)
    segment = np.searchsorted(_ALAW_SEGMENT_ENDS, magnitude, side="left")
    shift = np.where(segment < 2, 1, np.minimum(segment, 31))
    mantissa = (magnitude >> shift) & 0x0F
    code = np.where(segment >= 8, 0x7F, (segment << 4) | mantissa) ^ mask
    return code.astype(np.uint8)


def _ulaw_decode_table() -> Pcm:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return np.where(code & 0x80, 0x84 - magnitude, magnitude - 0x84).astype(np.int16)


def _alaw_decode_table() -> Pcm:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    segment = (code & 0x70) >> 4
    magnitude = ((code & 0x0F) << 4) + np.where(segment == 0, 8, 0x108)
    magnitude = np.where(segment > 1, magnitude << np.maximum(segment - 1, 0), magnitude)
    return np.where(code & 0x80, magnitude, -magnitude).astype(np.int16)


ULAW_ENCODE = _ulaw_encode_table()
ALAW_ENCODE = _alaw_encode_table()
ULAW_DECODE = _ulaw_decode_table()
ALAW_DECODE = _alaw_decode_table()


def ulaw_encode(pcm: Pcm) -> bytes:
    return ULAW_ENCODE[np.asarray(pcm, np.int16).view(np.uint16)].tobytes()


def alaw_encode(pcm: Pcm) -> bytes:
    return ALAW_ENCODE[np.asarray(pcm, np.int16).view(np.uint16)].tobytes()


def ulaw_decode(data: bytes) -> Pcm:
    return ULAW_DECODE[np.frombuffer(data, np.uint8)]


def alaw_decode(data: bytes) -> Pcm:
    return ALAW_DECODE[np.frombuffer(data, np.uint8)]


_INT16 = np.dtype(np.int16)


class G711Encoder:
    def __init__(self, info: CodecInfo, samples: int, table: npt.NDArray[np.uint8]) -> None:
        self.info = info
        self.samples_per_packet = samples
        self._table = table
        self._shape = (samples,)

    def encode(self, pcm: Pcm) -> bytes:
        if not (type(pcm) is np.ndarray and pcm.dtype is _INT16 and pcm.shape == self._shape
                and pcm.flags.c_contiguous):  # the usual frame passes these cheap checks; others the full one
            pcm = check_pcm(self.info, pcm, self.samples_per_packet)
        return self._table.take(pcm.view(np.uint16)).tobytes()


class G711Decoder:
    def __init__(self, info: CodecInfo, table: Pcm) -> None:
        self.info = info
        self._table = table
        self._plc = RepeatFade(info.sample_rate)

    def decode(self, payload: bytes) -> Pcm:
        if not payload:
            raise CodecError(f"{self.info.name} payload is empty")
        return self._plc.heard(self._table.take(np.frombuffer(payload, np.uint8)))

    def conceal(self, samples: int) -> Pcm:
        return self._plc.conceal(samples)


@dataclass(frozen=True, eq=False)
class G711Factory:
    info: CodecInfo
    encode_table: npt.NDArray[np.uint8]
    decode_table: Pcm
    option_names: frozenset[str] = frozenset()

    def missing(self) -> str | None:
        return None

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        return self.info

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder:
        return G711Encoder(info, samples, self.encode_table)

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder:
        return G711Decoder(info, self.decode_table)


PCMU = CodecInfo("PCMU", 8000, 8000, frame_samples=1, static_payload_type=0, bitrate=64000)
PCMA = CodecInfo("PCMA", 8000, 8000, frame_samples=1, static_payload_type=8, bitrate=64000)

FACTORIES: tuple[CodecFactory, ...] = (
    G711Factory(PCMU, ULAW_ENCODE, ULAW_DECODE),
    G711Factory(PCMA, ALAW_ENCODE, ALAW_DECODE),
)
