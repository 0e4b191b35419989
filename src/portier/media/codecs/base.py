"""The codec interface and the registry of what can run here.

A codec is offered only when this machine can both encode and decode it: each candidate is
built and run on a frame of silence the first time anyone asks, and the answer is kept. The
ones that fail are listed with a sentence saying why, for the Media page.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np
import numpy.typing as npt

from portier.settings.choices import Codec

Pcm = npt.NDArray[np.int16]
"""Mono 16-bit linear audio at the codec's ``sample_rate``."""


class CodecError(Exception):
    """A codec was used wrongly or was given data it cannot decode."""


class CodecUnavailable(CodecError):
    """The codec is known but cannot run here; the message says why."""


@dataclass(frozen=True)
class CodecInfo:
    """What SDP and the RTP layer need to know about one codec.

    ``clock_rate`` is the RTP clock of the rtpmap, which is not always the rate the audio is
    sampled at: G.722 samples at 16 kHz on an 8 kHz clock (RFC 3551 4.5.2), opus always says
    48000/2 whatever it carries (RFC 7587), MPA runs a 90 kHz clock (RFC 3551 4.5.13).
    """

    name: str
    """SDP encoding name, also the Fanvil name (``Codec`` value)."""
    clock_rate: int
    sample_rate: int
    frame_samples: int
    """Packets hold a whole number of these (codec frame, or byte alignment for G.726)."""
    ptime_ms: int = 20
    """Usual packet duration."""
    channels: int = 1
    """Channel count of the rtpmap; the audio handed in and out is always mono."""
    static_payload_type: int | None = None
    fmtp: str | None = None
    bitrate: int = 0
    ptimes: tuple[int, ...] = ()
    """The only packet durations the codec can make, when it is picky (opus)."""

    @property
    def fanvil(self) -> Codec:
        return Codec(self.name)

    @property
    def frame_ms(self) -> float:
        return self.frame_samples * 1000 / self.sample_rate

    @property
    def rtpmap(self) -> str:
        """``a=rtpmap`` value without the payload type, e.g. ``opus/48000/2``."""
        suffix = f"/{self.channels}" if self.channels != 1 else ""
        return f"{self.name}/{self.clock_rate}{suffix}"

    def packet_samples(self, ptime_ms: float | None = None) -> int:
        """Samples per packet for a wanted ptime: the nearest whole number of frames."""
        wanted = self.ptime_ms if ptime_ms is None else ptime_ms
        if wanted <= 0:
            raise CodecError(f"{self.name}: ptime must be positive, got {wanted} ms")
        if self.ptimes:
            wanted = min(self.ptimes, key=lambda allowed: (abs(allowed - wanted), allowed))
        frames = max(1, round(wanted * self.sample_rate / 1000 / self.frame_samples))
        return frames * self.frame_samples

    def rtp_ticks(self, samples: int) -> int:
        """How far the RTP timestamp moves for ``samples`` of audio (rounded when not whole)."""
        return round(Fraction(samples * self.clock_rate, self.sample_rate))


class Encoder(Protocol):
    """Turns one packet's worth of audio into one RTP payload, keeping state across packets."""

    info: CodecInfo
    samples_per_packet: int

    def encode(self, pcm: Pcm) -> bytes:
        """Encode exactly ``samples_per_packet`` samples; ``b""`` means DTX has nothing to send."""
        ...


class Decoder(Protocol):
    """Turns RTP payloads back into audio; invents audio for lost packets."""

    info: CodecInfo

    def decode(self, payload: bytes) -> Pcm:
        """Decode one payload; raises ``CodecError`` when it cannot."""
        ...

    def conceal(self, samples: int) -> Pcm:
        """Exactly ``samples`` of stand-in audio for a lost packet."""
        ...


class CodecFactory(Protocol):
    """How one codec is made here; each backend module lists these in ``FACTORIES``."""

    @property
    def info(self) -> CodecInfo:
        """The codec as it is without options."""
        ...

    @property
    def option_names(self) -> frozenset[str]:
        """Options ``encoder()``/``decoder()`` accept (each side ignores the other's)."""
        ...

    def missing(self) -> str | None:
        """Why this codec cannot run here, found without running it; ``None`` if it may."""
        ...

    def configure(self, options: Mapping[str, object]) -> CodecInfo:
        """The info for these (already name-checked) options; ``CodecError`` if a value is bad."""
        ...

    def encoder(self, info: CodecInfo, samples: int, options: Mapping[str, object]) -> Encoder: ...

    def decoder(self, info: CodecInfo, options: Mapping[str, object]) -> Decoder: ...


BACKENDS = ("g711", "g729", "g726", "pyav", "mpa")
"""Modules of this package that provide ``FACTORIES``."""


