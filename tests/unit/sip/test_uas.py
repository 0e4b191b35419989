"""What the UAS core answers by itself: OPTIONS (§11.2), rejections (§8.2), stateless 400s (§8.2.6),
checked against every invalid RFC 4475 request with the statuses test_rfc4475 expects."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from portier.sip import SipParseError, SipRequest, SipResponse, check_request, parse
from portier.sip.uas import Capabilities, answer_options, reject, stateless_error, stateless_tag
from portier.sip.validate import Rejection

from ._vectors import load
from .test_fuzz import mutated
from .test_rfc4475 import CASES, Accept, Discard, Reject, Unparsable

OPTIONS = (
    "OPTIONS sip:door@192.0.2.10 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKopt1;rport\r\n"
    "Via: SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bKopt0\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:pbx@192.0.2.1>;tag=p1\r\n"
    "To: <sip:door@192.0.2.10>\r\n"
    "Call-ID: opt1@192.0.2.1\r\n"
    "CSeq: 7 OPTIONS\r\n"
    "{extra}"
    "Content-Length: 0\r\n\r\n"
)


def options(extra: str = "") -> SipRequest:
    msg = parse(OPTIONS.format(extra=extra).encode())
    assert isinstance(msg, SipRequest)
    return msg


def reparse(data: bytes | SipResponse) -> SipResponse:
    msg = parse(data if isinstance(data, bytes) else bytes(data))
    assert isinstance(msg, SipResponse)
    return msg


def test_options_answer_lists_capabilities() -> None:
    request = options()
    answer = reparse(answer_options(request, Capabilities(user_agent="Portier A12"), to_tag="d00r"))
    assert (answer.status, answer.reason) == (200, "OK")
    assert answer.get_all("Via") == request.get_all("Via")
    assert answer.to().tag == "d00r" and answer.from_().tag == "p1"
    assert answer.call_id() == "opt1@192.0.2.1" and str(answer.cseq()) == "7 OPTIONS"
    assert answer.values("Allow") == [
        "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "MESSAGE", "NOTIFY", "REFER", "UPDATE", "PRACK",
    ]  # fmt: skip
    assert answer.values("Accept") == [
        "application/sdp",
        "application/dtmf-relay",
        "message/sipfrag",
        "text/plain",
    ]
    assert answer.get("Accept-Encoding") == "identity"
    assert answer.get("Accept-Language") == "en"
    assert answer.values("Supported") == ["replaces", "timer", "100rel"]
    assert answer.get("Server") == "Portier A12"
    assert answer.get("Content-Length") == "0" and answer.body == b""


def test_options_answer_carries_sdp_only_when_accepted() -> None:
    sdp = b"v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    with_sdp = reparse(
        answer_options(options(), Capabilities(), to_tag="t", sdp=sdp, contact="<sip:door@192.0.2.10>")
    )
    assert with_sdp.get("Content-Type") == "application/sdp" and with_sdp.body == sdp
    assert with_sdp.get("Contact") == "<sip:door@192.0.2.10>"
    assert with_sdp.get("Server") is None
    text_only = reparse(
        answer_options(options("Accept: text/plain\r\n"), Capabilities(), to_tag="t", sdp=sdp)
    )
    assert text_only.get("Content-Type") is None and text_only.body == b""


def test_reject_copies_the_rejection_headers() -> None:
    request = options("Require: foo\r\n")
    rejection = check_request(request)
    assert rejection is not None
    answer = reparse(reject(request, rejection, to_tag="x1"))
    assert (answer.status, answer.reason) == (420, "Bad Extension")
    assert answer.get("Unsupported") == "foo"
    assert answer.to().tag == "x1" and len(answer.vias()) == 2


def test_reject_keeps_an_existing_to_tag_and_derives_a_stateless_one() -> None:
    in_dialog = options().to().tag
    assert in_dialog is None
    tagged = parse(
        OPTIONS.format(extra="").replace("<sip:door@192.0.2.10>", "<sip:door@192.0.2.10>;tag=old").encode()
    )
    assert isinstance(tagged, SipRequest)
    gone = Rejection(481, "Call/Transaction Does Not Exist")
    assert reparse(reject(tagged, gone, to_tag="new")).to().tag == "old"
    first = reparse(reject(options(), gone, to_tag=None))
    again = reparse(reject(options(), gone, to_tag=None))
    assert first.to().tag == again.to().tag == stateless_tag(options())
    allow = Rejection(405, "Method Not Allowed", (("Allow", "INVITE, ACK"),))
    assert reparse(reject(options(), allow, to_tag="t", server="Portier")).get("Allow") == "INVITE, ACK"


# --- RFC 4475: every invalid request gets the answer test_rfc4475 expects -------------------------

ANSWERED = sorted(name for name, (_, expected) in CASES.items() if isinstance(expected, Reject | Unparsable))


def answer(data: bytes, expected: Reject | Unparsable) -> bytes | None:
    """The path the agent takes: parse error -> stateless_error, else check_request -> reject."""
    try:
        msg = parse(data)
    except SipParseError as exc:
        return stateless_error(data, exc)
    assert isinstance(msg, SipRequest)
    rejection = check_request(msg, expected.policy) if isinstance(expected, Reject) else None
    assert rejection is not None
    return bytes(reject(msg, rejection, to_tag="t0"))


@pytest.mark.parametrize("name", ANSWERED)
def test_rfc4475_invalid_requests_are_answered(name: str) -> None:
    section, expected = CASES[name]
    assert not isinstance(expected, Accept | Discard)
    data = load(name)
    out = answer(data, expected)
    if expected.status is None:  # a response: never answered
        assert out is None, f"§{section} {name}"
        return
    assert out is not None, f"§{section} {name}: no answer"
    response = reparse(out)
    assert response.status == expected.status, f"§{section} {name}"
    assert response.vias(), f"§{section} {name}: the answer has no Via"
    if response.get("To") is not None:  # "insuf" (§3.3.1) has none to copy
        assert response.to().tag, f"§{section} {name}: the answer has no To tag"


def parse_error(data: bytes) -> SipParseError:
    with pytest.raises(SipParseError) as info:
        parse(data)
    return info.value


def salvaged(name: str) -> SipResponse:
    data = load(name)
    out = stateless_error(data, parse_error(data))
    assert out is not None
    return reparse(out)


def test_stateless_answers_copy_what_the_peer_matches_on() -> None:
    quotbal = salvaged("quotbal")
    assert (quotbal.status, quotbal.reason) == (400, "Bad Request")
    assert [str(v) for v in quotbal.vias()] == ["SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234"]
    assert quotbal.call_id() == "quotbal.aksdj" and str(quotbal.cseq()) == "8 INVITE"
    assert str(quotbal.to().uri) == "sip:j.user@example.com"  # cut out of the unbalanced quote
    assert quotbal.from_().tag == "93334"
    warning = quotbal.get("Warning")
    assert warning is not None and warning.startswith('399 portier "')


def test_broken_via_is_cut_down_to_its_sent_by() -> None:
    answer = salvaged("badinv01")  # Via: SIP/2.0/UDP 192.0.2.15;;,;,,
    assert [str(v) for v in answer.vias()] == ["SIP/2.0/UDP 192.0.2.15"]
    assert str(answer.cseq()) == "8 INVITE"


def test_unsalvageable_values_are_left_out() -> None:
    answer = salvaged("scalar02")  # CSeq 36893488147419103232 does not fit 32 bits
    assert answer.get("CSeq") is None
    assert answer.call_id() == "scalar02.23o0pd9vanlq3wnrlnewofjas9ui32"
    baddn = salvaged("baddn")  # unquoted display names with commas
    assert baddn.from_().tag == "43" and str(baddn.from_().uri) == "sip:a.g.bell@example.com"
    assert str(baddn.to().uri) == "sip:t.watson@example.org"


def test_an_unusable_top_via_is_not_replaced_by_the_next_one() -> None:
    data, _ = broken(b"INVITE")
    data = data.replace(b"Via: SIP", b"Via: \x01SIP", 1)
    data = data.replace(b"From:", b"Via: SIP/2.0/UDP 192.0.2.2\r\nFrom:")
    assert stateless_error(data, SipParseError("broken")) is None


def test_stateless_error_is_deterministic() -> None:
    data = load("ltgtruri")
    error = parse_error(data)
    assert stateless_error(data, error) == stateless_error(data, error)
    out = stateless_error(data, error, to_tag="chosen")
    assert out is not None and reparse(out).to().tag == "chosen"


BROKEN = (
    b"{method} sip:a@b SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
    b"From: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 {method}\r\n"
    b"Max-Forwards: 70\r\nContact: <sip:c@192.0.2.1\r\n\r\n"
)


def broken(method: bytes) -> tuple[bytes, SipParseError]:
    data = BROKEN.replace(b"{method}", method)
    return data, parse_error(data)


def test_what_is_never_answered() -> None:
    assert stateless_error(*broken(b"ACK")) is None
    data, error = broken(b"INVITE")
    assert stateless_error(data, error) is not None
    no_via = data.replace(b"Via:", b"Xia:")
    assert stateless_error(no_via, SipParseError(error.message)) is None  # nowhere to send it
    assert stateless_error(data, error.with_status(None)) is None
    response = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: x\r\n\r\n"
    assert stateless_error(response, SipParseError("bad CSeq")) is None
    assert stateless_error(b"\x00\x01\x02 junk\r\n\r\n", SipParseError("junk")) is None


def test_answer_from_the_headers_the_framer_kept() -> None:
    _, error = broken(b"OPTIONS")
    assert error.headers  # parse reads the header lines before it fails on Contact
    out = stateless_error(b"", error)
    assert out is not None
    answer = reparse(out)
    assert str(answer.cseq()) == "1 OPTIONS" and answer.vias()[0].branch == "z9hG4bK1"


def test_other_statuses_keep_their_reason() -> None:
    data, error = broken(b"MESSAGE")
    out = stateless_error(data, error.with_status(513))
    assert out is not None and (reparse(out).status, reparse(out).reason) == (513, "Message Too Large")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_stateless_error_never_emits_what_it_cannot_parse(data: bytes) -> None:
    try:
        parse(data)
    except SipParseError as exc:
        out = stateless_error(data, exc)
        if out is not None:
            response = reparse(out)
            assert response.status == exc.status
            assert response.vias()
