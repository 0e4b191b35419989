"""The adaptive jitter buffer driven by simulated networks: a fixed pop cadence, packets at chosen times."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pytest

from portier.media.jitterbuffer import Frame, JitterBuffer, Missing, conceal
from portier.media.rtp import RtpPacket

PTIME = 0.02


def packet(i: int, *, seq0: int = 0, ts0: int = 0, marker: bool = False, pt: int = 0, ssrc: int = 1,
           ts: int | None = None) -> RtpPacket:
    timestamp = (ts0 + 160 * i) % 2**32 if ts is None else ts % 2**32
    return RtpPacket(pt, (seq0 + i) % 65536, timestamp, ssrc, bytes([i % 256]), marker=marker)


Played = list[tuple[float, Frame | Missing]]


def simulate(buffer: JitterBuffer, arrivals: Iterable[tuple[float, RtpPacket]], until: float,
             phase: float = 0.005) -> Played:
    """Push each packet at its arrival time and pop every ptime (starting at ``phase``) until ``until``."""
    pending = sorted(arrivals, key=lambda item: item[0])
    out: Played = []
    index = 0
    step = 0
    while (now := phase + step * PTIME) < until:
        while index < len(pending) and pending[index][0] <= now:
            buffer.push(pending[index][1], pending[index][0])
            index += 1
        out.append((now, buffer.pop(now)))
        step += 1
    return out


def frames(played: Played) -> list[RtpPacket]:
    return [item.packet for _, item in played if isinstance(item, Frame)]


def sequences(played: Played) -> list[int]:
    return [p.sequence for p in frames(played)]


def test_a_steady_stream_plays_in_order_and_settles_at_the_minimum_delay() -> None:
    buffer = JitterBuffer()
    played = simulate(buffer, [(i * PTIME, packet(i)) for i in range(500)], until=10.0)
    assert [type(item) for _, item in played[:3]] == [Missing] * 3  # waiting out the initial 60 ms
    assert all(item.idle for _, item in played[:3] if isinstance(item, Missing))
    seqs = sequences(played)
    assert seqs == sorted(seqs) and len(seqs) + buffer.stats.dropped == 500 - 1  # the last still buffered
    stats = buffer.stats
    assert (stats.late, stats.lost, stats.concealed, stats.duplicates) == (0, 0, 0, 0)
    assert stats.target == pytest.approx(0.02, abs=0.001)
    assert stats.delay <= stats.target + PTIME
    assert stats.dropped == 2  # the initial 60 ms came down to the band around the 20 ms target


def test_reordered_packets_play_in_order() -> None:
    arrivals = []
    for i in range(0, 400, 2):
        arrivals += [(i * PTIME + 0.004, packet(i + 1)), (i * PTIME + 0.005, packet(i))]
    buffer = JitterBuffer()
    played = simulate(buffer, arrivals, until=8.0)
    seqs = sequences(played)
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert buffer.stats.late == 0 and buffer.stats.lost == 0 and buffer.stats.concealed == 0


def test_duplicates_are_counted_and_played_once() -> None:
    arrivals = [(i * PTIME + delay, packet(i)) for i in range(200) for delay in (0.0, 0.001, 0.5)]
    buffer = JitterBuffer()
    played = simulate(buffer, arrivals, until=4.6)
    seqs = sequences(played)
    assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs)
    assert buffer.stats.duplicates == 400  # the copy 0.5 s late is a duplicate, not a late packet
    assert buffer.stats.late == 0


def test_lost_packets_are_concealed_where_they_were() -> None:
    arrivals = [(i * PTIME, packet(i)) for i in range(300) if i not in (100, 101, 200)]
    buffer = JitterBuffer()
    played = simulate(buffer, arrivals, until=6.0)
    missing = [item for _, item in played[3:] if isinstance(item, Missing)]
    assert [m.timestamp for m in missing] == [100 * 160, 101 * 160, 200 * 160]
    assert not any(m.idle for m in missing) and {m.samples for m in missing} == {160}
    stats = buffer.stats
    assert (stats.lost, stats.late, stats.concealed) == (3, 0, 3)


def test_a_late_packet_is_dropped_and_counted_late_not_lost() -> None:
    arrivals = [(i * PTIME + (0.5 if i == 150 else 0.0), packet(i)) for i in range(300)]
    buffer = JitterBuffer()
    played = simulate(buffer, arrivals, until=5.9)
    assert 150 not in sequences(played)
    stats = buffer.stats
    assert (stats.late, stats.lost, stats.concealed) == (1, 0, 1)


def test_sequence_and_timestamp_wrap_are_seamless() -> None:
    arrivals = [(i * PTIME, packet(i, seq0=65500, ts0=2**32 - 160 * 60)) for i in range(200)]
    buffer = JitterBuffer()
    played = simulate(buffer, arrivals, until=3.9)
    seqs = sequences(played)
    assert 65535 in seqs and 0 in seqs
    assert buffer.stats.concealed == 0 and buffer.stats.lost == 0 and buffer.stats.late == 0


def test_the_target_grows_with_jitter_and_comes_back_down() -> None:
    rng = np.random.default_rng(7)
    jittery = [(i * PTIME + rng.uniform(0.0, 0.08), packet(i)) for i in range(750)]
    calm = [(i * PTIME + 0.08, packet(i)) for i in range(750, 1500)]
    buffer = JitterBuffer()
    played = simulate(buffer, jittery, until=15.0)
    assert 0.08 <= buffer.target_delay <= 0.12
    assert buffer.stats.late <= 15  # about 1 %, almost all while the target was still growing
    seqs = sequences(played)
    assert seqs == sorted(seqs)
    simulate(buffer, calm, until=30.0, phase=15.005)
    assert buffer.target_delay == pytest.approx(0.02, abs=0.001)  # it comes down slowly, by 1/8 steps
    assert buffer.stats.delay <= buffer.target_delay + PTIME


def test_the_delay_never_exceeds_the_maximum() -> None:
    rng = np.random.default_rng(8)
    arrivals = [(i * PTIME + rng.uniform(0.0, 0.5), packet(i)) for i in range(500)]
    buffer = JitterBuffer(max_delay=0.2)
    simulate(buffer, arrivals, until=10.0)
    assert buffer.target_delay == 0.2
    assert buffer.stats.late > 0


def test_a_talkspurt_after_silence_starts_at_the_target_delay() -> None:
    first = [(i * PTIME, packet(i, marker=i == 0)) for i in range(50)]
    # 2 s of silence: timestamps advance with real time, sequence numbers do not skip
    second = [(3.0 + i * PTIME, packet(50 + i, ts=160 * (150 + i), marker=i == 0)) for i in range(50)]
    buffer = JitterBuffer()
    played = simulate(buffer, first + second, until=4.5)
    start = next(t for t, item in played if isinstance(item, Frame) and item.packet.sequence == 50)
    assert 3.0 + buffer.target_delay - PTIME <= start <= 3.0 + buffer.target_delay + PTIME
    assert buffer.stats.lost == 0


def test_a_sender_whose_timestamps_stand_still_in_silence_is_followed() -> None:
    first = [(i * PTIME, packet(i, marker=i == 0)) for i in range(50)]
    # the timestamps carry on from the last packet although 2 s passed
    second = [(3.0 + i * PTIME, packet(50 + i, marker=i == 0)) for i in range(100)]
    buffer = JitterBuffer()
    played = simulate(buffer, first + second, until=5.5)
    seqs = sequences(played)
    assert list(range(52, 145)) == [s for s in seqs if 52 <= s < 145]
    start = next(t for t, item in played if isinstance(item, Frame) and item.packet.sequence == 50)
    assert start <= 3.0 + 0.06 + PTIME
    assert buffer.stats.late == 0 and buffer.stats.lost == 0


def test_a_straggler_from_the_last_talkspurt_is_late_not_replayed() -> None:
    first = [(i * PTIME, packet(i, marker=i == 0)) for i in range(50) if i != 40]
    straggler = [(2.0, packet(40))]
    second = [(2.01 + i * PTIME, packet(50 + i, ts=160 * (150 + i), marker=i == 0)) for i in range(20)]
    buffer = JitterBuffer()
    played = simulate(buffer, first + straggler + second, until=3.0)
    assert 40 not in sequences(played) and sequences(played) == sorted(sequences(played))
    assert buffer.stats.late == 1 and buffer.stats.lost == 0


def test_a_buffer_nobody_reads_keeps_only_its_capacity() -> None:
    buffer = JitterBuffer(max_delay=0.2)
    for i in range(100):
        buffer.push(packet(i), i * PTIME)
    assert buffer.stats.dropped == 100 - 20
    played = simulate(buffer, [], until=2.5, phase=2.0)
    seqs = sequences(played)
    assert seqs[0] == 80 and seqs == sorted(seqs) and len(seqs) + buffer.stats.dropped == 100
    assert buffer.stats.lost == 0


def test_comfort_noise_marks_the_following_silence_idle() -> None:
    speech = [(i * PTIME, packet(i)) for i in range(50)]
    noise = [(50 * PTIME, packet(50, pt=13))]
    buffer = JitterBuffer()
    played = simulate(buffer, speech + noise, until=2.0)
    after = played[-20:]
    assert all(isinstance(item, Missing) and item.idle for _, item in after)
    assert buffer.stats.concealed == 0


def test_dtmf_events_pass_straight_through() -> None:
    buffer = JitterBuffer(passthrough={101})
    event = packet(5, pt=101)
    assert buffer.push(event, 0.1) is event
    assert buffer.push(packet(0), 0.0) is None
    assert buffer.stats.received == 1


def test_a_new_ssrc_starts_a_new_stream() -> None:
    first = [(i * PTIME, packet(i, ssrc=1)) for i in range(100)]
    second = [(2.0 + i * PTIME, packet(i, seq0=4000, ts0=999_000, ssrc=2)) for i in range(100)]
    buffer = JitterBuffer()
    played = simulate(buffer, first + second, until=4.5)
    ssrcs = [p.ssrc for p in frames(played)]
    assert ssrcs.count(2) >= 98 and ssrcs == sorted(ssrcs)
    assert buffer.stats.late == 0 and buffer.stats.lost == 0


def test_a_fast_sender_clock_is_absorbed_by_dropping_frames() -> None:
    arrivals = [(i * PTIME * 0.99, packet(i)) for i in range(1000)]  # 1 % fast: 200 ms over 20 s
    buffer = JitterBuffer()
    played = simulate(buffer, arrivals, until=19.8)
    assert buffer.stats.late == 0 and buffer.stats.lost == 0
    assert 8 <= buffer.stats.dropped <= 14
    assert buffer.stats.delay <= buffer.target_delay + PTIME
    assert sequences(played) == sorted(sequences(played))


def test_a_slow_sender_clock_is_absorbed_by_stretching() -> None:
    arrivals = [(i * PTIME * 1.01, packet(i)) for i in range(1000)]
    buffer = JitterBuffer()
    played = simulate(buffer, arrivals, until=20.1)
    assert buffer.stats.late == 0 and buffer.stats.lost == 0
    # 200 ms of stretching, and the drift itself looks like 50 ms of jitter over the 5 s window
    assert 8 <= buffer.stats.concealed <= 14
    assert sequences(played) == sorted(sequences(played))
    assert buffer.stats.dropped <= 2


def test_conceal_repeats_and_fades_then_goes_silent() -> None:
    last = np.full(160, 1000, dtype=np.int16)
    first = conceal(last, 1)
    assert first[0] == 1000 and 600 < first[-1] < 700  # 1 - 159/480 of the way down
    assert conceal(last, 3)[-1] == 0 or conceal(last, 3)[-1] < 10
    assert not np.any(conceal(last, 4))
    assert np.array_equal(conceal(None, 1, samples=320), np.zeros(320, dtype=np.int16))
    assert conceal(last, 1, rate=16000).dtype == np.int16


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="0 < min <= max"):
        JitterBuffer(min_delay=0.3, max_delay=0.2)


def test_a_vad_silence_refreshed_by_comfort_noise_is_neither_loss_nor_concealment() -> None:
    """The sender's pattern with VAD: speech, CN at the silence's start and every 400 ms, then a marked
    talkspurt; sequence numbers run on, timestamps jump over the silence."""
    talk = [(i * PTIME, packet(i)) for i in range(60)]
    silence = [(f * PTIME, RtpPacket(13, 60 + k, 160 * f, 1, b"\x32")) for k, f in enumerate((60, 80, 100))]
    again = [(f * PTIME, RtpPacket(0, 63 + k, 160 * f, 1, b"\x00", marker=k == 0))
             for k, f in enumerate(range(130, 180))]
    buffer = JitterBuffer()
    played = simulate(buffer, talk + silence + again, until=180 * PTIME)  # to the last packet's arrival
    kinds = [item.payload_type if isinstance(item, Frame) else ("idle" if item.idle else "lost")
             for _, item in played]
    assert "lost" not in kinds
    assert kinds.count(13) == 3
    assert kinds.count(0) + buffer.stats.dropped == 60 + 50 - 1  # the last is still buffered
    first_noise = kinds.index(13)
    resumed = kinds.index(0, first_noise)
    assert set(kinds[first_noise:resumed]) == {13, "idle"} and resumed - first_noise >= 65  # silence, not PLC
    stats = buffer.stats
    assert (stats.lost, stats.concealed, stats.late) == (0, 0, 0)
    assert sequences(played) == sorted(sequences(played))


def test_packets_with_nothing_to_play_are_not_counted_lost() -> None:
    buffer = JitterBuffer(passthrough={101})
    for i in range(10):
        buffer.push(packet(i), i * PTIME)
    buffer.push(RtpPacket(101, 10, 1600, 1, b"\x05\x0a\x00\xa0"), 10 * PTIME)  # a DTMF event
    buffer.ignore(RtpPacket(127, 11, 1600, 1))  # a keep-alive of a type we do not play
    for i in range(12, 30):
        buffer.push(packet(i - 2, seq0=2), i * PTIME)
    simulate(buffer, [], until=1.0)
    assert buffer.stats.lost == 0


class SortingBuffer(JitterBuffer):
    """The percentile as it was first written: the whole transit window sorted at every retarget."""

    def _retarget(self) -> None:
        if not self._transits:
            return
        ordered = sorted(self._transits)
        self._base = ordered[0]
        if len(ordered) >= 8:
            spread = ordered[min(len(ordered) - 1, int(self.percentile * len(ordered)))] - ordered[0]
            wanted = min(max(spread + self.ptime, self.min_delay), self.max_delay)
            self._target = wanted if wanted > self._target else self._target + (wanted - self._target) / 8


def test_the_window_kept_sorted_gives_exactly_what_sorting_it_gave() -> None:
    """Jitter, bursts, losses, a timeline jump, more packets than the window holds: same plays and stats."""
    rng = np.random.default_rng(7)
    arrivals = []
    for i in range(1500):
        if rng.random() < 0.03:
            continue  # lost
        ts = 160 * i + (5_000_000 if i >= 900 else 0)  # the sender's timeline jumps at packet 900
        spike = rng.exponential(0.08) if rng.random() < 0.05 else 0.0
        arrivals.append((0.1 + i * PTIME + abs(rng.normal(0, 0.006)) + spike, packet(i, ts=ts)))
    buffers = [JitterBuffer(window=64), SortingBuffer(window=64)]
    plays = [simulate(buffer, arrivals, 1500 * PTIME + 1) for buffer in buffers]
    assert plays[0] == plays[1]
    assert buffers[0].stats == buffers[1].stats
    stats = buffers[0].stats
    assert stats.concealed and stats.late and stats.dropped  # it had work to do
