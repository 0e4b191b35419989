"""Packet-loss concealment for codecs that have none of their own.

After the idea of ITU-T G.711 Appendix I: repeat the last pitch period of what was heard, at full
level for 10 ms, then 20 % quieter for every further 10 ms, silent after 60 ms. A hole then sounds
like a held vowel fading out rather than a click and a gap.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt

from .base import Pcm

_NONE: Pcm = np.zeros(0, np.int16)

HISTORY_MS = 40
FULL_MS = 10
FADE_MS = 50


class FadeEnvelope:
    """The gain for each concealed sample, counted from the start of the current loss."""

    def __init__(self, sample_rate: int) -> None:
        self._full = sample_rate * FULL_MS // 1000
        self._fade = sample_rate * FADE_MS // 1000
        self.lost = 0

    def reset(self) -> None:
        self.lost = 0

    def gains(self, samples: int) -> npt.NDArray[np.float32]:
        position = self.lost + np.arange(samples, dtype=np.float32)
        self.lost += samples
        return np.clip(1 - (position - self._full) / self._fade, 0, 1).astype(np.float32)

    def apply(self, pcm: Pcm) -> Pcm:
        shaped = pcm.astype(np.float32) * self.gains(pcm.shape[0])
        return np.round(shaped).astype(np.int16)


class RepeatFade:
    """Remembers what was decoded and repeats its last pitch period, fading, when told to."""

    def __init__(self, sample_rate: int) -> None:
        self._rate = sample_rate
        self._keep = sample_rate * HISTORY_MS // 1000
        self._heard: deque[Pcm] = deque()
        """The latest decoded frames, at least ``HISTORY_MS`` of them when there are: joined only for a
        loss, not for every frame that plays."""
        self._held = 0
        self._cycle = _NONE
        self._phase = 0
        self._envelope = FadeEnvelope(sample_rate)

    @property
    def _history(self) -> Pcm:
        if not self._heard:
            return _NONE
        joined = self._heard[0] if len(self._heard) == 1 else np.concatenate(self._heard)
        return joined[-self._keep:]

    def heard(self, pcm: Pcm) -> Pcm:
        """Note decoded audio (and end any loss); returns it unchanged for chaining."""
        heard = self._heard
        heard.append(pcm)
        self._held += pcm.shape[0]
        while self._held - heard[0].shape[0] >= self._keep:
            self._held -= heard.popleft().shape[0]
        if self._cycle.size:
            self._cycle = _NONE
        if self._envelope.lost:
            self._envelope.reset()
        return pcm

    def conceal(self, samples: int) -> Pcm:
        if samples <= 0:
            return np.zeros(0, np.int16)
        if not self._cycle.size:
            self._cycle = self._last_period()
            self._phase = 0
        if not self._cycle.size:
            return np.zeros(samples, np.int16)
        index = (self._phase + np.arange(samples)) % self._cycle.size
        self._phase = int((self._phase + samples) % self._cycle.size)
        return self._envelope.apply(self._cycle[index])

    def _last_period(self) -> Pcm:
        """The last pitch period of the history (2.5-15 ms), found by normalised autocorrelation."""
        history = self._history.astype(np.float64)
        shortest, longest = self._rate // 400, self._rate * 15 // 1000
        window = self._rate * 10 // 1000
        if history.size < window + longest or not np.any(history):
            return self._history[-max(shortest, 1):] if history.size else self._history
        target = history[-window:]
        best_lag, best_score = longest, -np.inf
        for lag in range(shortest, longest + 1):
            candidate = history[-window - lag : -lag]
            energy = float(np.dot(candidate, candidate))
            if energy <= 0:
                continue
            score = float(np.dot(target, candidate)) / np.sqrt(energy)
            if score > best_score + 1e-9 * abs(best_score):
                best_lag, best_score = lag, score
        return self._history[-best_lag:]
