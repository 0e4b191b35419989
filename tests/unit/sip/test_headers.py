"""Header grammar: names, lists, Via, name-addr, CSeq and the scalar headers."""

from __future__ import annotations

import pytest

from portier.sip import CSeq, SipParseError, SipUri
from portier.sip.headers import (
    canonical_name,
    parse_content_length,
    parse_date,
    parse_max_forwards,
    quote,
    split_values,
)
from portier.sip.nameaddr import parse_name_addr, parse_name_addr_list
from portier.sip.via import parse_via, parse_via_list


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("i", "Call-ID"), ("m", "Contact"), ("E", "Content-Encoding"), ("l", "Content-Length"),
     ("f", "From"), ("s", "Subject"), ("k", "Supported"), ("t", "To"), ("v", "Via"),
     ("c", "Content-Type"), ("o", "Event"), ("u", "Allow-Events"), ("r", "Refer-To"),
     ("b", "Referred-By"), ("x", "Session-Expires"), ("y", "Identity"), ("a", "Accept-Contact"),
     ("j", "Reject-Contact"), ("d", "Request-Disposition"), ("cseq", "CSeq"),
     ("MaX-fOrWaRdS", "Max-Forwards"), ("www-authenticate", "WWW-Authenticate"),
     ("X-Custom", "X-Custom")],
)  # fmt: skip
def test_canonical_names(raw: str, canonical: str) -> None:
    assert canonical_name(raw) == canonical


def test_split_respects_quotes_and_angles() -> None:
    value = '"Doe, John" <sip:a@b;x=1,2>;q=0.5, <sip:c@d>, "say \\"hi, there\\"" <sip:e@f>'
    assert split_values(value) == [
        '"Doe, John" <sip:a@b;x=1,2>;q=0.5',
        "<sip:c@d>",
        '"say \\"hi, there\\"" <sip:e@f>',
    ]
    with pytest.raises(SipParseError, match="unterminated"):
        split_values('"open, <sip:a@b>')


def test_via_fields() -> None:
    via = parse_via(
        "SIP / 2.0 / udp [2001:db8::1] : 5062 ; branch = z9hG4bK77 ; rport=5070;received=192.0.2.9"
    )
    assert (via.transport, via.host, via.port, via.branch) == ("UDP", "[2001:db8::1]", 5062, "z9hG4bK77")
    assert (via.rport, via.received) == (5070, "192.0.2.9")
    assert str(via) == "SIP/2.0/UDP [2001:db8::1]:5062;branch=z9hG4bK77;rport=5070;received=192.0.2.9"
    bare = parse_via("SIP/2.0/TCP host;rport")
    assert bare.has_param("rport") and bare.rport is None
    assert len(parse_via_list("SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b;branch=2")) == 2


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("SIP/2.0 host", "expected '/'"),
        ("SIP/2.0/UDP", "missing sent-by"),
        ("SIP/2.0/UDP host:70000", "port must be"),
        ("SIP/2.0/UDP host;branch=", "has '=' but no value"),
        ("SIP/2.0/UDP host junk", "unexpected"),
    ],
)
def test_via_errors(value: str, fragment: str) -> None:
    with pytest.raises(SipParseError, match=fragment):
        parse_via(value)


def test_name_addr_forms() -> None:
    a = parse_name_addr('"A \\"B\\"" <sip:a@b;lr>;tag=x;q="0.5"')
    assert (a.display_name, a.tag, a.param("q")) == ('A "B"', "x", '"0.5"')
    assert isinstance(a.uri, SipUri) and a.uri.has_param("lr")
    assert str(a) == '"A \\"B\\"" <sip:a@b;lr>;tag=x;q="0.5"'
    b = parse_name_addr("sip:a@b;tag=1")  # addr-spec: the ;tag belongs to the header
    assert isinstance(b.uri, SipUri) and b.uri.params == () and b.tag == "1"
    c = parse_name_addr("Alice  Smith<sip:a@b>")
    assert c.display_name == "Alice Smith"
    assert quote('a\x00"\\') == '"a\\\x00\\"\\\\"'
    assert parse_name_addr_list("*") == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ('"unterminated <sip:a@b>', "unterminated"),
        ("Bell, Alexander <sip:a@b>", "contains ','"),
        ("< sip:a@b >", "whitespace inside <>"),
        ("sip:a@b?Route=x", "must be enclosed in <>"),
        ("<sip:a@b", "without '>'"),
        ('"x" sip:a@b', "followed by '<uri>'"),
        ("<sip:a@b>;;", "empty parameter"),
        ("<sip:a@b> junk", "unexpected"),
    ],
)
def test_name_addr_errors(value: str, fragment: str) -> None:
    with pytest.raises(SipParseError, match=fragment):
        parse_name_addr(value)


def test_scalars() -> None:
    assert CSeq.parse(" 0009   INVITE ") == CSeq(9, "INVITE")
    assert parse_max_forwards("70") == 70 and parse_content_length("000") == 0
    for bad, fragment in [
        ("4294967296 INVITE", "exceeds"),
        ("1", "number method"),
        ("x INVITE", "non-negative"),
    ]:
        with pytest.raises(SipParseError, match=fragment):
            CSeq.parse(bad)
    with pytest.raises(SipParseError, match="Max-Forwards 256 exceeds the maximum 255"):
        parse_max_forwards("256")
    with pytest.raises(SipParseError, match="non-negative decimal integer, got '-1'"):
        parse_content_length("-1")
    with pytest.raises(SipParseError, match="exceeds"):
        parse_content_length("9" * 5000)  # no int() on absurdly long digit strings


def test_date() -> None:
    assert parse_date("Sat, 13 Nov 2010 23:29:00 GMT").year == 2010
    with pytest.raises(SipParseError, match="not a real time"):
        parse_date("Sat, 31 Feb 2010 23:29:00 GMT")
