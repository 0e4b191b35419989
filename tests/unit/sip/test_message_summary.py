"""RFC 3842 message-summary bodies: the RFC's examples, what real servers send, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portier.sip.message_summary import (
    CLASSES,
    Counts,
    MessageSummary,
    MessageSummaryError,
    parse,
    render,
)

RFC_3842_EXAMPLE = (
    b"Messages-Waiting: yes\r\n"
    b"Message-Account: sip:alice@vmail.example.com\r\n"
    b"Voice-Message: 4/8 (1/2)\r\n"
    b"\r\n"
)
"""RFC 3842 §3.1, the body of the example NOTIFY."""


def test_the_rfc_example() -> None:
    summary = parse(RFC_3842_EXAMPLE)
    assert summary.waiting and summary.account == "sip:alice@vmail.example.com"
    assert summary.voice == Counts(4, 8, 1, 2)


def test_rfc_4_example_with_several_classes_and_optional_headers() -> None:
    body = (
        "Messages-Waiting: yes\r\nVoice-Message: 4/8 (1/2)\r\nFax-Message: 0/1\r\n\r\n"
        "To: <sip:alice@example.com>\r\nFrom: <sip:bob@example.com>\r\n"
        "Subject: carpool tomorrow?\r\nMessage-Context: voice-message\r\n"
    )
    summary = parse(body)
    assert summary.counts == {"voice-message": Counts(4, 8, 1, 2), "fax-message": Counts(0, 1)}


@pytest.mark.parametrize(
    ("body", "waiting", "voice"),
    [
        ("messages-waiting: no\nvoice-message: 0/0\n", False, Counts()),  # LF only, lower case
        ("Messages-Waiting:yes\r\nVoice-Message:2/3(0/1)\r\n", True, Counts(2, 3, 0, 1)),  # no blanks
        ("Messages-Waiting: yes\r\nVoicemail: 2/8\r\n", True, Counts()),  # a vendor line, no class
        ("Messages-Waiting: no\r\n", False, Counts()),  # nothing counted
    ],
)
def test_what_servers_really_send(body: str, waiting: bool, voice: Counts) -> None:
    summary = parse(body)
    assert (summary.waiting, summary.voice) == (waiting, voice)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("Voice-Message: 1/0\r\n", "no Messages-Waiting"),
        ("Messages-Waiting: maybe\r\n", "yes or no"),
        ("Messages-Waiting: yes\r\nVoice-Message: one/two\r\n", "line 2: Voice-Message must be new/old"),
        ("Messages-Waiting: yes\r\ngarbage\r\n", "line 2"),
        ("", "no Messages-Waiting"),
    ],
)
def test_bodies_that_are_not_summaries(body: str, says: str) -> None:
    with pytest.raises(MessageSummaryError, match=says):
        parse(body)


counts = st.builds(Counts, *(st.integers(0, 10**6) for _ in range(4)))


@given(
    st.booleans(),
    st.sampled_from(["", "sip:door@pbx.example", "sip:123@10.0.0.1:5060"]),
    st.dictionaries(st.sampled_from(CLASSES), counts, max_size=4),
)
def test_render_then_parse_is_the_same(waiting: bool, account: str, listed: dict[str, Counts]) -> None:
    summary = MessageSummary(waiting, account, listed)
    assert parse(render(summary)) == summary
