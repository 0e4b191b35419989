"""RTP packets and sequence statistics: hand-made vectors, every error path, and SIPp's real captures."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portier.media.rtp import (
    RtpError,
    RtpExtension,
    RtpPacket,
    SequenceTracker,
    is_rtcp,
    rtp_header,
    seq_diff,
    seq_newer,
    ts_diff,
    unused_payload_type,
)

from ._pcap import SIPP_PCAPS, sipp_pcap, udp_payloads

MINIMAL = bytes.fromhex("80000001000000a012345678") + b"abc"
FULL = bytes.fromhex(
    "b2e5fffe"  # V=2 P=1 X=1 CC=2 | M=1 PT=101 | seq 65534
    "ffffffff"  # timestamp
    "deadbeef"  # SSRC
    "0000000a0000000b"  # two CSRCs
    "bede0001" "01020304"  # extension: profile 0xBEDE, one word
    "c0ffee"  # payload
    "00000004"  # four octets of padding, the last one the count
)


def test_minimal_packet_parses_field_by_field() -> None:
    packet = RtpPacket.parse(MINIMAL)
    assert packet == RtpPacket(0, 1, 160, 0x12345678, b"abc")
    assert packet.version == 2 and not packet.marker and packet.padding == 0
    assert bytes(packet) == MINIMAL


def test_every_header_feature_parses_and_serialises_back() -> None:
    packet = RtpPacket.parse(FULL)
    assert packet.marker and packet.payload_type == 101
    assert packet.sequence == 65534 and packet.timestamp == 0xFFFFFFFF and packet.ssrc == 0xDEADBEEF
    assert packet.csrcs == (10, 11)
    assert packet.extension == RtpExtension(0xBEDE, bytes([1, 2, 3, 4]))
    assert packet.payload == bytes.fromhex("c0ffee") and packet.padding == 4
    assert bytes(packet) == FULL


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (MINIMAL[:11], "too short"),
        (bytes([0x40]) + MINIMAL[1:], "version must be 2"),
        (bytes([0xA0]) + MINIMAL[1:-1] + b"\x00", "padding length 0"),
        (bytes([0xA0]) + MINIMAL[1:-1] + b"\x10", "padding length 16"),
        (bytes([0x8F]) + MINIMAL[1:], "CSRC count 15"),
        (bytes([0x90]) + MINIMAL[1:12] + bytes.fromhex("bede0002") + b"1234", "extension length"),
        (bytes([0x90]) + MINIMAL[1:12] + b"\xbe", "extension header"),
    ],
)
def test_malformed_packets_raise_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RtpError, match=reason):
        RtpPacket.parse(data)


def test_field_ranges_are_checked_when_building() -> None:
    with pytest.raises(ValueError, match="payload type"):
        RtpPacket(128, 0, 0, 0)
    with pytest.raises(ValueError, match="sequence"):
        RtpPacket(0, 65536, 0, 0)
    with pytest.raises(ValueError, match="CSRC"):
        RtpPacket(0, 0, 0, 0, csrcs=tuple(range(16)))
    with pytest.raises(ValueError, match="32-bit words"):
        RtpExtension(1, b"abc")


def test_rtcp_demultiplexing_uses_the_packet_type_range() -> None:
    assert is_rtcp(bytes([0x80, 200]))
    assert is_rtcp(bytes([0x81, 223]))
    assert not is_rtcp(bytes([0x80, 0]))
    assert not is_rtcp(bytes([0x80, 0x80 | 96]))  # PT 96 with the marker bit: 224
    assert not is_rtcp(b"\x80")


def test_sequence_and_timestamp_arithmetic_wraps() -> None:
    assert seq_newer(0, 65535) and not seq_newer(65535, 0)
    assert seq_diff(2, 65534) == 4 and seq_diff(65534, 2) == -4
    assert not seq_newer(5, 5)
    assert ts_diff(80, 0xFFFFFFB0) == 160
    assert ts_diff(0xFFFFFFB0, 80) == -160


def test_tracker_needs_two_packets_in_sequence_then_counts() -> None:
    tracker = SequenceTracker()
    assert not tracker.update(100)  # probation: one packet alone is not a source yet
    assert not tracker.valid
    for seq in range(101, 200):
        assert tracker.update(seq)
    assert tracker.valid
    assert tracker.base_seq == 101
    assert (tracker.expected, tracker.received, tracker.lost) == (99, 99, 0)


def test_tracker_restarts_probation_on_a_stray_packet() -> None:
    tracker = SequenceTracker()
    assert not tracker.update(10)
    assert not tracker.update(500)
    assert tracker.update(501)
    assert tracker.base_seq == 501


def test_tracker_counts_cycles_across_the_wrap() -> None:
    tracker = SequenceTracker()
    for seq in [*range(65530, 65536), *range(0, 11)]:
        tracker.update(seq)
    assert tracker.cycles == 65536
    assert tracker.extended_max == 65536 + 10
    assert tracker.expected == 16 and tracker.lost == 0


def test_tracker_loss_fraction_per_interval() -> None:
    tracker = SequenceTracker()
    tracker.update(0)
    for seq in range(1, 101):
        if seq % 4 != 0:  # every fourth lost
            tracker.update(seq)
    # expected 1..99 (the highest received is 99): 99, received 75
    assert tracker.expected == 99 and tracker.received == 75 and tracker.lost == 24
    assert tracker.take_fraction_lost() == (24 << 8) // 99
    for seq in range(101, 111):
        tracker.update(seq)
    # the new interval expected 100..110 and lost only 100
    assert tracker.take_fraction_lost() == (1 << 8) // 11
    assert tracker.take_fraction_lost() == 0  # an empty interval reports 0


def test_duplicates_make_the_cumulative_loss_negative() -> None:
    tracker = SequenceTracker()
    for seq in [1, 2, 3, 3, 3, 4]:
        tracker.update(seq)
    assert tracker.expected == 3 and tracker.received == 5 and tracker.lost == -2


def test_a_large_jump_is_taken_only_when_the_next_packet_confirms_it() -> None:
    tracker = SequenceTracker()
    for seq in range(1, 10):
        tracker.update(seq)
    assert not tracker.update(9000)
    assert tracker.max_seq == 9
    assert tracker.update(9001)  # the sender restarted: statistics start over there
    assert tracker.base_seq == 9001 and tracker.received == 1


def test_jitter_follows_rfc3550_a8_by_hand() -> None:
    tracker = SequenceTracker(min_sequential=1)
    arrivals = [1000, 1170, 1320, 1500]  # transit 1000, 1010, 1000, 1020 (timestamp units)
    for seq, arrival in enumerate(arrivals):
        assert tracker.update(seq, seq * 160, arrival)
    expected = 0.0
    for d in (10, 10, 20):
        expected += (d - expected) / 16
    assert tracker.jitter == int(expected) == 2
    assert tracker._jitter == pytest.approx(expected)


def test_jitter_is_continuous_across_the_timestamp_wrap() -> None:
    tracker = SequenceTracker(min_sequential=1)
    start = 2**32 - 320
    for i in range(6):
        tracker.update(i, (start + 160 * i) % 2**32, 5000.0 + 160 * i)
    assert tracker.jitter == 0


def test_every_rtp_packet_sipp_ships_parses_and_serialises_byte_identically() -> None:
    names = sorted(path.name for path in SIPP_PCAPS.glob("*.pcap"))
    assert "g711a.pcap" in names and "dtmf_2833_pound.pcap" in names, f"SIPp captures missing: {names}"
    total = 0
    for name in names:
        for datagram in udp_payloads(sipp_pcap(name)):
            assert not is_rtcp(datagram.payload)
            packet = RtpPacket.parse(datagram.payload)
            assert bytes(packet) == datagram.payload, name
            total += 1
    assert total >= 236 + 12 * 10


def test_sipp_g711a_capture_is_one_pcma_stream_in_sequence() -> None:
    packets = [RtpPacket.parse(d.payload) for d in udp_payloads(sipp_pcap("g711a.pcap"))]
    assert {p.payload_type for p in packets} == {8}
    assert len({p.ssrc for p in packets}) == 1
    tracker = SequenceTracker()
    for packet in packets:
        tracker.update(packet.sequence)
    assert tracker.lost == 0 and tracker.received == len(packets) - 1  # the first is probation
    steps = {(b.timestamp - a.timestamp) % 2**32 for a, b in itertools.pairwise(packets)}
    assert steps == {len(packets[0].payload)}  # one timestamp tick per A-law byte


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_arbitrary_bytes_parse_or_raise_rtp_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpError:
        return
    assert RtpPacket.parse(bytes(packet)) == packet


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 127), st.integers(0, 65535), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
    st.booleans(), st.binary(max_size=64),
)
def test_the_send_paths_header_is_the_packets_own(
    payload_type: int, sequence: int, timestamp: int, ssrc: int, marker: bool, payload: bytes
) -> None:
    header = rtp_header(payload_type, sequence, timestamp, ssrc, marker)
    packet = RtpPacket(payload_type, sequence, timestamp, ssrc, payload, marker)
    assert header + payload == bytes(packet)
    assert RtpPacket.parse(header + payload) == packet  # the parser's fast path for such packets


def test_an_unused_payload_type_for_keep_alives() -> None:
    assert unused_payload_type({0, 8, 101}) == 127
    assert unused_payload_type({0, 127, 126}) == 125
    with pytest.raises(ValueError, match="none left"):
        unused_payload_type(range(96, 128))
