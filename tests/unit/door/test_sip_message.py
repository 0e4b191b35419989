"""SIP MESSAGE (RFC 3428) pieces without sockets: text bodies, targets, the line a MESSAGE came over."""

from __future__ import annotations

import pytest

from portier.events import MessageReceived
from portier.phone.message import LineAddress, MessageReceiver, line_of, message_text, message_uri
from portier.sip.agent import AgentConfig, IncomingRequest, UserAgent
from portier.sip.message import SipRequest, parse
from portier.sip.transaction import TxKey
from portier.sip.transport import Endpoint, TransportConfig


def message(uri: str, body: bytes = b"open", content_type: str | None = "text/plain") -> SipRequest:
    headers = [
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1",
        "From: <sip:desk@127.0.0.1:5070>;tag=a1",
        f"To: <{uri}>",
        "Call-ID: m1@127.0.0.1",
        "CSeq: 1 MESSAGE",
        "Max-Forwards: 70",
    ]
    if content_type is not None:
        headers.append(f"Content-Type: {content_type}")
    headers.append(f"Content-Length: {len(body)}")
    head = f"MESSAGE {uri} SIP/2.0\r\n" + "\r\n".join(headers) + "\r\n\r\n"
    request = parse(head.encode() + body)
    assert isinstance(request, SipRequest)
    return request


def agent() -> UserAgent:
    """An agent that is never started: only its identity matters here (no socket is opened)."""
    return UserAgent(AgentConfig(TransportConfig(host="127.0.0.1", udp_port=0, tcp_port=0)))


def test_text_bodies_with_and_without_charset() -> None:
    assert message_text(message("sip:door@127.0.0.1")) == "open"
    latin = message("sip:d@h", "Tür".encode("latin-1"), "text/plain; charset=ISO-8859-1")
    assert message_text(latin) == "Tür"
    assert message_text(message("sip:d@h", b"", None)) == ""
    assert message_text(message("sip:d@h", b"<x/>", "application/im-iscomposing+xml")) is None


def test_the_line_is_the_one_named_on_its_port_else_zero() -> None:
    device, other = agent(), agent()
    lines = [LineAddress(1, "alice", device), LineAddress(2, "bob", other)]
    assert line_of(message("sip:alice@127.0.0.1"), device, lines) == 1
    assert line_of(message("sip:bob@127.0.0.1"), other, lines) == 2
    assert line_of(message("sip:127.0.0.1"), other, lines) == 2  # the only line on that port
    assert line_of(message("sip:bob@127.0.0.1"), device, lines) == 0  # bob is not on this port
    assert line_of(message("sip:door@127.0.0.1"), agent(), lines) == 0


def test_receiver_answers_200_and_publishes_or_415_for_non_text() -> None:
    published: list[MessageReceived] = []
    device = agent()
    receiver = MessageReceiver(published.append, lambda: [LineAddress(1, "alice", device)], "portier-A12")
    source = Endpoint("UDP", "127.0.0.1", 5070)
    incoming = IncomingRequest(message("sip:alice@127.0.0.1"), TxKey("z9hG4bK-1", "MESSAGE"), source, source)
    answer = receiver.handle(device, incoming)
    assert answer.status == 200 and answer.to().tag
    assert published == [MessageReceived(1, "sip:desk@127.0.0.1:5070", "open")]
    xml = IncomingRequest(message("sip:alice@h", b"<x/>", "application/xml"), None, source, source)
    refused = receiver.handle(device, xml)
    assert refused.status == 415 and refused.get("Accept") == "text/plain" and len(published) == 1


@pytest.mark.parametrize(
    ("target", "domain", "uri"),
    [
        ("8000", "pbx.example.org", "sip:8000@pbx.example.org"),
        ("8000", "127.0.0.1:5060", "sip:8000@127.0.0.1:5060"),
        ("desk@10.0.0.2", None, "sip:desk@10.0.0.2"),
        ("sip:desk@10.0.0.2:5070", "pbx", "sip:desk@10.0.0.2:5070"),
        ("10.0.0.2", None, "sip:10.0.0.2"),
        ("10.0.0.2:5070", None, "sip:10.0.0.2:5070"),
        ("[2001:db8::1]:5070", None, "sip:[2001:db8::1]:5070"),
    ],
)
def test_message_targets(target: str, domain: str | None, uri: str) -> None:
    assert message_uri(target, domain) == uri


def test_a_number_needs_a_line_and_a_broken_uri_is_named() -> None:
    with pytest.raises(ValueError, match="no line is in use"):
        message_uri("8000", None)
    with pytest.raises(ValueError, match="not a usable SIP address"):
        message_uri("sip:desk@bad host", "pbx")
