"""Action URL variables: every one of them, percent-encoded, and which URLs are requested at all."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from portier.services.action_url import account_for, line_account
from portier.services.action_url_events import CallContext
from portier.services.action_url_vars import (
    VARIABLES,
    Account,
    DeviceInfo,
    check_url,
    expand,
    redact,
    remote_display,
    remote_user,
    variables,
)
from portier.settings.document import find, with_values
from portier.settings.schema import Settings

DEVICE = DeviceInfo("0c383e0a0b0c", "192.0.2.7", "portier-A12", "0.1.0")
ACCOUNT = Account("sip:door@pbx.example:5060", "door", "pbx.example", "Tür & Tor")
CALL = CallContext("a84b4c76e66710@pc33", 1, "incoming", "sip:102@pbx.example")
EVERY = "http://srv/e?" + "&".join(f"{name}=${name}" for name in VARIABLES)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def test_every_variable_of_a_call() -> None:
    url = expand(EVERY, variables(DEVICE, ACCOUNT, CALL))
    assert query(url) == {
        "mac": "0c383e0a0b0c",
        "ip": "192.0.2.7",
        "model": "portier-A12",
        "firmware": "0.1.0",
        "active_url": "sip:door@pbx.example:5060",
        "active_user": "door",
        "active_host": "pbx.example",
        "local": "sip:door@pbx.example:5060",
        "remote": "sip:102@pbx.example",
        "display_local": "Tür & Tor",
        "display_remote": "102",
        "call_id": "a84b4c76e66710@pc33",
    }


def test_values_are_percent_encoded() -> None:
    url = expand(EVERY, variables(DEVICE, ACCOUNT, CALL))
    assert "display_local=T%C3%BCr%20%26%20Tor&" in url
    assert "active_url=sip%3Adoor%40pbx.example%3A5060&" in url
    assert "call_id=a84b4c76e66710%40pc33" in url


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("a b", "a%20b"),
        ("a&b=c", "a%26b%3Dc"),
        ("100%", "100%25"),
        ("x/y?z#w", "x%2Fy%3Fz%23w"),
        ("+49 (0)30", "%2B49%20%280%2930"),
        ('"q"', "%22q%22"),
        ("$mac", "%24mac"),  # a value is never expanded again
        ("日本", "%E6%97%A5%E6%9C%AC"),
        ("\r\n", "%0D%0A"),
        ("-_.~", "-_.~"),
        ("", ""),
    ],
)
def test_odd_values(value: str, encoded: str) -> None:
    assert expand("http://s/?v=$remote", {"remote": value}) == f"http://s/?v={encoded}"


def test_variables_in_the_path_and_next_to_text() -> None:
    values = variables(DEVICE, ACCOUNT, CALL)
    assert expand("http://s/$mac.xml", values) == "http://s/0c383e0a0b0c.xml"
    assert expand("http://s/?x=$mac$ip", values) == "http://s/?x=0c383e0a0b0c192.0.2.7"


def test_longest_name_wins_and_unknown_names_stay() -> None:
    values = variables(DEVICE, ACCOUNT, CALL)
    assert expand("$display_local|$local", values) == "T%C3%BCr%20%26%20Tor|sip%3Adoor%40pbx.example%3A5060"
    assert expand("http://s/?a=$unknown&b=$", values) == "http://s/?a=$unknown&b=$"
    assert expand("http://s/?price=5$", {}) == "http://s/?price=5$"


def test_without_a_call_the_call_variables_are_empty() -> None:
    values = variables(DEVICE, ACCOUNT, None)
    assert values["local"] == "sip:door@pbx.example:5060"
    assert values["remote"] == values["display_remote"] == values["call_id"] == ""


def test_without_an_account() -> None:
    values = variables(DEVICE, None, None)
    account_names = ("active_url", "active_user", "active_host", "local", "display_local")
    assert [values[n] for n in account_names] == [""] * 5
    direct = variables(DEVICE, None, CallContext("c", 0, "incoming", "sip:10.0.0.9"))
    assert direct["local"] == "sip:192.0.2.7"
    assert direct["remote"] == "sip:10.0.0.9"
    assert direct["display_remote"] == ""


def test_display_remote_is_the_name_the_caller_gave_else_its_user() -> None:
    named = CallContext("c", 1, "incoming", "sip:102@pbx.example", "Tür & Tor")
    assert variables(DEVICE, ACCOUNT, named)["display_remote"] == "Tür & Tor"
    assert expand("?n=$display_remote", variables(DEVICE, ACCOUNT, named)) == "?n=T%C3%BCr%20%26%20Tor"
    assert remote_display(named) == "Tür & Tor"
    assert remote_display(CALL) == "102"


@pytest.mark.parametrize(
    ("uri", "user"),
    [
        ("sip:102@pbx", "102"),
        ("sips:alice@example.com:5061;transport=tls", "alice"),
        ("sip:%2B4930@pbx", "%2B4930"),
        ("sip:10.0.0.9:5060", ""),
        ("tel:+4930123;phone-context=x", "+4930123"),
        ("", ""),
    ],
)
def test_remote_user(uri: str, user: str) -> None:
    assert remote_user(uri) == user


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://192.0.2.1/x?a=1", None),
        ("HTTPS://srv.example:8443/x", None),
        ("ftp://srv/x", "only http and https URLs are requested, not ftp:"),
        ("javascript:alert(1)", "only http and https URLs are requested, not javascript:"),
        ("srv/x", "only http and https URLs are requested, not no scheme"),
        ("http:///x", "it names no host"),
        ("http://srv/a b", "it contains a space or control character"),
        ("http://srv/\r\nX-Injected: 1", "it contains a space or control character"),
    ],
)
def test_check_url(url: str, reason: str | None) -> None:
    assert check_url(url) == reason


def test_check_url_names_a_bad_port() -> None:
    reason = check_url("http://srv:port/") or ""
    assert reason.startswith("it is not a URL (") and "port" in reason.lower()


def test_redact_hides_a_password_only() -> None:
    assert redact("http://u:secret@srv:81/x?y=1") == "http://u:***@srv:81/x?y=1"
    assert redact("http://srv/x?pw=1") == "http://srv/x?pw=1"


def settings(**values: object) -> Settings:
    return with_values(Settings(), {find(k): v for k, v in values.items()})


def test_line_account_as_calls_present_it() -> None:
    s = settings(**{
        "SIP1 Phone Number": "door",
        "SIP1 Register Addr": "pbx.example",
        "SIP1 Register Port": 5070,
        "SIP1 Display Name": "Front door",
    })  # fmt: skip
    assert line_account(s, 1) == Account("sip:door@pbx.example:5070", "door", "pbx.example", "Front door")
    named = with_values(s, {find("SIP1 Sip Name"): "example.com"})
    assert line_account(named, 1) == Account("sip:door@example.com", "door", "example.com", "Front door")
    no_port = with_values(s, {find("SIP1 Req With Port"): False})
    assert line_account(no_port, 1).url == "sip:door@pbx.example"


def test_account_for_defaults_to_the_first_active_line() -> None:
    s = settings(**{"SIP2 Enable Reg": True, "SIP2 Phone Number": "two", "SIP2 Register Addr": "pbx"})
    assert account_for(s, None) == line_account(s, 2)
    assert account_for(s, 1) == line_account(s, 1)
    assert account_for(s, 0) is None
    assert account_for(Settings(), None) is None
