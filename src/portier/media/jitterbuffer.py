"""Adaptive jitter buffer (sans-IO): RTP packets in at any time, one frame out per ptime.

How it plays: each packet's *transit* is ``arrival - timestamp / rate``; the smallest transit in a
sliding window is the path's base delay, and the frame with timestamp ``ts`` is due at
``base + ts / rate + target``. The target is a high percentile (98th) of ``transit - base`` over the
window plus one ptime, held between ``min_delay`` and ``max_delay``: rare spikes are let go (counted
late) rather than delaying the whole call for them. ``pop`` is called on a fixed cadence (the
audio clock); when the delay it actually gives drifts out of the band ``[target - ptime/2, target + ptime]``
it stretches (one concealed frame, the cursor stays) or shrinks (one frame skipped), at most once every
few frames. At a talkspurt start (marker bit) or after a silence it re-anchors at once.
Why timestamps, not sequence numbers, key the buffer: the playout timeline is in media time; sequence
numbers only tell duplicates and losses apart.
Why DTMF events bypass the buffer: RFC 4733 packets share one timestamp per event and are not audio;
``push`` hands them straight back. Comfort noise (RFC 3389) stays in the timeline: it describes the
silence that follows it, so the frames missing after it are ``idle``, not lost.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .comfort_noise import CN_PAYLOAD_TYPE
from .rtp import SEQ_MOD, TS_MOD, RtpPacket

__all__ = ["CN_PAYLOAD_TYPE", "Frame", "JitterBuffer", "JitterStats", "Missing", "conceal"]
_ADJUST_COOLDOWN = 5
_RECENT = 512
_EPSILON = 1e-6  # seconds: float noise must not turn "exactly at the band's edge" into an adjustment


@dataclass(frozen=True, slots=True)
class Frame:
    """A packet whose turn has come; the decoder picks the codec by ``payload_type``."""

    packet: RtpPacket

    @property
    def payload_type(self) -> int:
        return self.packet.payload_type

    @property
    def payload(self) -> bytes:
        return self.packet.payload

    @property
    def timestamp(self) -> int:
        return self.packet.timestamp


@dataclass(frozen=True, slots=True)
class Missing:
    """No frame to play. ``idle`` means nothing is flowing (before the stream, in a silence after comfort
    noise, waiting for a talkspurt): play silence or comfort noise. Otherwise conceal (PLC)."""

    timestamp: int
    samples: int
    idle: bool = False


@dataclass(frozen=True, slots=True)
class JitterStats:
    received: int
    played: int
    concealed: int
    late: int
    lost: int
    duplicates: int
    dropped: int
    delay: float
    target: float
    jitter: float


class JitterBuffer:
    """One RTP source's playout buffer. Times are seconds on the caller's monotonic clock."""

    def __init__(
        self,
        clock_rate: int = 8000,
        ptime: float = 0.02,
        *,
        min_delay: float = 0.02,
        max_delay: float = 0.2,
        initial_delay: float = 0.06,
        window: int = 250,
        percentile: float = 0.98,
        passthrough: Iterable[int] = (),
        comfort_noise: Iterable[int] = (CN_PAYLOAD_TYPE,),
    ) -> None:
        if not 0 < min_delay <= max_delay:
            raise ValueError(f"jitter buffer delays need 0 < min <= max, got {min_delay} and {max_delay}")
        self.clock_rate = clock_rate
        self.ptime = ptime
        self.frame_samples = round(clock_rate * ptime)
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.passthrough = frozenset(passthrough)
        self.comfort_noise = frozenset(comfort_noise)
        self.percentile = percentile
        self._capacity = max(16, 2 * round(max_delay / ptime))
        self._half = self.frame_samples // 2
        self._jump = max(1.0, 2 * max_delay)
        """A transit shift this large means the sender's timeline jumped."""
        self._target = min(max(initial_delay, min_delay), max_delay)
        self._transits: deque[float] = deque(maxlen=window)
        self._ordered: list[float] = []
        """The same transits kept sorted as they come and go: the percentile needs no sort."""
        self._base = 0.0
        self._last_transit: float | None = None
        self._jitter = 0.0
        self._packets: dict[int, RtpPacket] = {}
        self._ssrc: int | None = None
        self._ts_high: int | None = None
        self._max_seq: int | None = None
        self._cursor: int | None = None
        self._waiting = True
        self._cooldown = 0
        self._pops = 0
        self._delay = 0.0
        self._last_played: RtpPacket | None = None
        self._last_seq: int | None = None
        self._seen: deque[int] = deque()
        self._seen_set: set[int] = set()
        self._skipped: deque[int] = deque()
        self._skipped_set: set[int] = set()
        self._late_seqs: deque[int] = deque()
        self._late_set: set[int] = set()
        self._received = self._played = self._concealed = self._late = 0
        self._skipped_count = self._late_recovered = self._duplicates = self._dropped = 0

    # -- input ---------------------------------------------------------------------------------
    def push(self, packet: RtpPacket, arrival: float) -> RtpPacket | None:
        """Buffer one packet. Returns it back when its payload type is passed through (DTMF events)."""
        if packet.payload_type in self.passthrough:
            self.ignore(packet)
            return packet
        if packet.ssrc != self._ssrc:
            self._restart(packet.ssrc)
        self._received += 1
        seq = packet.sequence
        if seq in self._seen_set:
            self._duplicates += 1
            return None
        _remember(self._seen, self._seen_set, seq)
        ts = self._unwrap(packet.timestamp)
        transit = arrival - ts / self.clock_rate
        top = self._max_seq
        newest = top is None or (seq - top + 0x8000) % SEQ_MOD > 0x8000  # seq_newer, inline: 50 a second
        shift = abs(transit - self._base)
        if newest and self._transits and (shift > self._jump or (packet.marker and shift > self.max_delay)):
            self._resync()  # the sender's timestamps jumped (or stood still in a silence): a new timeline
            ts = self._unwrap(packet.timestamp)
            transit = arrival - ts / self.clock_rate
        if newest:
            self._max_seq = seq
        if self._last_transit is not None:
            self._jitter += (abs(transit - self._last_transit) - self._jitter) / 16.0
        self._last_transit = transit
        transits = self._transits
        ordered = self._ordered
        if len(transits) == transits.maxlen:  # the oldest leaves the window
            del ordered[bisect_left(ordered, transits[0])]
        transits.append(transit)
        insort(ordered, transit)
        if transit < self._base or len(transits) == 1:
            self._base = transit
        if self._cursor is not None and ts < self._cursor - self._half:
            self._late += 1
            if seq in self._skipped_set:  # counted lost when a later packet played: it is late instead
                self._skipped_set.discard(seq)
                self._late_recovered += 1
            else:
                _remember(self._late_seqs, self._late_set, seq)
            return None
        if ts in self._packets:
            self._duplicates += 1
            return None
        packets = self._packets
        packets[ts] = packet
        while len(packets) > self._capacity:
            self._skip(min(packets))
        return None

    def ignore(self, packet: RtpPacket) -> None:
        """A packet of the stream with nothing to play (a DTMF event, a keep-alive): arrived, so not lost."""
        if packet.ssrc == self._ssrc:
            _remember(self._seen, self._seen_set, packet.sequence)

    # -- output --------------------------------------------------------------------------------
    def pop(self, now: float) -> Frame | Missing:
        """The frame to play now; call once per ptime."""
        self._pops += 1
        if self._pops % 10 == 1:
            self._retarget()
        packets = self._packets
        head = min(packets) if packets else None
        half = self._half
        rate = self.clock_rate
        if self._cursor is not None and not self._waiting:
            self._delay = now - self._base - self._cursor / rate
            if head is not None and head > self._cursor + half and (
                    self._packets[head].marker or self._delay > self._target + self.ptime + _EPSILON):
                self._waiting = True  # a talkspurt (or data after a long gap): re-anchor at once
        if self._cursor is None or self._waiting:
            if head is None:
                return self._missing(idle=True)
            due = self._base + head / rate + self._target
            if now < due - self.ptime / 2:
                return Missing(head % TS_MOD, self.frame_samples, idle=True)
            self._waiting = False
            self._cursor = head
            self._delay = now - self._base - head / rate
            return self._play(head)
        cursor = self._cursor
        if self._cooldown:
            self._cooldown -= 1
        elif self._delay > self._target + self.ptime + _EPSILON and head is not None:
            self._cooldown = _ADJUST_COOLDOWN
            at = self._find(cursor)
            if at is not None:
                self._skip(at)
                head = min(packets) if packets else None
            else:
                self._cursor = cursor + self.frame_samples
            cursor = self._cursor
        elif self._delay < self._target - self.ptime / 2 - _EPSILON:
            self._cooldown = _ADJUST_COOLDOWN
            self._concealed += 1
            return Missing(cursor % TS_MOD, self.frame_samples, idle=self._idle())
        if head is not None and head < cursor - half:  # head is still the oldest buffered timestamp
            for ts in [ts for ts in packets if ts < cursor - half]:
                self._skip(ts)
        at = cursor if cursor in packets else self._find(cursor)
        if at is None:
            return self._missing(idle=self._idle())
        return self._play(at)

    @property
    def stats(self) -> JitterStats:
        return JitterStats(self._received, self._played, self._concealed, self._late,
                           self._skipped_count - self._late_recovered, self._duplicates, self._dropped,
                           self._delay, self._target, self._jitter)

    @property
    def target_delay(self) -> float:
        return self._target

    # -- internals -----------------------------------------------------------------------------
    def _find(self, cursor: int) -> int | None:
        half = self.frame_samples // 2
        if cursor in self._packets:
            return cursor
        return next((ts for ts in self._packets if cursor - half <= ts < cursor + half), None)

    def _play(self, ts: int) -> Frame:
        packet = self._packets.pop(ts)
        self._note_sequence(packet.sequence)
        self._cursor = ts + self.frame_samples
        self._played += 1
        self._last_played = packet
        return Frame(packet)

    def _skip(self, ts: int) -> None:
        """Drop a buffered packet without playing it (too much delay, or the buffer is full)."""
        packet = self._packets.pop(ts)
        self._dropped += 1
        self._note_sequence(packet.sequence)
        if self._cursor is None or ts + self.frame_samples > self._cursor:
            self._cursor = ts + self.frame_samples

    def _missing(self, *, idle: bool) -> Missing:
        cursor = self._cursor
        if cursor is None:
            return Missing(0, self.frame_samples, idle=True)
        self._cursor = cursor + self.frame_samples
        if not idle:
            self._concealed += 1
        return Missing(cursor % TS_MOD, self.frame_samples, idle=idle)

    def _idle(self) -> bool:
        last = self._last_played
        return last is not None and last.payload_type in self.comfort_noise

    def _note_sequence(self, seq: int) -> None:
        last = self._last_seq
        if last is None:
            self._last_seq = seq
            return
        gap = (seq - last + 0x8000) % SEQ_MOD - 0x8001  # seq_diff(seq, last) - 1
        if gap < 0:
            return
        self._last_seq = seq
        if 0 < gap <= 100:
            for missing in range(last + 1, last + 1 + gap):
                missing %= 65536
                # arrived too late (counted as late), or arrived with nothing to play: not lost
                if missing not in self._late_set and missing not in self._seen_set:
                    self._skipped_count += 1
                    _remember(self._skipped, self._skipped_set, missing)

    def _retarget(self) -> None:
        ordered = self._ordered
        if not ordered:
            return
        self._base = ordered[0]
        if len(ordered) >= 8:
            spread = ordered[min(len(ordered) - 1, int(self.percentile * len(ordered)))] - ordered[0]
            wanted = min(max(spread + self.ptime, self.min_delay), self.max_delay)
            # up at once (lateness is audible), down slowly (each step down drops a frame)
            self._target = wanted if wanted > self._target else self._target + (wanted - self._target) / 8

    def _unwrap(self, ts: int) -> int:
        high = self._ts_high
        if high is None:
            self._ts_high = ts
            return ts
        value = high + (ts - high % TS_MOD + 0x80000000) % TS_MOD - 0x80000000  # + ts_diff(ts, high)
        if value > high:
            self._ts_high = value
        return value

    def _resync(self) -> None:
        self._dropped += len(self._packets)
        self._packets.clear()
        self._transits.clear()
        self._ordered.clear()
        self._last_transit = None
        self._ts_high = None
        self._cursor = None
        self._waiting = True

    def _restart(self, ssrc: int) -> None:
        """A new source (SSRC): start over, keeping the counters."""
        self._resync()
        self._ssrc = ssrc
        self._max_seq = None
        self._last_played = None
        self._last_seq = None
        self._seen.clear()
        self._seen_set.clear()
        self._skipped.clear()
        self._skipped_set.clear()
        self._late_seqs.clear()
        self._late_set.clear()


def _remember(order: deque[int], members: set[int], value: int) -> None:
    order.append(value)
    members.add(value)
    if len(order) > _RECENT:
        members.discard(order.popleft())


def conceal(last_frame: npt.NDArray[np.int16] | None, count: int, *, samples: int = 160, rate: int = 8000,
            fade: float = 0.06) -> npt.NDArray[np.int16]:
    """The ``count``-th (1-based) frame in a row standing in for lost ones, for PCM codecs.

    Repeats the last good frame with a linear fade to silence over ``fade`` seconds (three 20 ms
    frames), then silence: a short loss is bridged, a long one does not buzz. Without a last frame
    (nothing decoded yet) it is ``samples`` of silence.
    """
    if last_frame is None or len(last_frame) == 0:
        return np.zeros(samples if last_frame is None else 0, dtype=np.int16)
    size = len(last_frame)
    start = (count - 1) * size
    positions = np.arange(start, start + size, dtype=np.float64)
    gain = np.clip(1.0 - positions / (fade * rate), 0.0, 1.0)
    return (last_frame.astype(np.float64) * gain).astype(np.int16)
