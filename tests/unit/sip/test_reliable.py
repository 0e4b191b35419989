"""RFC 3262: RSeq/RAck on the wire, the UAS's repeat schedule and give-up, the UAC's in-order PRACKs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portier.sip import parse
from portier.sip.message import SipResponse
from portier.sip.reliable import (
    GiveUp,
    RAck,
    ReliableError,
    ReliableReceiver,
    ReliableSender,
    parse_rseq,
    requires_100rel,
    rseq_of,
    supports_100rel,
)

T1 = 0.5


def response(status: int = 180, *extra: str, tag: str = "uas1", cseq: int = 7) -> SipResponse:
    text = (
        f"SIP/2.0 {status} Ringing\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
        "From: <sip:a@example.com>;tag=uac\r\n"
        f"To: <sip:door@example.com>;tag={tag}\r\n"
        "Call-ID: c1\r\n"
        f"CSeq: {cseq} INVITE\r\n" + "".join(f"{line}\r\n" for line in extra) + "Content-Length: 0\r\n\r\n"
    )
    parsed = parse(text.encode())
    assert isinstance(parsed, SipResponse)
    return parsed


# --- header values ------------------------------------------------------------------------------


def test_rack_round_trips_and_rejects_garbage() -> None:
    rack = RAck.parse("  776656 1 INVITE ")
    assert rack == RAck(776656, 1, "INVITE")
    assert str(rack) == "776656 1 INVITE"
    for bad in ("", "1 INVITE", "x 1 INVITE", "1 2", "99999999999 1 INVITE", "1 1 IN VITE"):
        with pytest.raises(ReliableError):
            RAck.parse(bad)


@given(st.integers(1, 2**32 - 1), st.integers(0, 2**32 - 1), st.sampled_from(["INVITE", "UPDATE"]))
def test_rack_text_is_a_fixed_point(rseq: int, cseq: int, method: str) -> None:
    rack = RAck(rseq, cseq, method)
    assert RAck.parse(str(rack)) == rack


def test_rseq_must_be_a_positive_32_bit_number() -> None:
    assert parse_rseq(" 42 ") == 42
    for bad in ("0", "-1", "4294967296", "1.5", ""):
        with pytest.raises(ReliableError):
            parse_rseq(bad)


def test_option_tag_is_found_in_supported_or_require_whatever_the_case() -> None:
    assert supports_100rel(response(180, "Supported: timer, 100REL"))
    assert supports_100rel(response(180, "Require: 100rel"))
    assert not supports_100rel(response(180, "Supported: timer"))
    assert requires_100rel(response(180, "Require: 100rel"))
    assert not requires_100rel(response(180, "Supported: 100rel"))


def test_only_a_1xx_with_require_and_a_readable_rseq_is_reliable() -> None:
    assert rseq_of(response(183, "Require: 100rel", "RSeq: 9")) == 9
    assert rseq_of(response(180, "RSeq: 9")) is None
    assert rseq_of(response(180, "Require: 100rel")) is None
    assert rseq_of(response(180, "Require: 100rel", "RSeq: nine")) is None
    assert rseq_of(response(200, "Require: 100rel", "RSeq: 9")) is None


# --- UAS ----------------------------------------------------------------------------------------


def test_reliable_response_carries_require_and_consecutive_rseqs() -> None:
    sender = ReliableSender(T1, next_rseq=100)
    first = sender.send(response(180), now=0.0)
    assert first.get("Require") == "100rel" and first.get("RSeq") == "100"
    assert first.headers[-1].name == "Content-Length"
    with pytest.raises(ValueError, match="one unacknowledged"):
        sender.send(response(183), now=0.1)
    assert sender.on_prack(RAck(100, 7, "INVITE"))
    second = sender.send(response(183, "Require: 100rel"), now=0.2)
    assert second.get_all("Require") == ["100rel"] and second.get("RSeq") == "101"


def test_repeats_double_from_t1_and_give_up_after_64_t1() -> None:
    sender = ReliableSender(T1, next_rseq=1)
    sent = sender.send(response(180), now=10.0)
    times = []
    while True:
        deadline = sender.next_deadline()
        assert deadline is not None
        outcome = sender.on_timer(deadline)
        if isinstance(outcome, GiveUp):
            break
        assert outcome is sent
        times.append(round(deadline - 10.0, 6))
    assert times == [T1 * n for n in (1, 3, 7, 15, 31, 63)]
    assert deadline - 10.0 == pytest.approx(64 * T1)
    assert outcome == GiveUp(1)
    assert sender.next_deadline() is None and not sender.waiting


def test_a_timer_before_the_deadline_sends_nothing() -> None:
    sender = ReliableSender(T1, next_rseq=1)
    sender.send(response(180), now=0.0)
    assert sender.on_timer(T1 / 2) is None
    assert sender.next_deadline() == T1


def test_matching_prack_stops_the_repeats_and_others_get_481() -> None:
    sender = ReliableSender(T1, next_rseq=5)
    sender.send(response(180, cseq=3), now=0.0)
    assert not sender.on_prack(RAck(5, 4, "INVITE"))  # another request's CSeq
    assert not sender.on_prack(RAck(6, 3, "INVITE"))  # a response never sent
    assert not sender.on_prack(RAck(5, 3, "UPDATE"))
    assert sender.waiting
    assert sender.on_prack(RAck(5, 3, "INVITE"))
    assert not sender.waiting and sender.next_deadline() is None
    assert sender.on_prack(RAck(5, 3, "INVITE"))  # a repeated PRACK still gets its 200


def test_final_response_ends_the_repeats() -> None:
    sender = ReliableSender(T1, next_rseq=5)
    sender.send(response(180), now=0.0)
    sender.finish()
    assert sender.on_timer(100.0) is None and sender.next_deadline() is None


def test_only_provisional_responses_are_sent_reliably() -> None:
    with pytest.raises(ValueError, match="101-199"):
        ReliableSender(T1).send(response(200), now=0.0)


def test_first_rseq_is_in_range() -> None:
    assert all(1 <= ReliableSender(T1).next_rseq < 2**31 - 1 for _ in range(50))


# --- UAC ----------------------------------------------------------------------------------------


def test_uac_pracks_each_reliable_response_once_and_in_order() -> None:
    receiver = ReliableReceiver()
    assert receiver.accept(response(180)) is None  # not reliable
    assert receiver.accept(response(180, "Require: 100rel", "RSeq: 41")) == RAck(41, 7, "INVITE")
    assert receiver.accept(response(180, "Require: 100rel", "RSeq: 41")) is None  # retransmission
    assert receiver.accept(response(183, "Require: 100rel", "RSeq: 43")) is None  # 42 is missing
    assert receiver.accept(response(183, "Require: 100rel", "RSeq: 40")) is None  # older
    assert receiver.accept(response(183, "Require: 100rel", "RSeq: 42")) == RAck(42, 7, "INVITE")


def test_each_fork_has_its_own_sequence() -> None:
    receiver = ReliableReceiver()
    assert receiver.accept(response(180, "Require: 100rel", "RSeq: 1", tag="a")) == RAck(1, 7, "INVITE")
    assert receiver.accept(response(180, "Require: 100rel", "RSeq: 900", tag="b")) == RAck(900, 7, "INVITE")
    assert receiver.accept(response(183, "Require: 100rel", "RSeq: 2", tag="a")) == RAck(2, 7, "INVITE")
