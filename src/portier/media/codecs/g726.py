"""G.726 at 16, 24, 32 and 40 kbit/s through spandsp (Debian ``libspandsp2``), loaded with ctypes.

Why not PyAV, like the other codecs: FFmpeg's G.726 encoder fixes its frame at 4096/2736/2048/1640
samples (about a quarter second) and refuses smaller frames except a last one, so it cannot make
20 ms RTP packets; and its 40 kbit/s mode leaks the six zero-predictor coefficients by 2^-8 where
G.726 says 2^-9, so its G726-40 does not interwork with ITU-exact implementations (spandsp's,
Sun's reference code). spandsp is also what baresip's g726 module uses.

Bit packing: RFC 3551 4.5.4 puts the first code word in the least significant bits of the first
octet ("right" packing in spandsp, FFmpeg's ``g726le``); ITU-T I.366.2 / AAL2 puts it in the most
significant bits ("left", FFmpeg's ``g726``, SDP name ``AAL2-G726-32``). The plain names mean RFC
3551 packing here. Some peers send left-packed audio under the plain name (baresip's g726 module
initialises spandsp with left packing), so ``packing="aal2"`` is available to meet them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import CodecError, CodecFactory, CodecInfo, Decoder, Encoder, Pcm, check_pcm
from .plc import RepeatFade

LIBRARY_NAMES = ("libspandsp.so.2", "libspandsp.so.3", "libspandsp.so")
INSTALL_HINT = "apt install libspandsp2"
ENCODING_LINEAR = 0
PACKING = {"rfc3551": 2, "aal2": 1}  # spandsp's G726_PACKING_RIGHT / G726_PACKING_LEFT
BYTE_ALIGNED_SAMPLES = 8  # 8 code words of 2-5 bits always end on an octet boundary


@functools.cache
def library() -> ctypes.CDLL | None:
    """spandsp with the G.726 prototypes of ``spandsp/g726.h`` declared, or ``None``."""
    for name in filter(None, [*LIBRARY_NAMES, ctypes.util.find_library("spandsp")]):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.g726_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.g726_init.restype = ctypes.c_void_p
        lib.g726_free.argtypes = [ctypes.c_void_p]
        lib.g726_free.restype = ctypes.c_int
        lib.g726_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.g726_encode.restype = ctypes.c_int
        lib.g726_decode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.g726_decode.restype = ctypes.c_int
        return lib
    return None


class _State:
    """One spandsp G.726 context, freed with its owner."""

    def __init__(self, info: CodecInfo, packing: str) -> None:
        lib = library()
        if lib is None:
            raise CodecError(f"{info.name}: spandsp is not installed ({INSTALL_HINT})")
        handle = lib.g726_init(None, info.bitrate, ENCODING_LINEAR, PACKING[packing])
        if not handle:
            raise CodecError(f"{info.name}: spandsp could not create a G.726 context")
        self.lib = lib
        self.handle = ctypes.c_void_p(handle)
        weakref.finalize(self, lib.g726_free, self.handle)


def _address(array: Any) -> int:
    return int(array.ctypes.data)


class G726Encoder:
    def __init__(self, info: CodecInfo, samples: int, packing: str) -> None:
        self.info = info
        self.samples_per_packet = samples
        self._state = _State(info, packing)
        self._out = np.zeros(samples, np.uint8)  # at most 5 bits per sample

    def encode(self, pcm: Pcm) -> bytes:
        samples = check_pcm(self.info, pcm, self.samples_per_packet)
        size = self._state.lib.g726_encode(
            self._state.handle, _address(self._out), _address(samples), samples.shape[0]
        )
        return self._out[:size].tobytes()


class G726Decoder:
    def __init__(self, info: CodecInfo, packing: str) -> None:
        self.info = info
        bits = info.bitrate // info.sample_rate
        self._bits = bits
        self._group = bits // math.gcd(8, bits)  # octets holding a whole number of code words
        self._state = _State(info, packing)
        self._plc = RepeatFade(info.sample_rate)

    def decode(self, payload: bytes) -> Pcm:
        if not payload:
            raise CodecError(f"{self.info.name} payload is empty")
        if len(payload) % self._group:
            # spandsp would carry the odd bits into the next payload and misalign every one after.
            raise CodecError(
                f"{self.info.name} payload of {len(payload)} bytes is not a whole number of "
                f"{self._group}-byte code word groups"
            )
        data = np.frombuffer(payload, np.uint8)
        out = np.zeros(len(payload) * 8 // self._bits + 8, np.int16)
        count = self._state.lib.g726_decode(self._state.handle, _address(out), _address(data), len(payload))
        return self._plc.heard(out[:count].copy())

    def conceal(self, samples: int) -> Pcm:
        return self._plc.conceal(samples)


@dataclass(frozen=True)
class G726Factory:
    info: CodecInfo
    option_names: frozenset[str] = frozenset({"packing"})

    def missing(self) -> str | None:
        if library() is None:
            return (
                f"{self.info.name}: spandsp is not installed ({INSTALL_HINT}); PyAV's FFmpeg G.726 "
                "encoder only makes 2048-sample frames, too long for RTP"
            )
        return None

    def _packing(self, options: Mapping[str, object]) -> str:
        packing = options.get("packing", "rfc3551")
        if packing not in PACKING:
            raise CodecError(f"{self.info.name} packing must be 'rfc3551' or 'aal2', got {packing!r}")
        return str(packing)

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        self._packing(options)
        return self.info

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder:
        return G726Encoder(info, samples, self._packing(options))

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder:
        return G726Decoder(info, self._packing(options))


def _info(kbits: int) -> CodecInfo:
    return CodecInfo(
        f"G726-{kbits}", 8000, 8000, frame_samples=BYTE_ALIGNED_SAMPLES, bitrate=kbits * 1000
    )


FACTORIES: tuple[CodecFactory, ...] = tuple(G726Factory(_info(k)) for k in (16, 24, 32, 40))
