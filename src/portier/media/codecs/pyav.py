"""G.722, G.723.1, opus (and iLBC, if this FFmpeg can encode it) through PyAV's FFmpeg; see mpa.py.

opus goes straight to libopus when it can (``libopus.py``); the FFmpeg path here is its fallback.

Each stream keeps one open FFmpeg codec context, so predictor and filter state carry from packet
to packet. Frames are handed to FFmpeg in exactly the size it encodes, so a packet is never held
back waiting for more audio. Audio leaves every decoder as mono int16 at the codec's own rate;
only opus (whose decoder in FFmpeg always runs at 48 kHz) and MPA streams at another rate go
through a resampler.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Literal, cast

import av
import numpy as np
from av.audio.codeccontext import AudioCodecContext
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.error import FFmpegError

from . import libopus
from .base import CodecError, CodecFactory, CodecInfo, Decoder, Encoder, Pcm, check_pcm
from .plc import FadeEnvelope, RepeatFade

Direction = Literal["r", "w"]


@functools.cache
def has_codec(name: str, mode: Direction) -> bool:
    """Whether PyAV's FFmpeg has this encoder (``"w"``) or decoder (``"r"``)."""
    try:
        av.Codec(name, mode)
    except (FFmpegError, ValueError):
        return False
    return True


def _context(
    codec: str, mode: Direction, rate: int, options: Mapping[str, str], bit_rate: int = 0
) -> AudioCodecContext:
    context = cast(AudioCodecContext, av.CodecContext.create(codec, mode))
    context.sample_rate = rate
    context.layout = "mono"
    if mode == "w":
        context.format = "s16"
        if bit_rate:
            context.bit_rate = bit_rate
    context.options = dict(options)
    context.open()
    return context


class AvEncoder:
    """One FFmpeg encoder fed whole codec frames; a packet is their payloads after ``header``."""

    def __init__(
        self,
        info: CodecInfo,
        samples: int,
        codec: str,
        *,
        options: Mapping[str, str] | None = None,
        header: bytes = b"",
    ) -> None:
        self.info = info
        self.samples_per_packet = samples
        self._context = _context(codec, "w", info.sample_rate, options or {}, info.bitrate)
        self._frame = self._context.frame_size or samples
        if samples % self._frame:
            raise CodecError(
                f"{info.name}: {samples} samples is not a whole number of {self._frame}-sample frames"
            )
        self._header = header
        self._pts = 0
        self._time_base = Fraction(1, info.sample_rate)

    def encode(self, pcm: Pcm) -> bytes:
        samples = check_pcm(self.info, pcm, self.samples_per_packet)
        payload = bytearray(self._header)
        for start in range(0, samples.shape[0], self._frame):
            chunk = samples[start : start + self._frame].reshape(1, -1)
            frame = AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
            frame.sample_rate = self.info.sample_rate
            frame.pts = self._pts
            frame.time_base = self._time_base
            self._pts += self._frame
            try:
                packets = self._context.encode(frame)
            except FFmpegError as exc:
                raise CodecError(f"{self.info.name} encoder failed: {exc}") from exc
            for packet in packets:
                payload += bytes(packet)
        return bytes(payload)


class MonoOutput:
    """Decoded FFmpeg frames as mono int16 at one rate, resampling only when they differ.

    A resampler's filter delay would shorten the first output; that shortfall is paid once, as
    leading silence, so that each payload yields as much audio as it carries.
    """

    def __init__(self, rate: int) -> None:
        self._rate = rate
        self._resampler: AudioResampler | None = None
        self._owed = Fraction(0)
        self._started = False

    def convert(self, frames: list[AudioFrame]) -> Pcm:
        parts: list[Pcm] = []
        for frame in frames:
            if self._resampler is None:
                direct = frame.format.name in ("s16", "s16p") and frame.layout.nb_channels == 1
                if direct and frame.sample_rate == self._rate:
                    parts.append(_samples(frame))
                    continue
                self._resampler = AudioResampler(format="s16", layout="mono", rate=self._rate)
            if not self._started:  # only the first output is topped up; no fractions after it
                self._owed += Fraction(frame.samples * self._rate, frame.sample_rate)
            for out in self._resampler.resample(frame):
                parts.append(_samples(out))
        pcm = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, np.int16)
        if self._resampler is not None and not self._started and pcm.size:
            self._started = True
            short = round(self._owed) - pcm.shape[0]
            if short > 0:
                pcm = np.concatenate((np.zeros(short, np.int16), pcm))
        return pcm


