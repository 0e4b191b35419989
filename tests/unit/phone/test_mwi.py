"""The pure rules of the voice-message subscription (RFC 6665 timing, RFC 3842 NOTIFYs)."""

from __future__ import annotations

import pytest

from portier.events import VoiceMessages
from portier.phone.mwi import (
    RETRY,
    SubscriptionState,
    is_message_summary,
    parse_subscription_state,
    refresh_after,
    resubscribe_after,
    voice_messages,
)
from portier.sip.message import SipRequest, parse


def notify(event: str = "message-summary", body: str = "", state: str = "active;expires=3600") -> SipRequest:
    text = (
        "NOTIFY sip:door@192.0.2.10:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:door@pbx.example>;tag=n1\r\n"
        "To: <sip:door@pbx.example>;tag=s1\r\n"
        "Call-ID: mwi-1\r\n"
        "CSeq: 1 NOTIFY\r\n"
        f"Event: {event}\r\n"
        f"Subscription-State: {state}\r\n"
        "Content-Type: application/simple-message-summary\r\n"
        f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    )
    request = parse(text.encode())
    assert isinstance(request, SipRequest)
    return request


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("active;expires=3600", SubscriptionState("active", 3600)),
        ("Pending ; expires = 60", SubscriptionState("pending", 60)),
        ("terminated;reason=timeout", SubscriptionState("terminated", None, "timeout")),
        ("terminated;reason=probation;retry-after=45", SubscriptionState("terminated", reason="probation",
                                                                         retry_after=45)),
        (None, SubscriptionState("active")),
        ("active;expires=soon", SubscriptionState("active")),
    ],
)
def test_subscription_state(value: str | None, state: SubscriptionState) -> None:
    assert parse_subscription_state(value) == state


@pytest.mark.parametrize(
    ("reason", "retry_after", "again"),
    [
        ("deactivated", None, 0.0),  # §4.1.3: at once
        ("timeout", None, 0.0),
        ("", None, 0.0),
        ("probation", 45, 45.0),  # after Retry-After, or a while
        ("giveup", None, RETRY),
        ("rejected", None, None),  # never
        ("noresource", None, None),
        ("invariant", 10, None),
    ],
)
def test_when_to_subscribe_again_after_the_server_ended_it(
    reason: str, retry_after: int | None, again: float | None
) -> None:
    assert resubscribe_after(SubscriptionState("terminated", None, reason, retry_after)) == again


def test_refresh_at_half_of_what_was_granted() -> None:
    assert refresh_after(3600) == 1800
    assert refresh_after(4) == 2
    assert refresh_after(0) == 1  # never a busy loop


def test_a_notify_body_becomes_the_event() -> None:
    body = "Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx.example\r\nVoice-Message: 2/8 (1/0)\r\n"
    assert voice_messages(1, notify(body=body)) == VoiceMessages(1, True, 2, 8, 1, 0, "sip:*97@pbx.example")


def test_empty_or_broken_bodies_report_nothing() -> None:
    assert voice_messages(1, notify(body="")) is None
    assert voice_messages(1, notify(body="Voice-Message: 1/1\r\n")) is None


def test_only_message_summary_is_ours() -> None:
    assert is_message_summary(notify("message-summary"))
    assert is_message_summary(notify("Message-Summary;id=7"))
    assert not is_message_summary(notify("refer;id=2"))
