"""The decisions of ``phone/transfer.py`` that need no wire: which call an INVITE with Replaces takes
over (RFC 3891 §3), whether a REFER can be acted on, and what a failed new call is reported as."""

from __future__ import annotations

import pytest

from portier.media.ports import RtpPorts
from portier.phone.call import Call, CallState
from portier.phone.transfer import check_refer, failure_status, find_replaced
from portier.sip.agent import AgentConfig, UserAgent
from portier.sip.dialog import Dialog, DialogState
from portier.sip.message import SipRequest, parse
from portier.sip.transport import Endpoint, TransportConfig
from portier.sip.validate import Rejection

AGENT = UserAgent(AgentConfig(transport=TransportConfig(host="127.0.0.1", udp_port=0, tcp_port=None)))


def request(method: str, *extra: str, to_tag: str = "") -> SipRequest:
    to = "<sip:door@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    text = "\r\n".join(
        [
            f"{method} sip:door@127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
            "From: <sip:alice@127.0.0.1>;tag=alice-tag",
            f"To: {to}",
            "Call-ID: new-call@127.0.0.1",
            f"CSeq: 7 {method}",
            "Contact: <sip:alice@127.0.0.1:5070>",
            *extra,
            "Content-Length: 0",
            "",
            "",
        ]
    )
    parsed = parse(text.encode())
    assert isinstance(parsed, SipRequest)
    return parsed


def call(state: CallState, direction: str = "incoming", dialog: DialogState = DialogState.CONFIRMED) -> Call:
    """A call of the device with Call-ID ``consult@127.0.0.1``, local tag ``door-tag`` and remote tag
    ``bob-tag``."""
    invite = request("INVITE")
    made = Dialog.as_uas(invite, "door-tag")
    made.call_id, made.remote_tag, made.state = "consult@127.0.0.1", "bob-tag", dialog
    return Call(
        call_id="consult@127.0.0.1",
        line=1,
        direction=direction,
        remote="sip:bob@127.0.0.1",
        agent=AGENT,
        publish=lambda event: None,
        ports=RtpPorts(40000, 100),
        user_agent="test",
        contact="<sip:127.0.0.1>",
        destination=Endpoint("UDP", "127.0.0.1", 5060),
        state=state,
        dialog=made,
    )


def replacing(value: str) -> SipRequest:
    return request("INVITE", f"Replaces: {value}")


def test_replaces_matches_call_id_and_tags_seen_from_the_device() -> None:
    talking = call(CallState.TALKING)
    assert (
        find_replaced(replacing("consult@127.0.0.1;to-tag=door-tag;from-tag=bob-tag"), [talking]) is talking
    )
    assert find_replaced(request("INVITE"), [talking]) is None  # no Replaces: an ordinary call


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("consult@127.0.0.1;to-tag=bob-tag;from-tag=door-tag", 481),  # tags swapped: not ours
        ("other@127.0.0.1;to-tag=door-tag;from-tag=bob-tag", 481),
        ("consult@127.0.0.1;to-tag=door-tag;from-tag=bob-tag;early-only", 486),
        ("consult@127.0.0.1;to-tag=door-tag", 400),
    ],
)
def test_replaces_refusals(value: str, status: int) -> None:
    found = find_replaced(replacing(value), [call(CallState.TALKING)])
    assert isinstance(found, Rejection) and found.status == status, found


def test_replaces_and_early_or_ended_dialogs() -> None:
    value = "consult@127.0.0.1;to-tag=door-tag;from-tag=bob-tag"
    ringing_in = call(CallState.RINGING, "incoming", DialogState.EARLY)
    found = find_replaced(replacing(value), [ringing_in])
    assert isinstance(found, Rejection) and found.status == 481  # §3: an early dialog we did not start
    ringing_out = call(CallState.ALERTING, "outgoing", DialogState.EARLY)
    assert find_replaced(replacing(value + ";early-only"), [ringing_out]) is ringing_out
    ended = call(CallState.ENDED, dialog=DialogState.TERMINATED)
    found = find_replaced(replacing(value), [ended])
    assert isinstance(found, Rejection) and found.status == 603
    two = request("INVITE", f"Replaces: {value}", f"Replaces: {value}")
    found = find_replaced(two, [call(CallState.TALKING)])
    assert isinstance(found, Rejection) and found.status == 400


@pytest.mark.parametrize(
    ("headers", "state", "status"),
    [
        (("Refer-To: <sip:carol@127.0.0.1>",), CallState.TALKING, None),
        (("Refer-To: <sip:carol@127.0.0.1>",), CallState.HELD, None),
        (("Refer-To: <sip:carol@127.0.0.1>",), CallState.RINGING, 603),
        ((), CallState.TALKING, 400),
        (("Refer-To: <sip:carol@127.0.0.1>", "Refer-To: <sip:dave@127.0.0.1>"), CallState.TALKING, 400),
        (("Refer-To: <sip:carol@127.0.0.1?Replaces=x%3Bto-tag%3D1>",), CallState.TALKING, 400),
        (("Refer-To: <tel:+15551234>",), CallState.TALKING, 416),
    ],
)
def test_what_refer_the_device_acts_on(
    headers: tuple[str, ...], state: CallState, status: int | None
) -> None:
    found = check_refer(request("REFER", *headers, to_tag="door-tag"), call(state))
    assert (found.status if found else None) == status, found


@pytest.mark.parametrize(
    ("reason", "reported"),
    [
        ("486 Busy Here", (486, "Busy Here")),
        ("603 Decline", (603, "Decline")),
        ("no response (timer B)", (408, "Request Timeout")),
        ("local hangup", (487, "Request Terminated")),
        ("failed: something broke", (503, "Service Unavailable")),
    ],
)
def test_a_failed_new_call_is_reported_with_its_status(reason: str, reported: tuple[int, str]) -> None:
    assert failure_status(reason) == reported
