"""REFER's wire details: Refer-To with an escaped Replaces (RFC 3891 §6.1, RFC 3515 §2.1), sipfrag
bodies (RFC 3420), Event and Subscription-State, Refer-Sub (RFC 4488), and ``ReferProgress``."""

from __future__ import annotations

import pytest

from portier.sip.errors import SipParseError
from portier.sip.message import Header, SipRequest, SipResponse, parse
from portier.sip.refer import (
    Outcome,
    ReferProgress,
    Replaces,
    event,
    is_terminated,
    no_subscription,
    parse_event,
    parse_refer_to,
    parse_replaces,
    parse_sipfrag,
    refer_to,
    sipfrag,
    subscription_state,
)
from portier.sip.uri import SipUri

# RFC 3891 §7 example values (Call-ID with an '@', tags as there)
REPLACES = Replaces("425928@bobster.example.org", to_tag="7743", from_tag="6472")


def test_replaces_round_trip_and_early_only() -> None:
    assert str(REPLACES) == "425928@bobster.example.org;to-tag=7743;from-tag=6472"
    assert parse_replaces(str(REPLACES)) == REPLACES
    early = parse_replaces("98732@sip.example.com ; from-tag=r33th4x0r ;to-tag=ff87ff;early-only")
    assert early == Replaces("98732@sip.example.com", "ff87ff", "r33th4x0r", early_only=True)


@pytest.mark.parametrize(
    "value",
    ["", ";to-tag=1;from-tag=2", "abc;to-tag=1", "abc;from-tag=2", "abc;to-tag=1;from-tag=2 junk"],
)
def test_replaces_without_call_id_or_a_tag_is_an_error(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_replaces(value)


def test_attended_refer_to_escapes_replaces_inside_the_uri() -> None:
    value = refer_to("sip:carol@127.0.0.1:5070", REPLACES)
    assert value == (
        "<sip:carol@127.0.0.1:5070?Replaces=425928%40bobster.example.org%3Bto-tag%3D7743%3Bfrom-tag%3D6472>"
    )
    target = parse_refer_to(value)
    assert target.replaces == REPLACES
    assert str(target.uri) == "sip:carol@127.0.0.1:5070"  # the INVITE goes to the URI without headers


def test_blind_refer_to_and_other_embedded_headers() -> None:
    assert refer_to("sip:200@pbx.example") == "<sip:200@pbx.example>"
    target = parse_refer_to(
        '"Carol" <sip:carol@example.com;transport=tcp?Accept-Contact=%3Bmobility%3D%22fixed%22>'
    )
    assert target.replaces is None
    assert target.headers == (("Accept-Contact", ';mobility="fixed"'),)
    assert isinstance(target.uri, SipUri) and target.uri.param("transport") == "tcp"
    assert parse_refer_to("tel:+15551234").uri.scheme == "tel"
    with pytest.raises(ValueError):
        refer_to(parse_refer_to("tel:+15551234").uri, REPLACES)


def test_sipfrag_bodies() -> None:
    assert sipfrag(100, "Trying") == b"SIP/2.0 100 Trying\r\n"
    assert parse_sipfrag(b"SIP/2.0 200 OK\r\n") == (200, "OK")
    assert parse_sipfrag(b"SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n") == (486, "Busy Here")
    assert parse_sipfrag(b"SIP/2.0 180") == (180, "")
    for bad in (b"", b"INVITE sip:a@b SIP/2.0\r\n", b"SIP/2.0 99 Too Low\r\n"):
        with pytest.raises(SipParseError):
            parse_sipfrag(bad)


def _refer(*extra: tuple[str, str]) -> SipRequest:
    text = (
        "REFER sip:door@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n"
        "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:door@127.0.0.1>;tag=2\r\nCall-ID: c1\r\n"
        "CSeq: 93 REFER\r\nRefer-To: <sip:b@127.0.0.1>\r\nContent-Length: 0\r\n\r\n"
    )
    request = parse(text.encode())
    assert isinstance(request, SipRequest)
    request.headers[-1:-1] = [Header(name, value) for name, value in extra]
    return request


def test_event_subscription_state_and_refer_sub() -> None:
    assert event(_refer()) == "refer;id=93"
    assert parse_event("refer;id=93") == ("refer", "93")
    assert parse_event(" Refer ") == ("refer", None)
    assert parse_event("message-summary") == ("message-summary", None)
    with pytest.raises(SipParseError):
        parse_event(";id=3")
    assert subscription_state(False) == "active;expires=60"
    assert subscription_state(True) == "terminated;reason=noresource"
    assert is_terminated("terminated;reason=noresource") and is_terminated(" Terminated ")
    assert not is_terminated("active;expires=60") and not is_terminated(None)
    assert no_subscription(_refer(("Refer-Sub", "false")))
    assert not no_subscription(_refer()) and not no_subscription(_refer(("Refer-Sub", "true")))
    accepted = SipResponse(status=202, reason="Accepted", headers=[Header("Refer-Sub", "false")])
    assert no_subscription(accepted)


def test_progress_succeeds_on_the_first_2xx_report() -> None:
    progress = ReferProgress()
    assert progress.on_response(100, "Trying") is Outcome.PENDING
    assert progress.on_response(202, "Accepted") is Outcome.PENDING
    assert progress.on_notify(100, "Trying", terminated=False) is Outcome.PENDING
    assert progress.on_notify(180, "Ringing", terminated=False) is Outcome.PENDING
    assert progress.on_notify(200, "OK", terminated=True) is Outcome.SUCCEEDED
    assert progress.reason == "200 OK"
    assert progress.on_notify(486, "Busy Here", terminated=True) is Outcome.SUCCEEDED  # settled stays


def test_progress_failures() -> None:
    refused = ReferProgress()
    assert refused.on_response(603, "Decline") is Outcome.FAILED
    assert refused.reason == "the REFER was refused: 603 Decline"
    busy = ReferProgress()
    busy.on_response(202, "Accepted")
    assert busy.on_notify(486, "Busy Here", terminated=True) is Outcome.FAILED
    assert "486 Busy Here" in busy.reason
    silent = ReferProgress()
    assert silent.on_notify(100, "Trying", terminated=False) is Outcome.PENDING
    assert silent.on_notify(None, "", terminated=True) is Outcome.FAILED
    assert silent.last_status == 100
    late = ReferProgress()
    assert late.give_up("no final report within 5 s (Transfer Timeout)") is Outcome.FAILED
    assert late.give_up("other") is Outcome.FAILED and late.reason.startswith("no final report")


def test_refer_sub_false_in_the_2xx_is_success_at_once() -> None:
    progress = ReferProgress()
    assert progress.on_response(202, "Accepted", refer_sub_false=True) is Outcome.SUCCEEDED
