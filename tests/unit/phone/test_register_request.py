"""The REGISTER a line writes, parsed back by the same parser peers' messages go through."""

from __future__ import annotations

from dataclasses import replace

from portier.phone.addressing import contact, escape_user, name_addr, tel_uri, user_uri
from portier.phone.register_request import build_register, granted_expiry, line_contact, route_for
from portier.phone.registration import Purpose, SendRegister
from portier.phone.registration_config import Proxy, RegistrationConfig, Server
from portier.sip.auth import AuthAccount
from portier.sip.message import Header, SipResponse, parse
from portier.sip.via import Via

CONFIG = RegistrationConfig(
    line=1,
    user="door",
    account=AuthAccount("door", "pw"),
    servers=(Server("127.0.0.1", 5070, "UDP", 3600),),
    display_name="Front Door",
    user_agent="portier-A12 test",
)
VIA = Via("UDP", "127.0.0.1", 5060, (("branch", "z9hG4bKabc"), ("rport", None)))
ACTION = SendRegister(
    0, Purpose.REGISTER, 3600, "cid@x", "ftag", 7, (("Authorization", 'Digest username="door"'),)
)


def test_register_round_trips_through_the_parser() -> None:
    contact_value = line_contact(CONFIG, "127.0.0.1", 5060, "UDP")
    request = build_register(CONFIG, ACTION, via=VIA, contact_value=contact_value)
    parsed = parse(bytes(request))
    assert str(parsed.uri) == "sip:127.0.0.1:5070"
    assert parsed.get("To") == "Front Door <sip:door@127.0.0.1>"
    assert parsed.from_().tag == "ftag"
    assert parsed.get("CSeq") == "7 REGISTER" and parsed.get("Expires") == "3600"
    assert parsed.get("Contact") == "<sip:door@127.0.0.1:5060>"
    assert parsed.get("Authorization") == 'Digest username="door"'
    assert parsed.get("User-Agent") == "portier-A12 test"
    assert parsed.vias()[0].has_param("rport")


def test_clear_all_bindings_uses_contact_star() -> None:
    request = build_register(
        CONFIG, replace(ACTION, purpose=Purpose.CLEAR, expires=0), via=VIA, contact_value="x"
    )
    assert request.get("Contact") == "*" and request.get("Expires") == "0"


def test_options_of_the_line_shape_the_message() -> None:
    config = replace(
        CONFIG,
        quote_display_name=True,
        server_name="pbx.example",
        user_is_phone=True,
        user="1001",
        gruu=True,
        long_contact=True,
        mac="0011aabbccdd",
        proxies=(Proxy("127.0.0.9", 5090),),
    )
    contact_value = line_contact(config, "127.0.0.1", 5062, "TCP")
    request = build_register(config, ACTION, via=VIA, contact_value=contact_value, route=route_for(config, 0))
    parsed = parse(bytes(request))
    assert str(parsed.uri) == "sip:pbx.example"
    assert parsed.get("To") == '"Front Door" <sip:1001@pbx.example;user=phone>'
    assert parsed.get("Route") == "<sip:127.0.0.9:5090;lr>"
    assert parsed.get("X-MAC") == "0011aabbccdd"
    assert "gruu" in parsed.values("Supported")
    (bound,) = parsed.contacts()
    assert str(bound.uri) == "sip:1001@127.0.0.1:5062;transport=tcp"
    assert bound.param(
        "+sip.instance",
    ).startswith('"<urn:uuid:')  # type: ignore[union-attr]
    assert bound.has_param("audio") and "INVITE" in (bound.param("methods") or "")


def test_addressing_rules() -> None:
    assert escape_user("door+1 a", convert=True) == "door%2B1%20a"
    assert escape_user("door-1", convert=False) == "door-1"
    assert escape_user("door-1", convert=True) == "door%2D1"
    assert user_uri("alice", "::1", port=5060) == "sip:alice@[::1]:5060"
    assert user_uri("alice", "x", user_is_phone=True) == "sip:alice@x"  # not a number: no user=phone
    assert tel_uri("+49 30 1234") == "tel:+49301234"
    assert tel_uri("1001") == "tel:1001;phone-context=local"
    assert name_addr("sip:a@b", "Door") == "Door <sip:a@b>"
    assert name_addr("sip:a@b", 'Door "1"') == '"Door \\"1\\"" <sip:a@b>'
    assert contact("a", "10.0.0.1", 5061, "TLS") == "<sips:a@10.0.0.1:5061;transport=tls>"


def test_granted_expiry_picks_our_binding_among_several() -> None:
    ours = "<sip:door@127.0.0.1:5060>"
    response = SipResponse(
        status=200,
        headers=[
            Header("Contact", "<sip:door@10.9.9.9:5060>;expires=50, <sip:door@127.0.0.1:5060>;expires=1800"),
            Header("Expires", "3600"),
        ],
    )
    assert granted_expiry(response, ours) == 1800
    assert granted_expiry(SipResponse(status=200, headers=[Header("Expires", "60")]), ours) is None
