"""UAS request checks and response discarding beyond the RFC 4475 table."""

from __future__ import annotations

from portier.sip import SipRequest, SipResponse, UasPolicy, check_request, check_response, parse, parse_uri
from portier.sip.validate import DEFAULT_POLICY

REQ = (
    "{method} sip:door@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:door@example.com>\r\n"
    "From: <sip:alice@example.com>;tag=1\r\n"
    "Call-ID: c1@pc33\r\n"
    "CSeq: 1 {method}\r\n"
    "{extra}"
    "Content-Length: {length}\r\n\r\n{body}"
)


def req(method: str = "INVITE", extra: str = "", body: str = "") -> SipRequest:
    msg = parse(REQ.format(method=method, extra=extra, length=len(body), body=body).encode())
    assert isinstance(msg, SipRequest)
    return msg


def status(msg: SipRequest, policy: UasPolicy = DEFAULT_POLICY) -> int | None:
    rejection = check_request(msg, policy)
    return None if rejection is None else rejection.status


def test_plain_requests_pass() -> None:
    for method in ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "MESSAGE", "NOTIFY", "UPDATE"):
        assert status(req(method)) is None


def test_require_checks_option_tags_but_not_for_ack_and_cancel() -> None:
    assert status(req(extra="Require: 100rel, timer\r\n")) == 420
    assert status(req(extra="Require: timer\r\n"), UasPolicy(option_tags=frozenset({"timer"}))) is None
    assert status(req("ACK", extra="Require: 100rel\r\n")) is None
    rejection = check_request(
        req(extra="Require: timer, foo\r\n"), UasPolicy(option_tags=frozenset({"timer"}))
    )
    assert rejection is not None and rejection.headers == (("Unsupported", "foo"),)


def test_content_checks() -> None:
    assert status(req(extra="Content-Type: application/SDP; charset=x\r\n", body="v=0\r\n")) is None
    assert status(req(body="v=0\r\n")) == 400  # body without Content-Type
    assert status(req(extra="Content-Type: nonsense\r\n", body="x")) == 400
    gz = req(extra="Content-Type: application/sdp\r\nContent-Encoding: gzip\r\n", body="x")
    rejection = check_request(gz)
    assert rejection is not None and rejection.status == 415
    assert rejection.headers == (("Accept-Encoding", "identity"),)


def test_accept_on_invite() -> None:
    assert status(req(extra="Accept: application/*\r\n")) is None
    assert status(req(extra="Accept: text/plain\r\n")) == 406
    assert status(req("OPTIONS", extra="Accept: text/plain\r\n")) is None


def test_other_uri_schemes() -> None:
    msg = req()
    msg.uri = parse_uri("tel:+123")
    assert status(msg) == 416
    assert status(msg, UasPolicy(uri_schemes=frozenset({"sip", "tel"}))) is None


def test_check_response() -> None:
    ok = parse(
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nTo: <sip:a@b>;tag=2\r\n"
        b"From: <sip:c@d>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    assert isinstance(ok, SipResponse) and check_response(ok) is None
    ok.version = "SIP/3.0"
    assert check_response(ok) == "SIP/3.0 is not SIP/2.0"
    bare = parse(b"SIP/2.0 200 OK\r\n\r\n")
    assert isinstance(bare, SipResponse)
    assert check_response(bare) == "missing Via, To, From, Call-ID, CSeq"