def _samples(frame: AudioFrame) -> Pcm:
    """A mono s16 frame's samples, copied out of FFmpeg's buffer (cheaper than ``to_ndarray``)."""
    return np.frombuffer(memoryview(frame.planes[0]), dtype=np.int16, count=frame.samples).copy()


class AvDecoder:
    """One FFmpeg decoder; subclasses say how to conceal a loss."""

    def __init__(
        self,
        info: CodecInfo,
        codec: str,
        *,
        rate: int | None = None,
        options: Mapping[str, str] | None = None,
    ) -> None:
        self.info = info
        self._context = _context(codec, "r", rate or info.sample_rate, options or {})
        self._output = MonoOutput(info.sample_rate)
        self._plc = RepeatFade(info.sample_rate)
        self._spare = np.zeros(0, np.int16)

    def _run(self, data: bytes) -> Pcm:
        try:
            return self._output.convert(self._context.decode(av.Packet(data)))
        except (FFmpegError, ValueError) as exc:  # ValueError: the resampler met a changed stream
            raise CodecError(f"{self.info.name} payload of {len(data)} bytes does not decode: {exc}") from exc

    def decode(self, payload: bytes) -> Pcm:
        if not payload:  # an empty packet would put FFmpeg's decoder into draining, for good
            raise CodecError(f"{self.info.name} payload is empty")
        pcm = self._run(payload)
        if not pcm.size:
            raise CodecError(f"{self.info.name} payload of {len(payload)} bytes holds no complete frame")
        self._spare = np.zeros(0, np.int16)
        return self._plc.heard(pcm)

    def conceal(self, samples: int) -> Pcm:
        return self._plc.conceal(samples)

    def _conceal_natively(self, samples: int, make: Callable[[], Pcm]) -> Pcm:
        """Exactly ``samples`` from a codec's own concealment, which comes in whole frames."""
        parts = [self._spare]
        have = self._spare.shape[0]
        while have < samples:
            chunk = make()
            if not chunk.size:
                return np.zeros(samples, np.int16)
            parts.append(chunk)
            have += chunk.shape[0]
        out = np.concatenate(parts)
        self._spare = out[samples:]
        return out[:samples]


def missing_codec(name: str, encoder: str, decoder: str) -> str | None:
    if not has_codec(decoder, "r"):
        return f"{name}: PyAV's FFmpeg has no {decoder} decoder"
    if not has_codec(encoder, "w"):
        return f"{name}: PyAV's FFmpeg has no {encoder} encoder"
    return None


def choice_option(
    info: CodecInfo, options: Mapping[str, object], key: str, default: int, allowed: tuple[int, ...]
) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise CodecError(f"{info.name} {key} must be one of {', '.join(map(str, allowed))}, got {value!r}")
    return value


def bitrate_option(info: CodecInfo, options: Mapping[str, object], low: int, high: int) -> int:
    value = options.get("bitrate", info.bitrate)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CodecError(f"{info.name} bitrate must be whole bit/s in {low}-{high}, got {value!r}")
    return value


class G722Factory:
    """G.722 at 64 kbit/s: 16 kHz audio on the 8 kHz RTP clock RFC 3551 kept for history."""

    info = CodecInfo("G722", 8000, 16000, frame_samples=2, static_payload_type=9, bitrate=64000)
    option_names = frozenset[str]()

    def missing(self) -> str | None:
        return missing_codec(self.info.name, "g722", "g722")

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        return self.info

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder:
        # FFmpeg's G.722 encoder takes any even frame size it is given (320 otherwise).
        return AvEncoder(info, samples, "g722", options={"frame_size": str(samples)})

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder:
        return AvDecoder(info, "g722")


class G723Decoder(AvDecoder):
    """Conceals with the decoder's own G.723.1 erasure procedure, faded out like the others."""

    ERASED = bytes([0xFC]) + b"\xff" * 23
    """A 6.3 kbit/s frame whose first pitch lag is a forbidden code (> 123): FFmpeg's decoder
    marks it bad and runs the erasure concealment of G.723.1 section 3.10 instead."""

    def __init__(self, info: CodecInfo) -> None:
        super().__init__(info, "g723_1")
        self._envelope = FadeEnvelope(info.sample_rate)

    def decode(self, payload: bytes) -> Pcm:
        self._envelope.reset()
        return super().decode(payload)

    def conceal(self, samples: int) -> Pcm:
        return self._envelope.apply(self._conceal_natively(samples, lambda: self._run(self.ERASED)))


