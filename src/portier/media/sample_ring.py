"""A bounded FIFO of int16 samples shared by the event loop and a sound card's audio thread.

PortAudio calls its stream callback on its own thread, at the card's pace; the RTP tick and the tone
player run on the asyncio loop, at theirs. Between them sits this ring: both sides only copy a few
hundred samples under a lock, so neither ever waits on the other. When the writer runs ahead (the
two clocks drift apart, or nobody reads) the oldest samples go, so latency stays bounded.
"""

from __future__ import annotations

import threading

import numpy as np

from .audio import Samples


class SampleRing:
    """At most ``capacity`` samples; ``push`` drops the oldest on overflow, ``pop`` never blocks."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a sample ring needs room for at least one sample, got {capacity}")
        self.capacity = capacity
        self._data = np.zeros(capacity, dtype=np.int16)
        self._start = 0
        self._size = 0
        self._lock = threading.Lock()
        self.dropped = 0
        """Samples lost to overflow since the ring was made (a sign of clock drift or a stalled reader)."""

    def __len__(self) -> int:
        return self._size

    def push(self, samples: Samples) -> None:
        with self._lock:
            data = samples[-self.capacity :] if samples.size > self.capacity else samples
            overflow = self._size + data.size - self.capacity
            if overflow > 0:
                self._start = (self._start + overflow) % self.capacity
                self._size -= overflow
                self.dropped += overflow
            self.dropped += samples.size - data.size
            end = (self._start + self._size) % self.capacity
            first = min(data.size, self.capacity - end)
            self._data[end : end + first] = data[:first]
            self._data[: data.size - first] = data[first:]
            self._size += data.size

    def pop(self, count: int) -> Samples:
        """Up to ``count`` samples, oldest first (fewer when the ring holds fewer)."""
        with self._lock:
            take = min(count, self._size)
            first = min(take, self.capacity - self._start)
            out = np.concatenate((self._data[self._start : self._start + first], self._data[: take - first]))
            self._start = (self._start + take) % self.capacity
            self._size -= take
            return out

    def clear(self) -> None:
        with self._lock:
            self._start = self._size = 0
