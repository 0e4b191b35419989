"""G.729 Annex A with Annex B (VAD/DTX/CNG) through Debian's libbcg729, when it is installed.

libbcg729 (package ``libbcg729-0``) is loaded with ctypes; the signatures are those of its
1.1.x headers (``bcg729/encoder.h``, ``bcg729/decoder.h``). Frames are 10 ms: 80 samples in, 10
bytes out, or a 2-byte SID frame / nothing when VAD is on. An RTP payload is a run of 10-byte
frames with at most one SID frame at the end (RFC 3551 4.5.6). Lost packets are concealed by
the decoder's own G.729 erasure procedure.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import CodecError, CodecFactory, CodecInfo, Decoder, Encoder, Pcm, check_pcm

FRAME_SAMPLES = 80
FRAME_BYTES = 10
SID_BYTES = 2
LIBRARY_NAMES = ("libbcg729.so.0", "libbcg729.so")
INSTALL_HINT = "apt install libbcg729-0"

_u8 = ctypes.c_uint8
_u8p = ctypes.POINTER(ctypes.c_uint8)
_i16p = ctypes.POINTER(ctypes.c_int16)


@functools.cache
def library() -> ctypes.CDLL | None:
    """libbcg729 with its prototypes declared, or ``None`` when it is not installed."""
    names = [*LIBRARY_NAMES, ctypes.util.find_library("bcg729")]
    for name in filter(None, names):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.initBcg729EncoderChannel.argtypes = [_u8]
        lib.initBcg729EncoderChannel.restype = ctypes.c_void_p
        lib.closeBcg729EncoderChannel.argtypes = [ctypes.c_void_p]
        lib.closeBcg729EncoderChannel.restype = None
        lib.bcg729Encoder.argtypes = [ctypes.c_void_p, _i16p, _u8p, _u8p]
        lib.bcg729Encoder.restype = None
        lib.initBcg729DecoderChannel.argtypes = []
        lib.initBcg729DecoderChannel.restype = ctypes.c_void_p
        lib.closeBcg729DecoderChannel.argtypes = [ctypes.c_void_p]
        lib.closeBcg729DecoderChannel.restype = None
        lib.bcg729Decoder.argtypes = [ctypes.c_void_p, _u8p, _u8, _u8, _u8, _u8, _i16p]
        lib.bcg729Decoder.restype = None
        return lib
    return None


def _lib() -> ctypes.CDLL:
    lib = library()
    if lib is None:
        raise CodecError(f"G729: libbcg729 is not installed ({INSTALL_HINT})")
    return lib


def _i16(array: Pcm) -> Any:
    return array.ctypes.data_as(_i16p)


class G729Encoder:
    def __init__(self, info: CodecInfo, samples: int, vad: bool) -> None:
        self.info = info
        self.samples_per_packet = samples
        self._lib = _lib()
        handle = self._lib.initBcg729EncoderChannel(1 if vad else 0)
        if not handle:
            raise CodecError("G729: libbcg729 could not create an encoder channel")
        self._handle = ctypes.c_void_p(handle)
        weakref.finalize(self, self._lib.closeBcg729EncoderChannel, self._handle)
        self._out = (ctypes.c_uint8 * FRAME_BYTES)()
        self._length = ctypes.c_uint8()

    def encode(self, pcm: Pcm) -> bytes:
        samples = check_pcm(self.info, pcm, self.samples_per_packet)
        frames: list[bytes] = []
        for start in range(0, samples.shape[0], FRAME_SAMPLES):
            chunk = np.ascontiguousarray(samples[start : start + FRAME_SAMPLES])
            self._lib.bcg729Encoder(self._handle, _i16(chunk), self._out, ctypes.byref(self._length))
            frames.append(bytes(self._out[: self._length.value]))
        # RFC 3551: a SID frame may only end a payload; one followed by speech is dropped.
        kept = [f for i, f in enumerate(frames) if len(f) == FRAME_BYTES or (f and not any(frames[i + 1 :]))]
        return b"".join(kept)


class G729Decoder:
    def __init__(self, info: CodecInfo) -> None:
        self.info = info
        self._lib = _lib()
        handle = self._lib.initBcg729DecoderChannel()
        if not handle:
            raise CodecError("G729: libbcg729 could not create a decoder channel")
        self._handle = ctypes.c_void_p(handle)
        weakref.finalize(self, self._lib.closeBcg729DecoderChannel, self._handle)
        self._spare = np.zeros(0, np.int16)

    def _frame(self, data: bytes | None, erased: bool, sid: bool) -> Pcm:
        out = np.zeros(FRAME_SAMPLES, np.int16)
        size = len(data) if data else 0
        buffer = (ctypes.c_uint8 * max(size, 1)).from_buffer_copy(data) if data else None
        self._lib.bcg729Decoder(self._handle, buffer, size, int(erased), int(sid), 0, _i16(out))
        return out

    def decode(self, payload: bytes) -> Pcm:
        if not payload:
            raise CodecError("G729 payload is empty")
        speech, rest = divmod(len(payload), FRAME_BYTES)
        if rest not in (0, SID_BYTES):
            raise CodecError(
                f"G729 payload of {len(payload)} bytes is not whole 10-byte frames plus at most "
                "one 2-byte SID frame"
            )
        self._spare = np.zeros(0, np.int16)
        frames = [self._frame(payload[i : i + FRAME_BYTES], False, False) for i in range(0, speech * 10, 10)]
        if rest:
            frames.append(self._frame(payload[-SID_BYTES:], False, True))
        return np.concatenate(frames)

    def conceal(self, samples: int) -> Pcm:
        parts = [self._spare]
        have = self._spare.shape[0]
        while have < samples:
            parts.append(self._frame(None, True, False))
            have += FRAME_SAMPLES
        out = np.concatenate(parts)
        self._spare = out[samples:]
        return out[:samples]


class G729Factory:
    info = CodecInfo("G729", 8000, 8000, frame_samples=FRAME_SAMPLES, static_payload_type=18, bitrate=8000)
    option_names = frozenset({"vad"})

    def missing(self) -> str | None:
        if library() is None:
            return f"G729: libbcg729 is not installed ({INSTALL_HINT})"
        return None

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        return self.info

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder:
        return G729Encoder(info, samples, bool(options.get("vad", False)))

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder:
        return G729Decoder(info)


FACTORIES: tuple[CodecFactory, ...] = (G729Factory(),)
