"""The CANCEL of an INVITE (RFC 3261 §9.1): the INVITE's identity with CSeq method CANCEL and no body."""

from __future__ import annotations

import pytest

from portier.sip import parse
from portier.sip.cancel import build_cancel
from portier.sip.message import SipRequest
from portier.sip.transaction import TransactionLayer
from portier.sip.validate import UasPolicy, check_request

INVITE = (
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 69\r\n"
    "Route: <sip:p1.example.com;lr>\r\n"
    "Route: <sip:p2.example.com;lr>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n\r\nv=0\n"
)


def invite() -> SipRequest:
    request = parse(INVITE.encode())
    assert isinstance(request, SipRequest)
    return request


def test_cancel_copies_what_identifies_the_invite() -> None:
    cancel = parse(bytes(build_cancel(invite())))
    assert isinstance(cancel, SipRequest)
    original = invite()
    assert cancel.method == "CANCEL" and cancel.uri == original.uri
    for name in ("Via", "From", "To", "Call-ID", "Max-Forwards"):
        assert cancel.get_all(name) == original.get_all(name), name
    assert cancel.get_all("Route") == original.get_all("Route")
    assert cancel.get("CSeq") == "314159 CANCEL"
    assert cancel.body == b"" and cancel.get("Content-Type") is None
    assert check_request(cancel, UasPolicy()) is None


def test_the_uas_finds_the_invite_the_cancel_names() -> None:
    layer = TransactionLayer()
    layer.receive(invite(), 0.0)
    target = layer.cancel_target(build_cancel(invite()))
    assert target is not None and target.request.cseq().method == "INVITE"


def test_only_an_invite_is_cancelled() -> None:
    bye = parse(INVITE.replace("INVITE", "BYE").encode())
    assert isinstance(bye, SipRequest)
    with pytest.raises(ValueError, match="only an INVITE"):
        build_cancel(bye)
