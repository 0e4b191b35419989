"""opus straight through libopus (ctypes): the libopus PyAV's FFmpeg has loaded, or the system's.

Why not through FFmpeg (``pyav.py``) when this is possible: a call encodes and decodes 50 packets a
second each way, and on the FFmpeg path each of them pays for an ``AudioFrame``, a packet object and
timestamps, and on the way in for a decoder that FFmpeg fixes at 48 kHz followed by a resampler back
down to the call's rate. libopus itself encodes and decodes at 8, 12, 16, 24 or 48 kHz; called
directly it is one C call per packet each way.

The encoder gets exactly the settings FFmpeg's libopus wrapper gives it (VoIP application, the
bitrate, complexity 10, unconstrained VBR, in-band FEC and the expected loss), so with the same
libopus its packets are byte for byte those of the FFmpeg path (a test compares them). The decoder
runs at the call's rate and conceals a lost packet with libopus's own loss concealment, asked for
the way the library intends (no packet), where FFmpeg needed a one-byte stand-in packet.

Which libopus: the one FFmpeg uses, as mapped into this process once PyAV is imported (same
version as the FFmpeg path, nothing more to install); else the system's ``libopus.so.0``. When
neither can be loaded, ``library()`` is ``None`` and ``pyav.py`` keeps the FFmpeg path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import weakref
from pathlib import Path

import numpy as np

from .base import CodecError, CodecInfo, Pcm, check_pcm

APPLICATION_VOIP = 2048
SET_BITRATE = 4002
SET_VBR = 4006
SET_COMPLEXITY = 4010
SET_INBAND_FEC = 4012
SET_PACKET_LOSS_PERC = 4014
SET_VBR_CONSTRAINT = 4020
COMPLEXITY = 10
"""libopus's and FFmpeg's default, and baresip's (``opus_complexity``): the best quality."""
MAX_PACKET = 4000
"""Bytes an encoded packet may take (the size libopus's documentation recommends for the buffer)."""
MAX_PACKET_MS = 120
LIBRARY_NAMES = ("libopus.so.0", "libopus.so")

_INT16 = np.dtype(np.int16)
_p = ctypes.c_void_p
_int = ctypes.c_int


def _loaded_by_ffmpeg() -> list[str]:
    """Paths of the libopus this process has mapped (PyAV's FFmpeg links it); empty if none."""
    try:
        import av  # noqa: F401 - loading FFmpeg maps the libopus it links

        maps = Path("/proc/self/maps").read_text()
    except (ImportError, OSError):
        return []
    paths = {line.split()[-1] for line in maps.splitlines() if line.strip()}
    return sorted(path for path in paths if path.startswith("/") and Path(path).name.startswith("libopus"))


@functools.cache
def library() -> ctypes.CDLL | None:
    """libopus with its prototypes declared, or ``None`` when no libopus can be loaded here."""
    for name in [*_loaded_by_ffmpeg(), *LIBRARY_NAMES, ctypes.util.find_library("opus")]:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.opus_encoder_create.argtypes = [ctypes.c_int32, _int, _int, ctypes.POINTER(_int)]
        except (OSError, AttributeError):
            continue
        lib.opus_encoder_create.restype = _p
        lib.opus_encoder_destroy.argtypes = [_p]
        lib.opus_encoder_destroy.restype = None
        lib.opus_encoder_ctl.restype = _int  # variadic: the arguments are passed as C ints
        lib.opus_encode.argtypes = [_p, _p, _int, _p, ctypes.c_int32]
        lib.opus_encode.restype = ctypes.c_int32
        lib.opus_decoder_create.argtypes = [ctypes.c_int32, _int, ctypes.POINTER(_int)]
        lib.opus_decoder_create.restype = _p
        lib.opus_decoder_destroy.argtypes = [_p]
        lib.opus_decoder_destroy.restype = None
        lib.opus_decode.argtypes = [_p, ctypes.c_char_p, ctypes.c_int32, _p, _int, _int]
        lib.opus_decode.restype = _int
        lib.opus_strerror.argtypes = [_int]
        lib.opus_strerror.restype = ctypes.c_char_p
        lib.opus_get_version_string.argtypes = []
        lib.opus_get_version_string.restype = ctypes.c_char_p
        return lib
    return None


def version() -> str | None:
    """The libopus version string (``libopus 1.5.2``), or None when there is none."""
    lib = library()
    return None if lib is None else lib.opus_get_version_string().decode()


def _lib() -> ctypes.CDLL:
    lib = library()
    if lib is None:
        raise CodecError("opus: no libopus could be loaded")
    return lib


def _error(lib: ctypes.CDLL, code: int) -> str:
    return str(lib.opus_strerror(code).decode())