def check_pcm(info: CodecInfo, pcm: Pcm, samples: int) -> Pcm:
    """The audio an encoder was given, refused with a clear sentence if it is not one packet."""
    array = np.asarray(pcm)
    if array.dtype != np.int16:
        raise CodecError(f"{info.name} encoder takes int16 samples, got {array.dtype}")
    if array.ndim != 1 or array.shape[0] != samples:
        raise CodecError(f"{info.name} encoder takes {samples} mono samples per packet, got {array.shape}")
    return np.ascontiguousarray(array)


@functools.cache
def _factories() -> tuple[dict[str, CodecFactory], dict[str, str]]:
    """Every codec with an implementation here, and why the backends that did not load failed."""
    found: dict[str, CodecFactory] = {}
    failures: dict[str, str] = {}
    for module_name in BACKENDS:
        try:
            module = importlib.import_module(f"{__package__}.{module_name}")
        except ImportError as exc:
            failures[module_name] = f"{module_name} backend did not load: {exc}"
            continue
        for factory in module.FACTORIES:
            found[factory.info.name] = factory
    return found, failures


def _probe(factory: CodecFactory) -> str | None:
    """Run the codec once on silence: the reason it cannot run here, or ``None``."""
    reason = factory.missing()
    if reason is not None:
        return reason
    try:
        info = factory.configure({})
        coder = factory.encoder(info, info.packet_samples(), {})
        payload = coder.encode(np.zeros(coder.samples_per_packet, np.int16))
        decoded = factory.decoder(info, {}).decode(payload)
    except Exception as exc:  # any failure means "not here", with the library's own words
        return f"{factory.info.name}: failed its encode/decode check here: {exc}"
    if decoded.dtype != np.int16 or decoded.ndim != 1:
        return f"{factory.info.name}: decoder returned {decoded.dtype} {decoded.shape}, not mono int16"
    return None


@functools.cache
def _survey() -> tuple[dict[str, CodecInfo], dict[str, str]]:
    factories, failures = _factories()
    usable: dict[str, CodecInfo] = {}
    reasons: dict[str, str] = {}
    for codec in Codec:
        factory = factories.get(codec.value)
        if factory is None:
            why = "; ".join(failures.values()) or "no implementation in portier"
            reasons[codec.value] = f"{codec.value}: {why}"
            continue
        reason = _probe(factory)
        if reason is None:
            usable[codec.value] = factory.info
        else:
            reasons[codec.value] = reason
    return usable, reasons


def rescan() -> None:
    """Forget what was found, so the next question looks again (after installing a package)."""
    _survey.cache_clear()
    for factory in _factories()[0].values():
        library = getattr(importlib.import_module(type(factory).__module__), "library", None)
        if library is not None and hasattr(library, "cache_clear"):
            library.cache_clear()


def available() -> dict[str, CodecInfo]:
    """Codecs that can both encode and decode here, by SDP name, in the Fanvil list's order."""
    return dict(_survey()[0])


def unavailable() -> dict[str, str]:
    """Codecs that cannot run here, each with a sentence saying why."""
    return dict(_survey()[1])


def _factory(name: str | Codec) -> CodecFactory:
    wanted = str(name.value if isinstance(name, Codec) else name).lower()
    usable, reasons = _survey()
    for known in (*usable, *reasons):
        if known.lower() == wanted:
            if known in reasons:
                raise CodecUnavailable(reasons[known])
            return _factories()[0][known]
    raise CodecError(f"unknown codec {name!r}; known: {', '.join(c.value for c in Codec)}")


def _configure(factory: CodecFactory, options: Mapping[str, object]) -> CodecInfo:
    unknown = sorted(set(options) - factory.option_names)
    if unknown:
        takes = ", ".join(sorted(factory.option_names)) or "no options"
        raise CodecError(f"{factory.info.name} has no option {', '.join(unknown)}; it takes {takes}")
    return factory.configure(options)


def codec_info(name: str | Codec, **options: object) -> CodecInfo:
    """The info of an available codec as these options make it (e.g. opus at 16 kHz)."""
    factory = _factory(name)
    return _configure(factory, options)


def encoder(name: str | Codec, *, ptime_ms: float | None = None, **options: object) -> Encoder:
    """A new encoder; ``ptime_ms`` is rounded to whole codec frames (``None``: the usual)."""
    factory = _factory(name)
    info = _configure(factory, options)
    return factory.encoder(info, info.packet_samples(ptime_ms), options)


def decoder(name: str | Codec, **options: object) -> Decoder:
    """A new decoder for one incoming stream."""
    factory = _factory(name)
    info = _configure(factory, options)
    return factory.decoder(info, options)
