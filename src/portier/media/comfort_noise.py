"""Comfort noise (RFC 3389), sans-IO: the CN payload, the level of some audio, and noise to play.

Why a level in -dBov: a CN packet says how loud the background is (RFC 3389 §3), so the receiver can
fill a silence with noise of that loudness instead of dead air, which listeners take for a dropped
call. 0 dBov is the overload point of the system: for 16-bit linear audio, a full-scale square wave
(RMS 32767), so ``level = -20 log10(rms / 32767)``, 0-127 (127: digital silence).
Why no spectral shape: the reflection coefficients after the level are optional (order M = 0 is
allowed), and a door station's background is broadband, so we send the level alone; coefficients a
peer sends are parsed and kept, and the noise we play is white at the level it asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

CN_PAYLOAD_TYPE = 13
"""RFC 3551's static payload type for CN/8000."""
FULL_SCALE = 32767.0
SILENT = 127
"""The quietest level a CN payload can carry (-127 dBov), which we play as silence."""


class ComfortNoiseError(ValueError):
    """A CN payload that cannot be read; the text says why."""


@dataclass(frozen=True, slots=True)
class ComfortNoise:
    """One CN payload: the noise level (0-127, meaning -level dBov) and the optional quantised
    reflection coefficients of the noise's spectrum (one octet each, RFC 3389 §3.2)."""

    level: int
    coefficients: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.level <= SILENT:
            raise ComfortNoiseError(f"CN noise level must be 0-127 (-dBov), got {self.level}")
        if any(not 0 <= c <= 255 for c in self.coefficients):
            raise ComfortNoiseError(f"CN reflection coefficients are octets, got {self.coefficients}")

    @classmethod
    def parse(cls, payload: bytes) -> ComfortNoise:
        """RFC 3389 §3: the first octet's low 7 bits are the level; its top bit must be 0."""
        if not payload:
            raise ComfortNoiseError("CN payload is empty; it needs at least the noise level octet")
        if payload[0] & 0x80:
            raise ComfortNoiseError(f"CN noise level octet 0x{payload[0]:02x} has its unused top bit set")
        return cls(payload[0], tuple(payload[1:]))

    def __bytes__(self) -> bytes:
        return bytes((self.level, *self.coefficients))

    @property
    def dbov(self) -> float:
        return -float(self.level)


def level_of(samples: npt.NDArray[np.int16]) -> int:
    """The CN level (0-127, -dBov rounded) of some audio; 127 for digital silence or no samples."""
    if samples.size == 0:
        return SILENT
    as_float = samples.astype(np.float64)
    energy = float(np.dot(as_float, as_float)) / samples.size
    return level_from_energy(energy)


def level_from_energy(energy: float) -> int:
    """The CN level of a mean square sample value (the energy per sample)."""
    if energy <= 0.0:
        return SILENT
    dbov = 10.0 * math.log10(energy / (FULL_SCALE * FULL_SCALE))
    return min(SILENT, max(0, round(-dbov)))


def rms_of_level(level: int) -> float:
    """The RMS sample value a CN level stands for (0 for level 127, played as silence)."""
    return 0.0 if level >= SILENT else FULL_SCALE * 10.0 ** (-level / 20.0)


class NoiseGenerator:
    """White noise at the last CN level heard, for the frames of a silence (RFC 3389 §4).

    ``active`` from a CN packet until voice plays again: that is when a missing frame is silence on
    purpose and gets noise, not concealment. Seeded per stream, so a test's output repeats.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._random = np.random.default_rng(seed)
        self._rms = 0.0
        self.active = False
        self.level = SILENT

    def heard(self, noise: ComfortNoise) -> None:
        self.level = noise.level
        self._rms = rms_of_level(noise.level)
        self.active = True

    def stop(self) -> None:
        self.active = False

    def frame(self, samples: int) -> npt.NDArray[np.int16]:
        if self._rms <= 0.0 or samples <= 0:
            return np.zeros(max(samples, 0), dtype=np.int16)
        noise = self._random.standard_normal(samples) * self._rms
        return np.clip(np.round(noise), -32768, 32767).astype(np.int16)
