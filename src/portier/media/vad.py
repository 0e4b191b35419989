"""Voice activity detection and silence suppression for the sender (sans-IO), with RFC 3389 comfort noise.

Why an energy VAD: a door station's microphone hears either someone talking or the street; the
frame's energy against a tracked noise floor tells them apart at no cost worth mentioning, and a
codec-independent decision works for every codec we send. A frame is voice when its level is more
than ``margin`` dB above the noise floor; the threshold is held between ``floor`` (so hiss on a quiet
line is never voice) and ``ceiling`` (so a loud sound is always voice: a steady tone, music or a
noisy street is sent, never mistaken for background that the floor crept up to).
Why a hangover: word endings and the gaps between syllables are quiet; after the last loud frame
the sender keeps sending audio for ``hangover`` seconds (200 ms) so words are not clipped.
The noise floor starts at the first frame's level, follows quiet frames quickly (an EMA of their
level) and rises only slowly (1 dB a second) while loud frames go on, so a background that steps up
is learned without the floor tracking speech.

What the sender does with the decisions (RFC 3389 §4, RFC 3551 §4.1): voice frames go out as audio,
the first one after a silence with the marker bit; at the start of a silence one CN packet carries the
noise level, then one every ``refresh`` (400 ms). Why 400 ms: that is the rate opus DTX keeps up, so
the receiver follows a changing background within half a second, a CN packet lost on the way costs
at most 400 ms of concealment instead of a whole silence, and the stream still shows it is alive
while saving 95 % of the packets of a silence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .comfort_noise import FULL_SCALE, SILENT, level_from_energy

AUDIO = "audio"
COMFORT_NOISE = "comfort-noise"
NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class Decision:
    """What to send for one frame: ``audio`` (``marker`` on a talkspurt's first), ``comfort-noise`` at
    ``level`` (-dBov), or ``nothing``."""

    send: str
    marker: bool = False
    level: int = SILENT


_AUDIO = Decision(AUDIO)
_TALKSPURT = Decision(AUDIO, marker=True)
_NOTHING = Decision(NOTHING)


def energy_of(samples: npt.NDArray[np.int16]) -> float:
    """Mean square sample value of a frame (0.0 for none)."""
    if samples.size == 0:
        return 0.0
    as_float = samples.astype(np.float64)
    return float(np.dot(as_float, as_float)) / samples.size


def dbov(energy: float) -> float:
    """Level of a mean square value in dBov (-127 for digital silence)."""
    if energy <= 0.0:
        return -127.0
    return max(-127.0, 10.0 * math.log10(energy / (FULL_SCALE * FULL_SCALE)))


class VoiceActivityDetector:
    """Frame energies in, voice or not out, with a tracked noise floor and a hangover."""

    def __init__(
        self,
        frame_seconds: float = 0.02,
        *,
        margin: float = 9.0,
        floor: float = -55.0,
        ceiling: float = -30.0,
        hangover: float = 0.2,
        follow: float = 0.2,
        rise_per_second: float = 1.0,
    ) -> None:
        if not floor <= ceiling:
            raise ValueError(f"VAD floor must not exceed its ceiling, got {floor} and {ceiling} dBov")
        self.margin = margin
        self.floor = floor
        self.ceiling = ceiling
        self.hangover_frames = math.ceil(hangover / frame_seconds - 1e-9)
        self.follow = follow
        self.rise = rise_per_second * frame_seconds
        self.noise: float | None = None
        """The background's level in dBov as tracked so far (None before the first frame)."""
        self.voice = False
        self._left = 0

    @property
    def threshold(self) -> float:
        noise = self.floor - self.margin if self.noise is None else self.noise
        return min(max(noise + self.margin, self.floor), self.ceiling)

    def update(self, energy: float) -> bool:
        """One frame's mean square value; True while it is voice or within the hangover after voice."""
        level = dbov(energy)
        if self.noise is None:
            self.noise = level
        if level > self.threshold:
            self._left = self.hangover_frames
            self.noise = min(self.noise + self.rise, level)
            self.voice = True
            return True
        self.noise += self.follow * (level - self.noise)
        self.voice = self._left > 0
        if self._left:
            self._left -= 1
        return self.voice


class SilenceSuppressor:
    """The sender's side of VAD: one ``Decision`` per frame of audio about to be sent."""

    def __init__(
        self, frame_seconds: float = 0.02, *, refresh: float = 0.4, vad: VoiceActivityDetector | None = None
    ) -> None:
        self.vad = vad if vad is not None else VoiceActivityDetector(frame_seconds)
        self.refresh_frames = max(1, round(refresh / frame_seconds))
        self.silent = False
        """In a silence: comfort noise went out and no voice since."""
        self._countdown = 0
        self._energy = 0.0
        self._frames = 0

    def decide(self, samples: npt.NDArray[np.int16]) -> Decision:
        energy = energy_of(samples)
        if self.vad.update(energy):
            if self.silent:
                self.silent = False
                return _TALKSPURT
            return _AUDIO
        self._energy += energy
        self._frames += 1
        self._countdown -= 1
        if self.silent and self._countdown > 0:
            return _NOTHING
        level = level_from_energy(self._energy / self._frames)
        self._energy, self._frames = 0.0, 0
        self._countdown = self.refresh_frames
        self.silent = True
        return Decision(COMFORT_NOISE, level=level)
