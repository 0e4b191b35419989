"""RFC 4733 events: payload codec, the sender's schedule, the receiver, and SIPp's real DTMF captures."""

from __future__ import annotations

import pytest

from portier.media.dtmf import FLASH, DtmfError, DtmfEvent, DtmfReceiver, DtmfSender, event_code, event_digit
from portier.media.rtp import RtpPacket

from ._pcap import SIPP_PCAPS, sipp_pcap, udp_payloads


def test_payload_by_hand() -> None:
    event = DtmfEvent.parse(bytes.fromhex("0b8a08c0"))
    assert event == DtmfEvent(11, True, 10, 0x08C0)
    assert bytes(event) == bytes.fromhex("0b8a08c0")
    assert bytes(DtmfEvent(5, False, 63, 160)) == bytes.fromhex("053f00a0")
    assert DtmfEvent.parse(bytes.fromhex("01ca0000")).volume == 10  # the reserved R bit is ignored


def test_payload_errors() -> None:
    with pytest.raises(DtmfError, match="needs 4 bytes"):
        DtmfEvent.parse(b"\x01\x0a")
    with pytest.raises(DtmfError, match="volume"):
        DtmfEvent(1, volume=64)
    with pytest.raises(DtmfError, match="duration"):
        DtmfEvent(1, duration=70000)


def test_digit_mapping() -> None:
    assert [event_code(d) for d in "0123456789*#ABCD"] == list(range(16))
    assert event_code("a") == 12 and event_code(FLASH) == 16
    assert "".join(event_digit(c) or "?" for c in range(18)) == "0123456789*#ABCD!?"
    with pytest.raises(DtmfError, match="not a DTMF digit"):
        event_code("E")


def test_sender_schedule_for_a_100_ms_digit() -> None:
    sender = DtmfSender(ssrc=0x1234, payload_type=101)
    schedule = sender.schedule("5", now=10.0, timestamp=48000, sequence=65534)
    assert [s.at for s in schedule] == pytest.approx([10.0, 10.02, 10.04, 10.06, 10.08, 10.10, 10.12])
    packets = [s.packet for s in schedule]
    assert [p.sequence for p in packets] == [65534, 65535, 0, 1, 2, 3, 4]
    assert {p.timestamp for p in packets} == {48000}
    assert [p.marker for p in packets] == [True] + [False] * 6
    events = [DtmfEvent.parse(p.payload) for p in packets]
    assert [e.duration for e in events] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events] == [False] * 4 + [True] * 3
    assert {(e.event, e.volume) for e in events} == {(5, 10)}
    assert {p.payload_type for p in packets} == {101} and {p.ssrc for p in packets} == {0x1234}


def test_sender_rounds_odd_durations_and_rejects_impossible_ones() -> None:
    sender = DtmfSender(ssrc=1, clock_rate=16000, ptime=0.03)
    events = [DtmfEvent.parse(s.packet.payload) for s in sender.schedule("#", 0.0, 0, 0, duration=0.05)]
    assert [(e.duration, e.end) for e in events] == [(480, False), (800, True), (800, True), (800, True)]
    with pytest.raises(DtmfError, match="65535"):
        sender.schedule("1", 0.0, 0, 0, duration=5.0)
    with pytest.raises(DtmfError, match="not a DTMF digit"):
        sender.schedule("x", 0.0, 0, 0)


def test_receiver_reports_each_keypress_once() -> None:
    sender = DtmfSender(ssrc=7)
    receiver = DtmfReceiver()
    digits = []
    for i, digit in enumerate("19*#D5"):
        for scheduled in sender.schedule(digit, i * 1.0, i * 8000, i * 10):
            found = receiver.feed(scheduled.packet)
            if found:
                digits.append(found)
    assert "".join(digits) == "19*#D5"


def test_receiver_survives_lost_start_packets_and_repeated_ends() -> None:
    packets = [s.packet for s in DtmfSender(ssrc=7).schedule("8", 0.0, 1600, 0)]
    receiver = DtmfReceiver()
    assert [receiver.feed(p) for p in packets[4:]] == ["8", None, None]  # only the end packets arrived
    assert [receiver.feed(p) for p in packets] == [None] * 7  # late copies of the same event


def test_receiver_tells_the_same_digit_pressed_twice_apart() -> None:
    sender = DtmfSender(ssrc=7)
    receiver = DtmfReceiver()
    first = sender.schedule("3", 0.0, 0, 0)
    second = sender.schedule("3", 1.0, 8000, 7)
    found = [receiver.feed(s.packet) for s in first + second]
    assert [d for d in found if d] == ["3", "3"]


def test_receiver_ignores_garbage_and_non_dtmf_events() -> None:
    receiver = DtmfReceiver()
    assert receiver.feed(RtpPacket(101, 1, 0, 7, b"\x01")) is None
    assert receiver.feed(RtpPacket(101, 2, 160, 7, bytes(DtmfEvent(40, False, 10, 160)))) is None  # a tone
    assert receiver.feed(RtpPacket(101, 3, 320, 7, bytes(DtmfEvent(16, True, 10, 800)))) == FLASH


SIPP_DIGITS = {f"dtmf_2833_{d}.pcap": d for d in "0123456789"} | {
    "dtmf_2833_pound.pcap": "#",
    "dtmf_2833_star.pcap": "*",
}


def test_the_sipp_dtmf_captures_are_all_here() -> None:
    present = {p.name for p in SIPP_PCAPS.glob("dtmf_2833_*.pcap")}
    assert present == set(SIPP_DIGITS), f"SIPp DTMF captures differ from the expected set: {sorted(present)}"


@pytest.mark.parametrize(("name", "digit"), sorted(SIPP_DIGITS.items()))
def test_each_sipp_capture_yields_exactly_its_digit(name: str, digit: str) -> None:
    receiver = DtmfReceiver()
    packets = [RtpPacket.parse(d.payload) for d in udp_payloads(sipp_pcap(name))]
    assert len(packets) == 10 and sum(DtmfEvent.parse(p.payload).end for p in packets) == 3
    found = [d for p in packets if (d := receiver.feed(p)) is not None]
    assert found == [digit]
    # replaying the whole capture (SIPp plays it again on a retransmission) reports nothing more
    assert [receiver.feed(p) for p in packets] == [None] * len(packets)
