"""Call policy: every rule of manual 7.5 / Table 17 that decides an incoming or outgoing call."""

from __future__ import annotations

from typing import Any

import pytest

from portier.phone.policy import (
    Dial,
    Incoming,
    Redirect,
    Refuse,
    Reject,
    Ring,
    decide_incoming,
    decide_outgoing,
    is_anonymous,
    is_feature_code,
    line_settings,
)
from portier.settings import document
from portier.settings.records import RestrictedIncoming, RestrictedOutgoing
from portier.settings.schema import Settings


def settings(**values: Any) -> Settings:
    return document.with_values(Settings(), {document.find(k): v for k, v in values.items()})


def caller(number: str = "200", line: int = 1, **kw: Any) -> Incoming:
    return Incoming(caller=number, anonymous=kw.pop("anonymous", False), line=line, **kw)


def test_default_line_rings_and_answers_at_once() -> None:
    verdict = decide_incoming(caller(), Settings(), [])
    assert verdict == Ring(0.0, 120.0)


def test_auto_answer_off_rings_until_the_no_answer_timeout() -> None:
    verdict = decide_incoming(caller(), settings(**{"SIP1 Auto Answer": False, "P1 Call Timeout": 30}), [])
    assert isinstance(verdict, Ring) and verdict.answer_after is None and verdict.hangup_after == 30


def test_p2p_calls_follow_the_p2p_settings_and_allow_ip_call() -> None:
    assert isinstance(decide_incoming(caller(line=0), Settings(), []), Ring)
    verdict = decide_incoming(caller(line=0), settings(**{"P1 Allow IP Call": False}), [])
    assert isinstance(verdict, Reject) and verdict.code == 403


@pytest.mark.parametrize(
    ("row", "number", "refused"),
    [
        (RestrictedIncoming(number="200"), "200", True),
        (RestrictedIncoming(number="200"), "2001", False),
        (RestrictedIncoming(number="20", prefix=True), "2001", True),
        (RestrictedIncoming(number="20", prefix=True, line="SIP2"), "2001", False),
        (RestrictedIncoming(number="20", prefix=True, line="SIP1"), "2001", True),
    ],
)
def test_restricted_incoming_list(row: RestrictedIncoming, number: str, refused: bool) -> None:
    verdict = decide_incoming(caller(number), Settings(), [row])
    assert isinstance(verdict, Reject) is refused
    if refused:
        assert isinstance(verdict, Reject) and verdict.code == 603 and "restricted" in verdict.why


def test_restricted_list_can_be_switched_off() -> None:
    verdict = decide_incoming(caller("200"), settings(**{"P1 Enable Black List": False}),
                              [RestrictedIncoming(number="200")])
    assert isinstance(verdict, Ring)


def test_anonymous_blocked_with_433_only_when_enabled() -> None:
    assert isinstance(decide_incoming(caller(anonymous=True), Settings(), []), Ring)
    verdict = decide_incoming(caller(anonymous=True), settings(**{"SIP1 Ban Anonymous": True}), [])
    assert isinstance(verdict, Reject) and (verdict.code, verdict.reason) == (433, "Anonymity Disallowed")


@pytest.mark.parametrize(
    ("user", "host", "display", "privacy", "anonymous"),
    [
        ("anonymous", "anonymous.invalid", "", "", True),
        ("200", "pbx", "Anonymous", "", True),
        ("200", "pbx", "", "id", True),
        ("200", "pbx", "Door", "none", False),
    ],
)
def test_is_anonymous(user: str, host: str, display: str, privacy: str, anonymous: bool) -> None:
    assert is_anonymous(user, host, display, privacy) is anonymous


def test_dnd_rejects_with_the_reject_code() -> None:
    dnd = settings(**{"SIP1 Enable DND": True, "P1 Reject Return Code": 480})
    verdict = decide_incoming(caller(), dnd, [])
    assert isinstance(verdict, Reject) and (verdict.code, verdict.why) == (480, "do not disturb")


def test_forward_unconditional() -> None:
    values = {"SIP1 Always FWD": True, "SIP1 Always FWD Num": "300"}
    assert decide_incoming(caller(), settings(**values), []) == Redirect("300", "call forward unconditional")


def test_forward_needs_a_number() -> None:
    assert isinstance(decide_incoming(caller(), settings(**{"SIP1 Always FWD": True}), []), Ring)


