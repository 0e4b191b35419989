"""Digest response computation: RFC 2617 / RFC 7616 example vectors and a SIP REGISTER."""

from __future__ import annotations

import hashlib

import pytest

from portier.sip.auth import ALGORITHMS, DigestChallenge, authorize, digest_response, parse_challenges

RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


def test_rfc2617_section_3_5_vector() -> None:
    challenge = parse_challenges(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )[0]
    assert isinstance(challenge, DigestChallenge)
    creds = authorize(
        challenge,
        username="Mufasa",
        password="Circle Of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce="0a4f113b",
        nc=1,
    )
    assert creds.response == "6629fae49393a05397450978507c4ef1"
    assert str(creds) == (
        'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, '
        'cnonce="0a4f113b", qop=auth, nc=00000001, opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1_vectors(algorithm: str, expected: str) -> None:
    # Both challenges of §3.9.1 in one header, SHA-256 first as the RFC sends them.
    header = ", ".join(
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, '
        f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
        for alg in ("SHA-256", "MD5")
    )
    by_alg = {c.algorithm.name: c for c in parse_challenges(header) if isinstance(c, DigestChallenge)}
    creds = authorize(
        by_alg[algorithm],
        username="Mufasa",
        password="Circle of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce=RFC7616_CNONCE,
        nc=1,
    )
    assert creds.response == expected
    assert f"algorithm={algorithm}," in str(creds)
    assert f'opaque="{RFC7616_OPAQUE}"' in str(creds)


def _independent(hash_name: str, *parts: str) -> str:
    return hashlib.new(hash_name, ":".join(parts).encode()).hexdigest()


@pytest.mark.parametrize(
    ("algorithm", "hash_name", "pinned"),
    [
        ("MD5", "md5", "0196f3222dccb73310a072df6031aeee"),
        ("SHA-256", "sha256", "37f359409b220da767a567b1d976a972b56ef969b5b73d709678c680d1fd2da7"),
    ],
)
def test_sip_register_computed_both_ways(algorithm: str, hash_name: str, pinned: str) -> None:
    """A REGISTER to sip:sip.example.com answered by our code and by the RFC 3261 §22.4 formula."""
    challenge = DigestChallenge(
        realm="sip.example.com", nonce="4f1a2b3c", algorithm=ALGORITHMS[algorithm.lower()], qop=("auth",)
    )
    creds = authorize(
        challenge,
        username="1001",
        password="s3cret",
        method="REGISTER",
        uri="sip:sip.example.com",
        cnonce="abcdef01",
        nc=2,
    )
    ha1 = _independent(hash_name, "1001", "sip.example.com", "s3cret")
    ha2 = _independent(hash_name, "REGISTER", "sip:sip.example.com")
    expected = _independent(hash_name, ha1, "4f1a2b3c", "00000002", "abcdef01", "auth", ha2)
    assert creds.response == expected == pinned
    assert 'uri="sip:sip.example.com"' in str(creds)
    assert "nc=00000002" in str(creds)


def test_rfc2069_no_qop() -> None:
    challenge = DigestChallenge(realm="r", nonce="n")
    creds = authorize(challenge, username="u", password="p", method="REGISTER", uri="sip:r", cnonce="c")
    ha1 = _independent("md5", "u", "r", "p")
    ha2 = _independent("md5", "REGISTER", "sip:r")
    assert creds.response == _independent("md5", ha1, "n", ha2)
    text = str(creds)
    assert "cnonce" not in text and "qop" not in text and "nc=" not in text and "opaque" not in text


def test_auth_int_hashes_the_body() -> None:
    body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
    challenge = DigestChallenge(realm="r", nonce="n", qop=("auth-int",))
    creds = authorize(
        challenge, username="u", password="p", method="INVITE", uri="sip:b@r", cnonce="c", body=body
    )
    ha1 = _independent("md5", "u", "r", "p")
    ha2 = _independent("md5", "INVITE", "sip:b@r", hashlib.md5(body).hexdigest())
    assert creds.qop == "auth-int"
    assert creds.response == _independent("md5", ha1, "n", "00000001", "c", "auth-int", ha2)
    other = authorize(
        challenge, username="u", password="p", method="INVITE", uri="sip:b@r", cnonce="c", body=b"x"
    )
    assert other.response != creds.response


def test_auth_preferred_unless_auth_int_asked_for() -> None:
    challenge = DigestChallenge(realm="r", nonce="n", qop=("auth", "auth-int"))

    def qop(prefer_auth_int: bool) -> str | None:
        return authorize(
            challenge, username="u", password="p", method="INVITE", uri="sip:r", cnonce="c",
            prefer_auth_int=prefer_auth_int,
        ).qop  # fmt: skip

    assert qop(False) == "auth"
    assert qop(True) == "auth-int"


def test_sess_algorithms_hash_nonce_and_cnonce_into_ha1() -> None:
    alg = ALGORITHMS["sha-256-sess"]
    got = digest_response(
        algorithm=alg, username="u", realm="r", password="p", method="REGISTER", uri="sip:r",
        nonce="n", qop="auth", cnonce="c", nc=1,
    )  # fmt: skip
    ha1 = _independent("sha256", _independent("sha256", "u", "r", "p"), "n", "c")
    ha2 = _independent("sha256", "REGISTER", "sip:r")
    assert got == _independent("sha256", ha1, "n", "00000001", "c", "auth", ha2)


def test_username_and_realm_are_escaped_but_hashed_raw() -> None:
    challenge = DigestChallenge(realm='a"b\\c', nonce="n", qop=("auth",))
    creds = authorize(challenge, username='do"or', password="p", method="REGISTER", uri="sip:x", cnonce="c")
    assert 'username="do\\"or"' in str(creds)
    assert 'realm="a\\"b\\\\c"' in str(creds)
    ha1 = _independent("md5", 'do"or', 'a"b\\c', "p")
    ha2 = _independent("md5", "REGISTER", "sip:x")
    assert creds.response == _independent("md5", ha1, "n", "00000001", "c", "auth", ha2)


def test_bad_arguments() -> None:
    challenge = DigestChallenge(realm="r", nonce="n", qop=("auth",))
    with pytest.raises(ValueError, match="8 hex digits"):
        authorize(challenge, username="u", password="p", method="M", uri="sip:r", cnonce="c", nc=0)
    with pytest.raises(ValueError, match="qop"):
        digest_response(
            algorithm=ALGORITHMS["md5"], username="u", realm="r", password="p", method="M", uri="u",
            nonce="n", qop="auth-conf",
        )  # fmt: skip
    creds = authorize(challenge, username="u\r\nX: y", password="p", method="M", uri="sip:r", cnonce="c")
    with pytest.raises(ValueError, match="CR or LF"):
        str(creds)
