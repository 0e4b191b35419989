"""What each valid RFC 4475 message must mean once parsed, beyond "it parses"."""

from __future__ import annotations

import pytest

from portier.sip import (
    KeepAlive,
    OpaqueUri,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    StreamFramer,
    UasPolicy,
    check_request,
    parse,
)
from portier.sip.headers import parse_date
from portier.sip.uri import unescape

from ._vectors import load


def request(name: str) -> SipRequest:
    msg = parse(load(name))
    assert isinstance(msg, SipRequest)
    return msg


def test_wsinv_whitespace_everywhere() -> None:
    msg = request("wsinv")
    assert msg.to().tag == "1918181833n"
    assert msg.from_().display_name == 'J Rosenberg \\"'
    assert msg.from_().tag == "98asjd8"
    assert msg.get("Max-Forwards") == "0068"
    assert (msg.cseq().seq, msg.cseq().method) == (9, "INVITE")
    vias = msg.vias()
    assert [(v.transport, v.host, v.branch) for v in vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert msg.get("Subject") == ""
    assert msg.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert msg.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    (contact,) = msg.contacts()
    assert contact.display_name == 'Quoted string ""'
    assert contact.params == (("newparam", "newvalue"), ("secondparam", None), ("q", "0.33"))
    (route,) = msg.route()
    assert isinstance(route.uri, SipUri) and route.uri.has_param("lr")
    assert len(msg.body) == 150


def test_intmeth_unusual_characters() -> None:
    msg = request("intmeth")
    assert msg.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert isinstance(msg.uri, SipUri)
    assert msg.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert msg.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert msg.to().display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert msg.from_().display_name == "token1~` token2'+_ token3*%!.-"
    assert msg.from_().tag == "_token~1'+`*%!-."
    assert msg.call_id() == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    rejection = check_request(msg)
    assert rejection is not None and "INVITE" in dict(rejection.headers)["Allow"]


def test_esc01_escapes_compare_unescaped() -> None:
    msg = request("esc01")
    assert isinstance(msg.uri, SipUri) and msg.uri.user is not None
    assert unescape(msg.uri.user) == "sips:user@example.com"
    assert msg.to().uri == SipUri.parse("sip:user@example.com")
    (contact,) = msg.contacts()
    assert contact.uri == SipUri.parse("sip:caller@host5.example.net;lr;name=value%2541")
    assert isinstance(contact.uri, SipUri) and contact.uri.param("name") == "value%41"


def test_escnull_keeps_escaped_nuls() -> None:
    msg = request("escnull")
    first, second = msg.contacts()
    assert first.uri != second.uri
    to_uri = msg.to().uri
    assert isinstance(to_uri, SipUri)
    assert unescape(to_uri.user or "") == "null-\x00-null"


def test_esc02_escaped_header_name_is_an_extension() -> None:
    msg = request("esc02")
    assert msg.method == "RE%47IST%45R"
    assert len(msg.contacts()) == 2
    assert msg.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    assert msg.to().display_name == "%Z%45"


def test_lwsdisp_display_name_without_space() -> None:
    assert request("lwsdisp").from_().display_name == "caller"


def test_longreq_long_values() -> None:
    msg = request("longreq")
    assert len(msg.vias()) == 34
    assert "extremeextreme" in (msg.to().display_name or "")


def test_dblreq_ignores_trailing_octets() -> None:
    msg = request("dblreq")
    assert msg.method == "REGISTER" and msg.body == b""


def test_semiuri_user_part_with_semicolon() -> None:
    uri = request("semiuri").uri
    assert isinstance(uri, SipUri)
    assert (uri.user, uri.host, uri.params) == ("user;par=u%40example.net", "example.com", ())


def test_transports_unknown_transport_kept() -> None:
    assert [v.transport for v in request("transports").vias()] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def test_mpart01_binary_body_intact() -> None:
    data = load("mpart01")
    msg = request("mpart01")
    assert msg.body == data[-553:] and b"\x00" in msg.body


def test_unreason_and_noreason() -> None:
    unreason = parse(load("unreason"))
    assert isinstance(unreason, SipResponse) and unreason.status == 200
    assert unreason.reason.startswith("= 2**3 * 5**2 но") and unreason.reason.endswith("простое")
    noreason = parse(load("noreason"))
    assert isinstance(noreason, SipResponse) and (noreason.status, noreason.reason) == (100, "")


def test_baddate_is_ignored_but_not_trusted() -> None:
    msg = request("baddate")
    with pytest.raises(SipParseError, match="GMT"):
        parse_date(msg.get("Date") or "")


def test_zeromf_only_matters_when_forwarding() -> None:
    msg = request("zeromf")
    assert check_request(msg, UasPolicy(forwarding=True)) is None  # OPTIONS may be answered
    invite = request("zeromf")
    invite.method = "INVITE"
    invite.headers = [h if h.name != "CSeq" else type(h)("CSeq", "39234321 INVITE") for h in invite.headers]
    assert check_request(invite) is None
    rejection = check_request(invite, UasPolicy(forwarding=True))
    assert rejection is not None and rejection.status == 483


def test_contact_params_versus_uri_params() -> None:
    (c1,) = request("cparam01").contacts()
    assert isinstance(c1.uri, SipUri) and c1.uri.params == () and c1.has_param("unknownparam")
    (c2,) = request("cparam02").contacts()
    assert isinstance(c2.uri, SipUri) and c2.uri.has_param("unknownparam") and c2.params == ()
    (c3,) = request("regescrt").contacts()
    assert isinstance(c3.uri, SipUri) and c3.uri.headers == (("Route", "%3Csip:sip.example.com%3E"),)


def test_unknown_schemes_in_headers_stay_opaque() -> None:
    msg = request("unksm2")
    assert msg.to().uri == OpaqueUri("isbn", "2983792873")
    assert msg.from_().uri == OpaqueUri("http", "//www.example.com")
    assert [str(c.uri) for c in msg.contacts()] == ["name:John_Smith"]


def test_rejections_carry_the_right_headers() -> None:
    bext = check_request(request("bext01"))
    assert bext is not None
    assert dict(bext.headers) == {"Unsupported": "nothingSupportsThis, nothingSupportsThisEither"}
    invut = check_request(request("invut"))
    assert invut is not None and "application/sdp" in dict(invut.headers)["Accept"]
    sdp = check_request(request("sdp01"))
    assert sdp is not None and dict(sdp.headers)["Warning"].startswith("399 portier ")
    insuf = check_request(request("insuf"))
    assert insuf is not None and insuf.detail == "missing To, From, Call-ID, Max-Forwards"


def test_inv2543_body_runs_to_end_of_datagram() -> None:
    msg = request("inv2543")
    assert len(msg.body) == 105 and msg.vias()[0].branch is None and msg.from_().tag is None


def test_stream_clerr_waits_for_more_data() -> None:
    framer = StreamFramer()
    assert framer.feed(load("clerr")) == []
    assert framer.pending == len(load("clerr"))


@pytest.mark.parametrize("name", ["ncl", "mcl01"])
def test_stream_bad_content_length_loses_framing(name: str) -> None:
    with pytest.raises(SipParseError) as info:
        StreamFramer().feed(load(name))
    assert info.value.status == 400


def test_stream_frames_back_to_back_messages_and_keepalives() -> None:
    a, b = load("esc01"), load("mpart01")
    framer = StreamFramer()
    stream = b"\r\n\r\n" + a + b + b"\r\n"
    out = [item for i in range(0, len(stream), 7) for item in framer.feed(stream[i : i + 7])]
    assert out[0] == KeepAlive("ping")
    assert [type(x).__name__ for x in out[1:]] == ["SipRequest", "SipRequest", "KeepAlive"]
    assert out[3] == KeepAlive("pong") and framer.pending == 0