class LibopusEncoder:
    """One mono libopus encoder at the call's rate; one packet per ``samples_per_packet``."""

    def __init__(self, info: CodecInfo, samples: int, *, fec: bool = False) -> None:
        self.info = info
        self.samples_per_packet = samples
        lib = self._lib = _lib()
        error = _int(0)
        handle = lib.opus_encoder_create(info.sample_rate, 1, APPLICATION_VOIP, ctypes.byref(error))
        if not handle or error.value:
            raise CodecError(f"opus: libopus could not create an encoder: {_error(lib, error.value)}")
        self._handle = _p(handle)
        weakref.finalize(self, lib.opus_encoder_destroy, self._handle)
        settings = (
            (SET_BITRATE, info.bitrate), (SET_COMPLEXITY, COMPLEXITY), (SET_VBR, 1), (SET_VBR_CONSTRAINT, 0),
            (SET_PACKET_LOSS_PERC, 10 if fec else 0), (SET_INBAND_FEC, 1 if fec else 0),
        )  # fmt: skip
        for request, value in settings:  # in the order FFmpeg's libopusenc sets them
            code = lib.opus_encoder_ctl(self._handle, _int(request), ctypes.c_int32(value))
            if code:
                raise CodecError(f"opus: libopus refused setting {request}={value}: {_error(lib, code)}")
        self._encode = lib.opus_encode
        self._out = ctypes.create_string_buffer(MAX_PACKET)
        self._shape = (samples,)

    def encode(self, pcm: Pcm) -> bytes:
        if not (type(pcm) is np.ndarray and pcm.dtype is _INT16 and pcm.shape == self._shape
                and pcm.flags.c_contiguous):  # the usual frame passes these cheap checks; others the full one
            pcm = check_pcm(self.info, pcm, self.samples_per_packet)
        size = self._encode(self._handle, pcm.ctypes.data, self.samples_per_packet, self._out, MAX_PACKET)
        if size < 0:
            raise CodecError(f"opus encoder failed: {_error(self._lib, size)}")
        return ctypes.string_at(self._out, size)


class LibopusDecoder:
    """One mono libopus decoder at the call's rate; a lost packet is concealed by libopus."""

    def __init__(self, info: CodecInfo) -> None:
        self.info = info
        lib = self._lib = _lib()
        error = _int(0)
        handle = lib.opus_decoder_create(info.sample_rate, 1, ctypes.byref(error))
        if not handle or error.value:
            raise CodecError(f"opus: libopus could not create a decoder: {_error(lib, error.value)}")
        self._handle = _p(handle)
        weakref.finalize(self, lib.opus_decoder_destroy, self._handle)
        self._decode = lib.opus_decode
        self._capacity = info.sample_rate * MAX_PACKET_MS // 1000
        self._pcm = np.zeros(self._capacity, np.int16)
        self._address = self._pcm.ctypes.data
        self._step = info.sample_rate // 400
        """libopus conceals in multiples of 2.5 ms."""
        self._spare: Pcm = np.zeros(0, np.int16)
        self._heard = False

    def decode(self, payload: bytes) -> Pcm:
        if not payload:
            raise CodecError("opus payload is empty")
        count = self._decode(self._handle, payload, len(payload), self._address, self._capacity, 0)
        if count < 0:
            reason = _error(self._lib, count)
            raise CodecError(f"opus payload of {len(payload)} bytes does not decode: {reason}")
        if not count:
            raise CodecError(f"opus payload of {len(payload)} bytes holds no complete frame")
        self._heard = True
        if self._spare.size:
            self._spare = np.zeros(0, np.int16)
        return self._pcm[:count].copy()

    def conceal(self, samples: int) -> Pcm:
        """Exactly ``samples`` of libopus's concealment (it makes whole 2.5 ms steps; the rest waits)."""
        if samples <= 0:
            return np.zeros(0, np.int16)
        if not self._heard:
            return np.zeros(samples, np.int16)
        spare = self._spare
        wanted = samples - spare.shape[0]
        if wanted <= 0:
            self._spare = spare[samples:]
            return spare[:samples].copy()
        ask = min(-(-wanted // self._step) * self._step, self._capacity)
        count = self._decode(self._handle, None, 0, self._address, ask, 0)
        if count <= 0:
            return np.zeros(samples, np.int16)
        out = np.concatenate((spare, self._pcm[:count])) if spare.size else self._pcm[:count].copy()
        if out.shape[0] < samples:  # more than 120 ms asked for at once: the rest is silence
            out = np.concatenate((out, np.zeros(samples - out.shape[0], np.int16)))
        self._spare = out[samples:]
        return out[:samples]
