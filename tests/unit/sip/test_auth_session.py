"""DigestSession: keep-authentication, nonce counts, stale nonces, failure detection, realm filter."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from portier.sip import SipResponse, parse
from portier.sip.auth import AuthAccount, DigestSession, Failed, Retry

URI = "sip:sip.example.com"
ACCOUNT = AuthAccount(username="door", password="s3cret", auth_user="1001")


def counting_random() -> Callable[[int], bytes]:
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def session(
    account: AuthAccount = ACCOUNT, *, keep_authentication: bool = True, max_stale_retries: int = 3
) -> DigestSession:
    return DigestSession(
        account,
        counting_random(),
        keep_authentication=keep_authentication,
        max_stale_retries=max_stale_retries,
    )


def www(
    nonce: str, *, realm: str = "sip.example.com", algorithm: str = "MD5", extra: str = ', qop="auth"'
) -> str:
    return f'Digest realm="{realm}", nonce="{nonce}", algorithm={algorithm}{extra}'


def retry(outcome: Retry | Failed) -> Retry:
    assert isinstance(outcome, Retry), outcome
    return outcome


def param(header_value: str, name: str) -> str:
    for part in header_value.removeprefix("Digest ").split(", "):
        key, _, value = part.partition("=")
        if key == name:
            return value.strip('"')
    raise AssertionError(f"{name} not in {header_value}")


def test_register_challenge_answered_with_auth_user() -> None:
    s = session()
    assert s.preemptive("REGISTER", URI) == ()
    (header,) = retry(s.on_challenge(401, [www("n1")], "REGISTER", URI)).headers
    assert header[0] == "Authorization"
    assert param(header[1], "username") == "1001"  # the auth user, not the register user
    assert param(header[1], "nc") == "00000001"
    assert param(header[1], "cnonce") == (1).to_bytes(16, "big").hex()


def test_username_used_when_no_auth_user() -> None:
    s = session(AuthAccount(username="door", password="p"))
    (header,) = retry(s.on_challenge(401, [www("n1")], "REGISTER", URI)).headers
    assert param(header[1], "username") == "door"


def test_keep_authentication_increments_nc_per_nonce_and_resets_on_new_nonce() -> None:
    s = session()
    retry(s.on_challenge(401, [www("n1")], "REGISTER", URI))
    s.request_done()
    counts = [param(s.preemptive("REGISTER", URI)[0][1], "nc") for _ in range(3)]
    assert counts == ["00000002", "00000003", "00000004"]
    s.request_done()
    # Pre-emptive credentials with an expired nonce: the server answers a new nonce without stale.
    (header,) = retry(s.on_challenge(401, [www("n2")], "REGISTER", URI)).headers
    assert (param(header[1], "nonce"), param(header[1], "nc")) == ("n2", "00000001")


def test_cnonce_is_fresh_per_request_but_fixed_for_sess() -> None:
    s = session()
    retry(s.on_challenge(401, [www("n1")], "REGISTER", URI))
    first = param(s.preemptive("REGISTER", URI)[0][1], "cnonce")
    assert param(s.preemptive("REGISTER", URI)[0][1], "cnonce") != first
    s2 = session()
    r = retry(s2.on_challenge(401, [www("n1", algorithm="SHA-256-sess")], "REGISTER", URI))
    cnonce = param(r.headers[0][1], "cnonce")
    assert param(s2.preemptive("REGISTER", URI)[0][1], "cnonce") == cnonce


def test_without_keep_authentication_nothing_is_sent_preemptively() -> None:
    s = session(keep_authentication=False)
    retry(s.on_challenge(401, [www("n1")], "REGISTER", URI))
    assert s.preemptive("REGISTER", URI) == ()
    s.request_done()
    assert s.preemptive("REGISTER", URI) == ()
    # and the next challenge is a fresh start, not a failure
    retry(s.on_challenge(401, [www("n2")], "REGISTER", URI))


def test_stale_nonce_is_retried_not_failed() -> None:
    s = session()
    retry(s.on_challenge(401, [www("n1")], "REGISTER", URI))
    r = retry(s.on_challenge(401, [www("n2", extra=', qop="auth", stale=true')], "REGISTER", URI))
    assert r.stale
    assert param(r.headers[0][1], "nonce") == "n2"
    assert param(r.headers[0][1], "nc") == "00000001"
    s.request_done()


def test_endless_stale_is_a_failure() -> None:
    s = session(max_stale_retries=2)
    stale = [www(f"n{i}", extra=", stale=true") for i in range(4)]
    retry(s.on_challenge(401, [stale[0]], "REGISTER", URI))
    retry(s.on_challenge(401, [stale[1]], "REGISTER", URI))
    out = s.on_challenge(401, [stale[2]], "REGISTER", URI)
    assert isinstance(out, Failed) and "stale=true 3 times" in out.reason


def test_wrong_password_with_fresh_nonce_each_time_fails() -> None:
    s = session()
    retry(s.on_challenge(401, [www("n1")], "REGISTER", URI))
    out = s.on_challenge(401, [www("n2")], "REGISTER", URI)
    assert isinstance(out, Failed)
    assert out.reason == (
        "401: credentials for user '1001' rejected by realm 'sip.example.com' (the server challenged again)"
    )
    # The failed chain is forgotten: the next attempt after the retry interval starts clean.
    assert s.preemptive("REGISTER", URI) == ()
    retry(s.on_challenge(401, [www("n3")], "REGISTER", URI))


def test_same_nonce_challenged_again_fails_even_for_preemptive_credentials() -> None:
    s = session()
    retry(s.on_challenge(401, [www("n1")], "REGISTER", URI))
    s.request_done()
    s.preemptive("REGISTER", URI)
    out = s.on_challenge(401, [www("n1")], "REGISTER", URI)
    assert isinstance(out, Failed) and "same nonce" in out.reason


def test_success_resets_failure_tracking() -> None:
    s = session()
    retry(s.on_challenge(401, [www("n1")], "REGISTER", URI))
    s.request_done()  # 200 OK
    retry(s.on_challenge(401, [www("n2")], "REGISTER", URI))  # e.g. re-REGISTER after nonce expiry


def test_proxy_and_www_credentials_are_both_sent() -> None:
    s = session()
    retry(s.on_challenge(407, [www("p1", realm="proxy.example.com")], "INVITE", "sip:1002@example.com"))
    r = retry(s.on_challenge(401, [www("w1")], "INVITE", "sip:1002@example.com"))
    assert [name for name, _ in r.headers] == ["Authorization", "Proxy-Authorization"]
    assert param(r.headers[1][1], "nc") == "00000002"
    assert param(r.headers[0][1], "uri") == "sip:1002@example.com"


def test_two_proxy_realms_in_one_407() -> None:
    s = session()
    r = retry(s.on_challenge(407, [www("a", realm="a.example"), www("b", realm="b.example")], "INVITE", URI))
    assert sorted(param(v, "realm") for _, v in r.headers) == ["a.example", "b.example"]


def test_configured_realm_filters_challenges() -> None:
    account = AuthAccount(username="door", password="p", realm="sip.example.com")
    s = session(account)
    r = retry(s.on_challenge(407, [www("x", realm="evil.example"), www("y")], "INVITE", URI))
    assert [param(v, "realm") for _, v in r.headers] == ["sip.example.com"]
    out = session(account).on_challenge(401, [www("x", realm="evil.example")], "REGISTER", URI)
    assert out == Failed(
        "401: no challenge for the configured realm 'sip.example.com' (offered: 'evil.example')"
    )


def test_no_usable_challenge_reports_the_reasons() -> None:
    out = session().on_challenge(401, [www("n", algorithm="AKAv1-MD5"), 'Basic realm="x"'], "R", URI)
    assert isinstance(out, Failed)
    assert "'AKAv1-MD5' is not supported" in out.reason and "'Basic' is not supported" in out.reason
    assert session().on_challenge(407, [], "R", URI) == Failed("407 without a Proxy-Authenticate challenge")
    out = session().on_challenge(401, ['Digest realm="r'], "R", URI)
    assert isinstance(out, Failed) and "malformed" in out.reason


def test_only_401_and_407_are_challenges() -> None:
    with pytest.raises(ValueError, match="401 and 407"):
        session().on_challenge(403, [www("n")], "REGISTER", URI)


def test_strongest_algorithm_from_a_parsed_401() -> None:
    data = (
        b"SIP/2.0 401 Unauthorized\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1;received=192.0.2.10\r\n"
        b"From: <sip:door@sip.example.com>;tag=a\r\n"
        b"To: <sip:door@sip.example.com>;tag=b\r\n"
        b"Call-ID: reg1\r\n"
        b"CSeq: 1 REGISTER\r\n"
        b'WWW-Authenticate: Digest realm="sip.example.com", nonce="m", algorithm=MD5, qop="auth"\r\n'
        b'WWW-Authenticate: Digest realm="sip.example.com", nonce="s", algorithm=SHA-256, qop="auth"\r\n'
        b"Content-Length: 0\r\n\r\n"
    )
    msg = parse(data)
    assert isinstance(msg, SipResponse)
    s = session()
    r = retry(s.on_challenge(msg.status, msg.get_all("WWW-Authenticate"), "REGISTER", URI))
    assert param(r.headers[0][1], "algorithm") == "SHA-256"
    assert len(param(r.headers[0][1], "response")) == 64
