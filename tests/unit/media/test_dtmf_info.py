"""SIP INFO DTMF bodies in both of the manual's modes, and what peers send."""

from __future__ import annotations

import pytest

from portier.media.dtmf_info import (
    DTMF,
    DTMF_RELAY,
    DtmfInfo,
    DtmfInfoError,
    make_dtmf_relay,
    parse_dtmf_info,
)


def test_dtmf_relay_body() -> None:
    assert make_dtmf_relay("5") == b"Signal=5\r\nDuration=160\r\n"
    assert make_dtmf_relay("b", 100) == b"Signal=B\r\nDuration=100\r\n"


@pytest.mark.parametrize(("digit", "star_pound", "numeric"), [("*", "*", "10"), ("#", "#", "11")])
def test_star_and_pound_follow_the_sip_info_mode(digit: str, star_pound: str, numeric: str) -> None:
    assert make_dtmf_relay(digit) == f"Signal={star_pound}\r\nDuration=160\r\n".encode()
    assert make_dtmf_relay(digit, numeric_star_pound=True) == f"Signal={numeric}\r\nDuration=160\r\n".encode()
    assert make_dtmf_relay("A", numeric_star_pound=True).startswith(b"Signal=A\r\n")


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (DTMF_RELAY, b"Signal=5\r\nDuration=160\r\n", DtmfInfo("5", 160)),
        ("Application/DTMF-Relay; charset=utf-8", b"signal= 10\nduration=250\n", DtmfInfo("*", 250)),
        (DTMF_RELAY, b"Signal=11\r\n", DtmfInfo("#", None)),
        (DTMF_RELAY, b"Signal=#\r\nDuration=100", DtmfInfo("#", 100)),
        (DTMF_RELAY, b"Signal=d\r\n", DtmfInfo("D", None)),
        (DTMF_RELAY, b"Signal=16\r\n", DtmfInfo("!", None)),
        (DTMF, b"5", DtmfInfo("5")),
        (DTMF, b"11\r\n", DtmfInfo("#")),
        (DTMF, b"*", DtmfInfo("*")),
    ],
)
def test_parsing_accepts_both_forms(content_type: str, body: bytes, expected: DtmfInfo) -> None:
    assert parse_dtmf_info(content_type, body) == expected


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("application/sdp", b"v=0", "carries no DTMF"),
        (DTMF_RELAY, b"Duration=160\r\n", "no Signal="),
        (DTMF_RELAY, b"Signal=17\r\n", "not a DTMF signal"),
        (DTMF_RELAY, b"Signal=E\r\n", "not a DTMF signal"),
        (DTMF_RELAY, b"Signal=5\r\nDuration=long\r\n", "whole number"),
        (DTMF_RELAY, b"Signal 5\r\n", "not Name=Value"),
        (DTMF, b"\xff", "not UTF-8"),
        (DTMF, b"", "not a DTMF signal"),
    ],
)
def test_parsing_errors_say_what_is_wrong(content_type: str, body: bytes, reason: str) -> None:
    with pytest.raises(DtmfInfoError, match=reason):
        parse_dtmf_info(content_type, body)


def test_every_digit_round_trips_in_both_modes() -> None:
    for digit in "0123456789*#ABCD!":
        for numeric in (False, True):
            body = make_dtmf_relay(digit, numeric_star_pound=numeric)
            assert parse_dtmf_info(DTMF_RELAY, body) == DtmfInfo(digit, 160)


def test_building_rejects_bad_input() -> None:
    with pytest.raises(DtmfInfoError, match="not a DTMF digit"):
        make_dtmf_relay("55")
    with pytest.raises(DtmfInfoError, match="positive"):
        make_dtmf_relay("5", 0)
