"""SIP URI parsing, serialisation and RFC 3261 §19.1.4 comparison."""

from __future__ import annotations

import pytest

from portier.sip import OpaqueUri, SipParseError, SipUri, parse_uri


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@atlanta.com",
        "sip:alice:secretword@atlanta.com;transport=tcp",
        "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:+1-212-555-1212:1234@gateway.com;user=phone",
        "sips:1212@gateway.com",
        "sip:alice@192.0.2.4",
        "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
        "sip:alice;day=tuesday@atlanta.com",
        "sip:[2001:db8::10]:5070;lr",
        "sip:host.example.com.",
    ],
)
def test_rfc3261_examples_round_trip(text: str) -> None:
    uri = SipUri.parse(text)
    assert str(uri) == text
    assert SipUri.parse(str(uri)) == uri


def test_components() -> None:
    uri = SipUri.parse("SIPS:bob:pw@[::1]:5061;transport=tls;lr?Subject=hi")
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == ("sips", "bob", "pw", "[::1]", 5061)
    assert uri.param("Transport") == "tls" and uri.has_param("lr") and uri.param("lr") is None
    assert uri.headers == (("Subject", "hi"),)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
        ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"),
        ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
         "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
        ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
         "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
    ],
)  # fmt: skip
def test_equivalent(a: str, b: str) -> None:
    assert SipUri.parse(a) == SipUri.parse(b)
    assert hash(SipUri.parse(a)) == hash(SipUri.parse(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp;user=phone"),
        ("sip:bob@biloxi.com", "sips:bob@biloxi.com"),
        ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
        ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
        ("sip:a%40b@host", "sip:a@b@host"),
    ],
)
def test_not_equivalent(a: str, b: str) -> None:
    try:
        assert SipUri.parse(a) != SipUri.parse(b)
    except SipParseError:
        assert a == "sip:a%40b@host"  # 'a@b@host' is not even a URI


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sip:user@", "missing host"),
        ("sip:@host", "empty user"),
        ("sip:us er@host", "invalid character ' '"),
        ("sip:user@host:99999", "port must be 0-65535"),
        ("sip:user@256.1.1.1", "invalid IPv4"),
        ("sip:user@[::g]", "invalid IPv6"),
        ("sip:user@[::1", "without ']'"),
        ("sip:host;;lr", "empty URI parameter"),
        ("sip:host?x", "must be 'name=value'"),
        ("sip:u%4@host", "two hex digits"),
        ("sip:user@ho_st!", "invalid host"),
    ],
)
def test_errors_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(SipParseError, match=fragment.replace("(", r"\(").replace("[", r"\[")):
        SipUri.parse(text)


def test_opaque_uris() -> None:
    assert parse_uri("tel:+1-201-555-0123;phone-context=x") == OpaqueUri(
        "tel", "+1-201-555-0123;phone-context=x"
    )
    assert str(parse_uri("soap.beep://192.0.2.103:3002")) == "soap.beep://192.0.2.103:3002"
    for bad in ("nocolon", "1abc:x", "x:", "x:a b"):
        with pytest.raises(SipParseError):
            parse_uri(bad)
