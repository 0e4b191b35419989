"""The one loudspeaker: a mixer that every call and every tone writes into.

A door station has one speaker, but several things may want it at once: the call's audio and the
call-waiting beep over it, a ring and an alarm. Each writer gets a ``MixerChannel`` (a sink at its
own rate, resampled to the card's); the sound card's audio thread calls ``Mixer.mix`` for each block
and gets the sum, clipped.

Each channel is a small FIFO filled on the event loop and drained on the audio thread. A channel
starts to play only once it holds ``prebuffer`` seconds, and after running dry it waits to hold that
much again: the loop's timers jitter by a few milliseconds, and a channel that played every sample
the moment it came would stutter. Closing a channel silences it at once (a ring stops the moment the
call is answered).
"""

from __future__ import annotations

import threading

import numpy as np

from .audio import Samples, StreamResampler
from .sample_ring import SampleRing

PREBUFFER_S = 0.04
CAPACITY_S = 0.3


class MixerChannel:
    """One writer's sink into the mixer; ``write`` never blocks (overflow drops the oldest audio)."""

    def __init__(self, mixer: Mixer, rate: int, name: str) -> None:
        self.mixer = mixer
        self.name = name
        self.rate = rate
        self._resample = StreamResampler(rate, mixer.rate)
        self.ring = SampleRing(max(1, round(CAPACITY_S * mixer.rate)))
        self.prebuffer = max(1, round(PREBUFFER_S * mixer.rate))
        self.playing = False
        self.underruns = 0
        self.closed = False

    def write(self, samples: Samples) -> None:
        if not self.closed:
            self.ring.push(self._resample(samples))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.mixer.remove(self)

    def take(self, count: int) -> Samples | None:
        """Up to ``count`` samples for the mix (audio thread), or None while priming."""
        if not self.playing:
            if len(self.ring) < self.prebuffer:
                return None
            self.playing = True
        out = self.ring.pop(count)
        if out.size < count:
            self.playing = False
            self.underruns += 1
        return out


class Mixer:
    """Sums its channels at ``rate``; ``mix`` is called from the sound card's thread."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._channels: list[MixerChannel] = []
        self._lock = threading.Lock()

    def channel(self, rate: int, name: str = "") -> MixerChannel:
        """A new sink at ``rate`` whose audio is heard mixed with the others."""
        channel = MixerChannel(self, rate, name)
        with self._lock:
            self._channels.append(channel)
        return channel

    def remove(self, channel: MixerChannel) -> None:
        with self._lock:
            if channel in self._channels:
                self._channels.remove(channel)

    @property
    def channels(self) -> list[MixerChannel]:
        with self._lock:
            return list(self._channels)

    def mix(self, count: int) -> Samples:
        """The next ``count`` samples of the sum of every playing channel (silence when none plays)."""
        total = np.zeros(count, dtype=np.int32)
        for channel in self.channels:
            part = channel.take(count)
            if part is not None and part.size:
                total[: part.size] += part
        mixed: Samples = np.clip(total, -32768, 32767).astype(np.int16)
        return mixed