def test_busy_with_call_waiting_rings_as_waiting_and_182_on_request() -> None:
    verdict = decide_incoming(caller(busy=True), settings(**{"SIP1 Respond 182": True}), [])
    assert isinstance(verdict, Ring) and verdict.waiting and verdict.use_182 and verdict.answer_after is None


def test_busy_without_call_waiting_gets_the_busy_code() -> None:
    verdict = decide_incoming(caller(busy=True), settings(**{"P1 CallWaiting": False}), [])
    assert isinstance(verdict, Reject) and verdict.code == 486


def test_forward_on_busy_beats_call_waiting() -> None:
    values = {"SIP1 Busy FWD": True, "SIP1 Busy FWD Num": "301"}
    verdict = decide_incoming(caller(busy=True), settings(**values), [])
    assert verdict == Redirect("301", "call forward on busy")


def test_forward_on_no_answer_when_nobody_answers_first() -> None:
    values = {"SIP1 Auto Answer": False, "SIP1 No Answer FWD": True, "SIP1 NoAnswer FWD Num": "302",
              "SIP1 FWD Timer": 7}
    verdict = decide_incoming(caller(), settings(**values), [])
    assert isinstance(verdict, Ring)
    assert verdict.forward == Redirect("302", "call forward on no answer") and verdict.forward_after == 7
    values["SIP1 Auto Answer"] = True  # answered at 0 s: the forward never happens
    answered = decide_incoming(caller(), settings(**values), [])
    assert isinstance(answered, Ring) and answered.forward is None


def test_intercom_answers_even_with_auto_answer_off() -> None:
    verdict = decide_incoming(caller(intercom_delay=2.0), settings(**{"SIP1 Auto Answer": False}), [])
    assert isinstance(verdict, Ring) and verdict.answer_after == 2.0 and verdict.intercom


def test_intercom_disabled_is_an_ordinary_call() -> None:
    values = {"SIP1 Auto Answer": False, "P1 Enable Intercom": False}
    verdict = decide_incoming(caller(intercom_delay=0.0), settings(**values), [])
    assert isinstance(verdict, Ring) and verdict.answer_after is None and not verdict.intercom


def test_intercom_barge_answers_during_a_call_but_not_a_second_intercom() -> None:
    barge = settings(**{"P1 Intercom Barge": True})
    verdict = decide_incoming(caller(intercom_delay=0.0, busy=True), barge, [])
    assert isinstance(verdict, Ring) and verdict.barge and verdict.answer_after == 0.0
    second = decide_incoming(caller(intercom_delay=0.0, busy=True, busy_with_intercom=True), barge, [])
    assert isinstance(second, Reject) and second.code == 486


def test_one_waiting_call_at_a_time() -> None:
    verdict = decide_incoming(caller(busy=True, waiting_already=True), Settings(), [])
    assert isinstance(verdict, Reject) and verdict.code == 486 and "already waiting" in verdict.why
    barge = settings(**{"P1 Intercom Barge": True})
    verdict = decide_incoming(caller(intercom_delay=0.0, busy=True, waiting_already=True), barge, [])
    assert isinstance(verdict, Reject)


def test_intercom_without_barge_waits_like_any_call() -> None:
    verdict = decide_incoming(caller(intercom_delay=0.0, busy=True), Settings(), [])
    assert isinstance(verdict, Ring) and verdict.waiting and not verdict.barge


def test_dnd_beats_intercom() -> None:
    verdict = decide_incoming(caller(intercom_delay=0.0), settings(**{"SIP1 Enable DND": True}), [])
    assert isinstance(verdict, Reject)


def test_outgoing_ban_and_restricted_list() -> None:
    assert isinstance(decide_outgoing("200", 1, settings(**{"P1 Ban Dial Out": True}), []), Refuse)
    refused = decide_outgoing("0900123", 1, Settings(), [RestrictedOutgoing(number="0900", prefix=True)])
    assert isinstance(refused, Refuse) and "restricted outgoing" in refused.why
    allowed = decide_outgoing("200", 1, Settings(), [RestrictedOutgoing(number="0900", prefix=True)])
    assert allowed == Dial("200")


