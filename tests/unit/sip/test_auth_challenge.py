"""WWW-Authenticate / Proxy-Authenticate parsing: grammar edge cases, skipping, choosing, fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portier.sip import SipParseError
from portier.sip.auth import (
    DigestChallenge,
    DigestChallengeError,
    SkippedChallenge,
    collect_challenges,
    parse_challenges,
)


def one(value: str) -> DigestChallenge:
    items = parse_challenges(value)
    assert len(items) == 1
    assert isinstance(items[0], DigestChallenge)
    return items[0]


def test_full_challenge() -> None:
    ch = one(
        'Digest realm="atlanta.com", domain="sip:ss1.carrier.com sip:ss2.carrier.com", qop="auth,auth-int", '
        'nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5'
    )
    assert ch.realm == "atlanta.com"
    assert ch.nonce == "f84f1cec41e6cbe5aea9c8e88d359"
    assert ch.domain == ("sip:ss1.carrier.com", "sip:ss2.carrier.com")
    assert ch.qop == ("auth", "auth-int")
    assert ch.opaque == ""
    assert ch.stale is False
    assert ch.algorithm.name == "MD5"


def test_defaults_are_md5_without_qop() -> None:
    ch = one('Digest realm="r", nonce="n"')
    assert (ch.algorithm.name, ch.qop, ch.opaque, ch.stale, ch.domain) == ("MD5", (), None, False, ())


def test_escaped_quotes_and_backslashes() -> None:
    ch = one(r'Digest realm="say \"hi\" \\ there", nonce="a\,b", opaque="x,y=z"')
    assert ch.realm == 'say "hi" \\ there'
    assert ch.nonce == "a,b"
    assert ch.opaque == "x,y=z"


def test_spaces_around_equals_and_commas_tabs_and_case() -> None:
    ch = one('dIgEsT   REALM = "r" ,\tNonce\t=\t"n" ,  ,Algorithm = sha-256 , QOP = "AUTH" , Stale = TRUE')
    assert ch.realm == "r"
    assert ch.nonce == "n"
    assert ch.algorithm.name == "SHA-256"
    assert ch.qop == ("auth",)
    assert ch.stale is True


def test_quoted_or_unquoted_algorithm_and_unquoted_nonce() -> None:
    assert one('Digest realm="r", nonce="n", algorithm="SHA-256"').algorithm.name == "SHA-256"
    assert one('Digest realm="r", nonce="n", algorithm=SHA-256-sess, qop=auth').algorithm.session
    assert one('Digest realm="r", nonce=YWJj+/de==').nonce == "YWJj+/de=="


def test_multiple_challenges_in_one_header() -> None:
    items = parse_challenges(
        'Digest realm="r", nonce="1", algorithm=MD5, Digest realm="r", nonce="2", algorithm=SHA-256,'
        'Basic realm="r", Negotiate YWJjZA==, Digest realm="r2", nonce="3"'
    )
    assert [type(i).__name__ for i in items] == [
        "DigestChallenge", "DigestChallenge", "SkippedChallenge", "SkippedChallenge", "DigestChallenge",
    ]  # fmt: skip
    assert [i.nonce for i in items if isinstance(i, DigestChallenge)] == ["1", "2", "3"]
    basic = items[2]
    assert isinstance(basic, SkippedChallenge)
    assert (basic.scheme, basic.realm) == ("Basic", "r")
    assert "not supported" in basic.reason


def test_multiple_challenges_in_separate_headers_strongest_wins() -> None:
    found = collect_challenges(
        [
            'Digest realm="r", nonce="md5", algorithm=MD5, qop="auth"',
            'Digest realm="r", nonce="sha", algorithm=SHA-256, qop="auth"',
            'Digest realm="r", nonce="aka", algorithm=AKAv1-MD5, qop="auth"',
        ]
    )
    assert found.best_per_realm()["r"].nonce == "sha"
    assert "'AKAv1-MD5' is not supported" in found.reasons()


def test_tie_keeps_the_first_and_realms_are_grouped() -> None:
    found = collect_challenges(['Digest realm="a", nonce="1"', 'Digest realm="b", nonce="2"'])
    found2 = collect_challenges(['Digest realm="a", nonce="1", Digest realm="a", nonce="9"'])
    assert {r: c.nonce for r, c in found.best_per_realm().items()} == {"a": "1", "b": "2"}
    assert found2.best_per_realm()["a"].nonce == "1"


def test_malformed_header_is_skipped_when_collecting() -> None:
    found = collect_challenges(['Digest realm="r", nonce="unterminated', 'Digest realm="r", nonce="ok"'])
    assert [c.nonce for c in found.usable] == ["ok"]
    assert "malformed" in found.reasons() and "unterminated" in found.reasons()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('Digest realm="r", nonce="n", algorithm=AKAv1-MD5', "algorithm 'AKAv1-MD5' is not supported"),
        ('Digest realm="r", nonce="n", qop="auth-conf"', "offers neither auth nor auth-int"),
        ('Digest realm="r", nonce="n", algorithm=MD5-sess', "without qop cannot be answered"),
        ('Basic realm="r"', "scheme 'Basic' is not supported"),
        ("Bearer", "scheme 'Bearer' is not supported"),
    ],
)
def test_unusable_challenges_are_skipped_with_a_reason(value: str, reason: str) -> None:
    (item,) = parse_challenges(value)
    assert isinstance(item, SkippedChallenge)
    assert reason in item.reason


def test_unknown_qop_values_next_to_known_ones_are_dropped() -> None:
    assert one('Digest realm="r", nonce="n", qop="auth-conf, auth-int"').qop == ("auth-int",)


def test_unknown_parameters_are_ignored() -> None:
    assert one('Digest realm="r", nonce="n", charset=UTF-8, userhash=false, x-foo="bar"').realm == "r"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('Digest realm="r", nonce="n', "unterminated quoted string"),
        ('Digest nonce="n"', "without a realm"),
        ('Digest realm="r"', "without a nonce"),
        ('Digest realm="r" nonce="n"', "expected ','"),
        ('Digest realm="r", nonce=', "has '=' but no value"),
        ('Digest realm="r", realm="s", nonce="n"', "repeats the parameter"),
        ('Digest realm "r", nonce="n"', "expected '=' after parameter 'realm'"),
        ('Digest realm, nonce="n"', "expected a space after the scheme 'nonce'"),
        ("Digest", "no name=value parameters"),
        ("Digest abc==", "no name=value parameters"),
        ('Digest"realm"', "expected a space after the scheme"),
        ('="r"', "expected an authentication scheme"),
        ('Digest realm="r", =x', "expected a parameter name"),
    ],
)
def test_malformed_challenges_raise_their_own_error(value: str, message: str) -> None:
    with pytest.raises(DigestChallengeError, match=message) as info:
        parse_challenges(value)
    assert isinstance(info.value, SipParseError)
    assert info.value.status is None  # responses are never answered


def test_empty_header_has_no_challenges() -> None:
    assert parse_challenges("") == []
    assert parse_challenges(" , ") == []


ALPHABET = st.sampled_from(
    list('Digest realm nonce qop algorithm stale MD5 SHA-256 auth "\\=, \t\r\n/+;:\x00é')
)


@given(st.text(ALPHABET, max_size=80))
def test_parser_raises_only_its_own_error(text: str) -> None:
    try:
        items = parse_challenges(text)
    except DigestChallengeError:
        return
    for item in items:
        assert isinstance(item, DigestChallenge | SkippedChallenge)


@given(st.text(max_size=60), st.text(max_size=30))
def test_arbitrary_values_inside_a_valid_frame(realm: str, junk: str) -> None:
    escaped = realm.replace("\\", "\\\\").replace('"', '\\"')
    try:
        items = parse_challenges(f'Digest realm="{escaped}", nonce="n", {junk}')
    except DigestChallengeError:
        return
    first = items[0]
    assert isinstance(first, DigestChallenge)
    assert first.realm == realm
