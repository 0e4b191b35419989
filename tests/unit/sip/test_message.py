"""Datagram parsing and serialisation details not covered by the RFC 4475 vectors."""

from __future__ import annotations

import pytest

from portier.sip import Header, SipParseError, SipRequest, SipResponse, SipUri, parse

BASE = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@example.com>\r\n"
    b"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 5\r\n"
    b"\r\n"
    b"hello"
)


def test_serialize_normalises_names_and_folding_keeps_order() -> None:
    data = BASE.replace(
        b"Max-Forwards: 70", b"v: SIP/2.0/TCP second\r\n  ;branch=z9hG4bKx\r\nmax-forwards:70"
    )
    msg = parse(data)
    assert [h.name for h in msg.headers][:3] == ["Via", "Via", "Max-Forwards"]
    assert msg.headers[1] == Header("Via", "SIP/2.0/TCP second ;branch=z9hG4bKx")
    out = bytes(msg)
    assert b"Via: SIP/2.0/TCP second ;branch=z9hG4bKx\r\nMax-Forwards: 70\r\n" in out
    assert out.endswith(b"\r\n\r\nhello")


def test_udp_body_longer_than_content_length_is_truncated() -> None:
    msg = parse(BASE + b" world")
    assert msg.body == b"hello"


def test_content_length_shorter_body_is_400_with_readable_headers() -> None:
    with pytest.raises(SipParseError) as info:
        parse(BASE[:-2])
    assert info.value.status == 400
    assert info.value.message == "Content-Length 5 exceeds the 3 body octets received"
    assert ("Call-ID", "a84b4c76e66710@pc33.example.com") in info.value.headers


def test_serialize_fixes_content_length_to_the_body() -> None:
    msg = parse(BASE)
    msg.body = b"hi"
    assert bytes(msg).endswith(b"Content-Length: 2\r\n\r\nhi")


def test_response_start_lines() -> None:
    resp = parse(b"SIP/2.0 180 Ringing\r\nContent-Length: 0\r\n\r\n")
    assert isinstance(resp, SipResponse) and (resp.status, resp.reason) == (180, "Ringing")
    bare = parse(b"SIP/2.0 200\r\n\r\n")
    assert isinstance(bare, SipResponse) and bare.reason == ""
    for line, fragment in [
        (b"SIP/2.0 99 Low", "3 digits"),
        (b"SIP/2.0 700 High", "100-699"),
        (b"SIP/2 200 OK", "SIP-Version"),
    ]:
        with pytest.raises(SipParseError, match=fragment) as info:
            parse(line + b"\r\n\r\n")
        assert info.value.status is None


def test_leading_crlf_and_bare_lf_are_tolerated() -> None:
    msg = parse(b"\r\n\r\n" + BASE.replace(b"\r\n", b"\n"))
    assert isinstance(msg, SipRequest) and isinstance(msg.uri, SipUri) and msg.body == b"hello"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty message"),
        (b"INVITE sip:a@b SIP/2.0\r\nTo: sip:a@b", "no empty line"),
        (b"INVITE sip:a@b SIP/2.0\r\n Folded: x\r\n\r\n", "continuation line before any header"),
        (b"INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n", "expected 'Name: value'"),
        (b"INVITE sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n", "expected 'Name: value'"),
        (b"INVITE sip:a@b SIP/2.0\r\nX: a\rb\r\n\r\n", "bare CR"),
        (b"INV@TE sip:a@b SIP/2.0\r\n\r\n", "not a token"),
        (b"INVITE sip:a@b HTTP/1.1\r\n\r\n", "SIP-Version"),
        (b"INVITE sip:a@b SIP/2.0\r\nCall-ID: a b\r\n\r\n", "Call-ID"),
        (b"INVITE sip:a@b SIP/2.0\r\nMax-Forwards: 256\r\n\r\n", "Max-Forwards"),
        (b"INVITE sip:a\x00@b SIP/2.0\r\n\r\n", "control character"),
    ],
)
def test_request_errors(data: bytes, fragment: str) -> None:
    with pytest.raises(SipParseError, match=fragment) as info:
        parse(data)
    assert info.value.status == (None if data == b"" else 400)


def test_accessors() -> None:
    msg = parse(BASE.replace(b"CSeq", b"Allow: INVITE, ACK\r\nAllow: BYE\r\nCSeq"))
    assert msg.values("allow") == ["INVITE", "ACK", "BYE"]
    assert msg.get("CALL-ID") == msg.call_id() == "a84b4c76e66710@pc33.example.com"
    assert msg.get("Missing") is None
    with pytest.raises(SipParseError, match="missing Route"):
        msg._one("Route")


def test_built_message_serializes() -> None:
    req = SipRequest(
        method="OPTIONS",
        uri=SipUri("example.com", user="door"),
        headers=[Header("Call-ID", "x@y"), Header("Content-Length", "99")],
    )
    assert bytes(req) == b"OPTIONS sip:door@example.com SIP/2.0\r\nCall-ID: x@y\r\nContent-Length: 0\r\n\r\n"
    req.headers.append(Header("X-Evil", "a\r\nInjected: 1"))
    with pytest.raises(ValueError, match="CR or LF"):
        bytes(req)
