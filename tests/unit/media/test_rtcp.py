"""RTCP: hand-assembled packets of every type, compound parsing, NTP arithmetic, reports from statistics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portier.media.rtcp import (
    CNAME,
    NAME,
    App,
    Bye,
    ReceiverReport,
    RemoteSource,
    ReportBlock,
    RtcpError,
    SdesChunk,
    SenderReport,
    SenderStats,
    SourceDescription,
    UnknownRtcp,
    make_bye,
    make_report,
    ntp_from_unix,
    ntp_middle,
    parse_compound,
    round_trip_time,
    serialize_compound,
    unix_from_ntp,
)
from portier.media.rtp import SequenceTracker

SR_BYTES = bytes.fromhex(
    "81c8000c"  # V=2 RC=1 PT=200, 13 words in all
    "11223344"  # sender SSRC
    "83aa7e8080000000"  # NTP: the Unix epoch plus half a second
    "00000640"  # RTP timestamp 1600
    "0000000a"  # 10 packets
    "00000640"  # 1600 octets
    "55667788"  # report block about 0x55667788
    "40ffffff"  # fraction lost 64/256, cumulative lost -1 (duplicates)
    "00010005"  # extended highest sequence: one cycle, 5
    "00000007"  # jitter 7
    "12345678"  # LSR
    "00010000"  # DLSR one second
)
SDES_BYTES = bytes.fromhex("81ca0004" "11223344" "0109") + b"door@host" + b"\x00"
BYE_BYTES = bytes.fromhex("81cb0002" "11223344" "03") + b"bye"
APP_BYTES = bytes.fromhex("82cc0003" "11223344") + b"PRTRdata"


def test_sender_report_by_hand() -> None:
    (sr,) = parse_compound(SR_BYTES)
    assert isinstance(sr, SenderReport)
    assert sr.ssrc == 0x11223344
    assert unix_from_ntp(sr.ntp_timestamp) == 0.5
    assert (sr.rtp_timestamp, sr.packet_count, sr.octet_count) == (1600, 10, 1600)
    assert sr.reports == (ReportBlock(0x55667788, 64, -1, 0x10005, 7, 0x12345678, 0x10000),)
    assert bytes(sr) == SR_BYTES


def test_receiver_report_sdes_bye_app_by_hand() -> None:
    rr = bytes.fromhex("80c90001" "11223344")
    compound = rr + SDES_BYTES + BYE_BYTES + APP_BYTES
    packets = parse_compound(compound)
    assert packets == [
        ReceiverReport(0x11223344),
        SourceDescription((SdesChunk(0x11223344, ((CNAME, b"door@host"),)),)),
        Bye((0x11223344,), b"bye"),
        App(2, 0x11223344, b"PRTR", b"data"),
    ]
    assert serialize_compound(packets) == compound


def test_sdes_items_ending_on_a_word_boundary_take_a_whole_null_word() -> None:
    chunk = SdesChunk(1, ((NAME, b"ab"),))
    assert bytes(chunk) == bytes.fromhex("00000001" "0202") + b"ab" + bytes(4)
    two = SourceDescription((chunk, SdesChunk(2, ((CNAME, b"x"),))))
    assert parse_compound(bytes(two)) == [two]
    assert two.chunks[1].get(CNAME) == b"x" and two.chunks[1].get(NAME) is None


def test_unknown_packet_types_and_profile_extensions_survive() -> None:
    feedback = UnknownRtcp(206, 1, bytes(8))  # RFC 4585 payload-specific feedback (PLI)
    rr = ReceiverReport(5, (), b"\x00\x01\x02\x03")
    data = serialize_compound([rr, feedback])
    assert parse_compound(data) == [rr, feedback]


def test_padding_on_the_last_packet_is_removed() -> None:
    padded = bytes.fromhex("a0c90002" "11223344" "00000004")
    assert parse_compound(padded) == [ReceiverReport(0x11223344)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (bytes.fromhex("80c9"), "truncated"),
        (bytes.fromhex("40c90001" "11223344"), "version must be 2"),
        (bytes.fromhex("80c90005" "11223344"), "claims 24 bytes"),
        (bytes.fromhex("82c90001" "11223344"), "announces 2 report blocks"),
        (bytes.fromhex("81c80001" "11223344"), "too short for its sender info"),
        (bytes.fromhex("81ca0002" "11223344" "0109aaaa"), "runs past the end"),
        (bytes.fromhex("81ca0002" "11223344" "01000100"), "no terminating null"),
        (bytes.fromhex("81cb0002" "11223344" "09616263"), "reason runs past"),
        (bytes.fromhex("a0c90001" "11223300"), "padding length 0"),
        (bytes.fromhex("a0c90002" "11223344" "00000001"), "RR extension is 3 bytes"),
        (bytes.fromhex("a0cd0001" "00000002"), "type 205 is 2 bytes"),
    ],
)
def test_malformed_rtcp_raises_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RtcpError, match=reason):
        parse_compound(data)


def test_ntp_conversions() -> None:
    assert ntp_from_unix(0.0) == 0x83AA7E80 << 32
    assert ntp_from_unix(1.25) == (0x83AA7E81 << 32) | 0x40000000
    assert unix_from_ntp(ntp_from_unix(1_700_000_000.125)) == pytest.approx(1_700_000_000.125)
    assert ntp_middle(0x0123456789ABCDEF) == 0x456789AB


def test_round_trip_time_from_rfc3550_figure_2() -> None:
    # A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s), DLSR = 0x0005:4000 (5.250 s)
    assert round_trip_time(0xB7108000 << 16, 0xB7052000, 0x00054000) == 6.125


def test_report_block_values_come_from_the_tracker_and_the_last_sr() -> None:
    source = RemoteSource(0xAABBCCDD, SequenceTracker(min_sequential=1))
    for seq in range(0, 100):
        if seq not in (10, 11):
            source.tracker.update(seq, seq * 160, seq * 160 + (seq % 2) * 8)
    sr_ntp = ntp_from_unix(1000.0)
    source.note_sender_report(SenderReport(0xAABBCCDD, sr_ntp, 0, 0, 0), now=50.0)
    report = make_report(1, "door@192.0.2.1", now=52.5, wallclock=1002.5, sources=[source])[0]
    assert isinstance(report, ReceiverReport)
    (block,) = report.reports
    assert block.ssrc == 0xAABBCCDD
    assert block.cumulative_lost == 2
    assert block.fraction_lost == (2 << 8) // 100
    assert block.highest_sequence == 99
    assert block.jitter == source.tracker.jitter > 0
    assert block.lsr == ntp_middle(sr_ntp)
    assert block.dlsr == int(2.5 * 65536)


def test_make_report_sends_sr_when_we_sent_and_always_a_cname() -> None:
    sent = SenderStats(rtp_timestamp=8000, packet_count=50, octet_count=8000)
    packets = make_report(0x1234, "door@192.0.2.1", now=1.0, wallclock=1_700_000_000.0, sent=sent)
    sr, sdes = packets
    assert isinstance(sr, SenderReport) and sr.packet_count == 50 and sr.reports == ()
    assert sr.ntp_timestamp == ntp_from_unix(1_700_000_000.0)
    assert isinstance(sdes, SourceDescription) and sdes.chunks[0].get(CNAME) == b"door@192.0.2.1"
    assert parse_compound(serialize_compound(packets)) == packets
    received_only = make_report(0x1234, "door@192.0.2.1", now=1.0, wallclock=0.0)
    assert isinstance(received_only[0], ReceiverReport)


def test_a_source_still_in_probation_gets_no_report_block() -> None:
    source = RemoteSource(7)
    source.tracker.update(1)
    (rr, _) = make_report(1, "x", now=0.0, wallclock=0.0, sources=[source])
    assert isinstance(rr, ReceiverReport) and rr.reports == ()


def test_cumulative_loss_saturates_at_24_bits() -> None:
    with pytest.raises(ValueError, match="24 signed bits"):
        ReportBlock(1, cumulative_lost=1 << 23)
    block = ReportBlock(1, cumulative_lost=-(1 << 23))
    assert ReportBlock.parse(bytes(block), 0) == block


def test_bye_compound_starts_with_a_report() -> None:
    packets = make_bye(9, "hang up")
    data = serialize_compound(packets)
    assert parse_compound(data) == [ReceiverReport(9), Bye((9,), b"hang up")]
    assert len(data) % 4 == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_arbitrary_bytes_parse_or_raise_rtcp_error(data: bytes) -> None:
    try:
        packets = parse_compound(bytes([0x80 | (data[0] & 0x3F)]) + data[1:] if data else data)
    except RtcpError:
        return
    assert parse_compound(serialize_compound(packets)) == packets