def test_outgoing_call_number_filter_country_code_and_anonymous() -> None:
    assert decide_outgoing("78&9", 1, settings(**{"P1 Call Number Filter": "&"}), []) == Dial("789")
    coded = settings(**{"P1 Enable Country Code": True, "P1 Country Code": "49", "P1 Call Area Code": "30"})
    assert decide_outgoing("1234", 1, coded, []) == Dial("49301234")
    assert decide_outgoing("49301234", 1, coded, []) == Dial("49301234")
    assert decide_outgoing("200", 1, settings(**{"SIP1 CLIR": True}), []) == Dial("200", anonymous=True)
    assert decide_outgoing("200", 0, settings(**{"SIP1 CLIR": True}), []) == Dial("200")


SERVER_FEATURES = {
    "SIP1 SvcCode Mode": True,
    "SIP1 DNDOn SvcCode": "*78",
    "SIP1 DNDOff SvcCode": "*79",
    "SIP1 CFUOn SvcCode": "*72",
    "SIP1 CLIR": True,
}


def test_with_feature_codes_the_server_does_dnd_forward_and_anonymous_blocking() -> None:
    local = {"SIP1 Enable DND": True, "SIP1 Always FWD": True, "SIP1 Always FWD Num": "300",
             "SIP1 Ban Anonymous": True}
    assert isinstance(decide_incoming(caller(anonymous=True), settings(**local), []), Reject)
    verdict = decide_incoming(caller(anonymous=True), settings(**local, **SERVER_FEATURES), [])
    assert isinstance(verdict, Ring), "with Use Feature Code the line's own DND/forward/blocking do nothing"
    busy = {"SIP1 Busy FWD": True, "SIP1 Busy FWD Num": "301", **SERVER_FEATURES}
    assert isinstance(decide_incoming(caller(busy=True), settings(**busy), []), Ring)
    no_answer = {"SIP1 Auto Answer": False, "SIP1 No Answer FWD": True, "SIP1 NoAnswer FWD Num": "302",
                 **SERVER_FEATURES}
    ringing = decide_incoming(caller(), settings(**no_answer), [])
    assert isinstance(ringing, Ring) and ringing.forward is None


def test_restricted_list_still_applies_with_feature_codes() -> None:
    verdict = decide_incoming(caller("200"), settings(**SERVER_FEATURES), [RestrictedIncoming(number="200")])
    assert isinstance(verdict, Reject)


def test_feature_codes_go_out_as_configured_and_never_anonymously() -> None:
    strict = settings(**SERVER_FEATURES, **{
        "P1 Ban Dial Out": True, "P1 Call Number Filter": "*", "P1 Enable Country Code": True,
        "P1 Country Code": "49",
    })
    barred = [RestrictedOutgoing(number="*", prefix=True)]
    assert decide_outgoing("*78", 1, strict, barred) == Dial("*78")
    assert decide_outgoing("*72301", 1, strict, barred) == Dial("*72301")  # a forward code with its target
    assert decide_outgoing("*79301", 1, strict, barred) == Refuse("outgoing calls are banned (Ban Outgoing)")
    assert decide_outgoing("200", 1, settings(**SERVER_FEATURES), []) == Dial("200"), (
        "Send Anonymous is the server's business once Use Feature Code is on"
    )


def test_a_code_is_a_number_like_any_other_without_use_feature_code() -> None:
    codes = settings(**{"SIP1 DNDOn SvcCode": "*78"})
    assert not is_feature_code("*78", line_settings(codes, 1))
    banned = settings(**{"SIP1 DNDOn SvcCode": "*78", "P1 Ban Dial Out": True})
    assert decide_outgoing("*78", 1, banned, []) == Refuse("outgoing calls are banned (Ban Outgoing)")
    assert not is_feature_code("*78", line_settings(settings(**SERVER_FEATURES), 0))


def test_a_sip_uri_is_checked_by_its_user_and_dialled_as_given() -> None:
    premium = [RestrictedOutgoing(number="0900", prefix=True)]
    refused = decide_outgoing("sip:0900123@pbx.example", 1, Settings(), premium)
    assert refused == Refuse("0900123 is on the restricted outgoing list (0900)")
    coded = settings(**{"P1 Call Number Filter": "-", "P1 Enable Country Code": True,
                        "P1 Country Code": "49"})
    assert decide_outgoing("sip:12-3@pbx.example", 1, coded, premium) == Dial("sip:12-3@pbx.example")
    assert decide_outgoing("sip:%30900@pbx.example", 1, Settings(), premium) == Refuse(
        "0900 is on the restricted outgoing list (0900)"
    )
    assert isinstance(decide_outgoing("sip:200@pbx", 1, settings(**{"P1 Ban Dial Out": True}), []), Refuse)