class G723Factory:
    """G.723.1 at 6.3 kbit/s: 30 ms frames of 24 bytes (FFmpeg encodes only this rate)."""

    info = CodecInfo(
        "G723", 8000, 8000, frame_samples=240, ptime_ms=30, static_payload_type=4, bitrate=6300
    )
    option_names = frozenset[str]()

    def missing(self) -> str | None:
        return missing_codec(self.info.name, "g723_1", "g723_1")

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        return self.info

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder:
        return AvEncoder(info, samples, "g723_1")

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder:
        return G723Decoder(info)


OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def opus_fmtp(sample_rate: int) -> str:
    """RFC 7587 parameters saying how wide the audio we send and want is."""
    return f"maxplaybackrate={sample_rate};sprop-maxcapturerate={sample_rate}"


class OpusDecoder(AvDecoder):
    """libopus at 48 kHz, resampled; a loss is concealed by libopus itself.

    FFmpeg cannot pass libopus the "no packet" that starts its concealment, but a packet that is
    only a TOC byte (a zero-length frame, RFC 6716 3.2.1) does the same: libopus treats the frame
    as lost and conceals one frame of the duration the TOC names.
    """

    def __init__(self, info: CodecInfo) -> None:
        codec = "libopus" if has_codec("libopus", "r") else "opus"
        super().__init__(info, codec, rate=48000)
        self._toc: int | None = None

    def decode(self, payload: bytes) -> Pcm:
        pcm = super().decode(payload)
        self._toc = payload[0]
        return pcm

    def conceal(self, samples: int) -> Pcm:
        toc = self._toc
        if toc is None:
            return np.zeros(samples, np.int16)
        return self._conceal_natively(samples, lambda: self._run(bytes([toc & 0xFC])))


class OpusFactory:
    """Opus (RFC 7587): always ``opus/48000/2`` in SDP; we encode mono at ``sample_rate``.

    Coded by libopus directly (``libopus.py``: the same packets, a fraction of the cost per packet)
    whenever a libopus can be loaded; through FFmpeg otherwise."""

    info = CodecInfo(
        "opus", 48000, 8000, frame_samples=80, channels=2, fmtp=opus_fmtp(8000), bitrate=24000,
        ptimes=(10, 20, 40, 60),
    )
    option_names = frozenset[str]({"sample_rate", "bitrate", "fec"})

    def missing(self) -> str | None:
        if libopus.library() is not None:
            return None
        if not (has_codec("libopus", "r") or has_codec("opus", "r")):
            return "opus: PyAV's FFmpeg has no opus decoder"
        if not has_codec("libopus", "w"):
            return "opus: PyAV's FFmpeg has no libopus encoder"
        return None

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        rate = choice_option(self.info, options, "sample_rate", self.info.sample_rate, OPUS_RATES)
        bitrate = bitrate_option(self.info, options, 6000, 510000)
        return replace(
            self.info, sample_rate=rate, frame_samples=rate // 100, bitrate=bitrate, fmtp=opus_fmtp(rate)
        )

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder:
        fec = bool(options.get("fec", False))
        if libopus.library() is not None:
            return libopus.LibopusEncoder(info, samples, fec=fec)
        settings = {
            "application": "voip",
            "frame_duration": str(samples * 1000 // info.sample_rate),
            "fec": "1" if fec else "0",
            "packet_loss": "10" if fec else "0",
        }
        return AvEncoder(info, samples, "libopus", options=settings)

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder:
        if libopus.library() is not None:
            return libopus.LibopusDecoder(info)
        return OpusDecoder(info)


class IlbcFactory:
    """iLBC (RFC 3952) in 20 or 30 ms mode; FFmpeg encodes it only through libilbc."""

    info = CodecInfo("iLBC", 8000, 8000, frame_samples=160, fmtp="mode=20", bitrate=15200)
    option_names = frozenset[str]({"mode"})

    def missing(self) -> str | None:
        if not has_codec("ilbc", "r"):
            return "iLBC: PyAV's FFmpeg has no iLBC decoder"
        if not has_codec("libilbc", "w"):
            return "iLBC: PyAV's FFmpeg has an iLBC decoder but no iLBC encoder (libilbc is not built in)"
        return None

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        mode = choice_option(self.info, options, "mode", 20, (20, 30))
        return replace(
            self.info, frame_samples=8 * mode, ptime_ms=mode, fmtp=f"mode={mode}",
            bitrate=15200 if mode == 20 else 13330,
        )

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder:
        return AvEncoder(info, samples, "libilbc", options={"mode": str(info.ptime_ms)})

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder:
        return AvDecoder(info, "ilbc")


FACTORIES: tuple[CodecFactory, ...] = (
    IlbcFactory(), OpusFactory(), G722Factory(), G723Factory(),
)
