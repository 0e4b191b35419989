"""Digest responses: Authorization / Proxy-Authorization values (RFC 3261 §22.4, RFC 7616 §3.4, RFC 2069).

Pure functions of their inputs: the cnonce and the nonce count are arguments, so the RFC example
vectors can be reproduced exactly and a session decides how they advance.
"""

from __future__ import annotations

from dataclasses import dataclass

from portier.sip.auth_challenge import DigestAlgorithm, DigestChallenge

Qop = str  # "auth" | "auth-int"


def digest_response(
    *,
    algorithm: DigestAlgorithm,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: Qop | None = None,
    cnonce: str = "",
    nc: int = 1,
    body: bytes = b"",
) -> str:
    """The ``response`` parameter (lowercase hex).

    HA1 = H(user:realm:password), for ``-sess`` H(that:nonce:cnonce); HA2 = H(method:uri), for
    auth-int H(method:uri:H(body)); response = H(HA1:nonce:nc:cnonce:qop:HA2) with a qop and
    H(HA1:nonce:HA2) without one (RFC 2069). Strings are hashed as UTF-8.
    """

    def h(text: str) -> str:
        return algorithm.hash(text.encode("utf-8"))

    ha1 = h(f"{username}:{realm}:{password}")
    if algorithm.session:
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    if qop == "auth-int":
        ha2 = h(f"{method}:{uri}:{algorithm.hash(body)}")
    elif qop in (None, "auth"):
        ha2 = h(f"{method}:{uri}")
    else:
        raise ValueError(f"qop must be 'auth', 'auth-int' or None, got {qop!r}")
    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}")
    return h(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")


def quote_value(text: str) -> str:
    """A quoted-string with '"' and '\\' escaped (RFC 7230 §3.2.6 quoted-pair)."""
    if any(ch in "\r\n" for ch in text):
        raise ValueError(f"a digest parameter cannot contain CR or LF: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class DigestAuthorization:
    """The credentials of one request; ``str()`` is the header value."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str
    qop: Qop | None = None
    cnonce: str | None = None
    nc: int | None = None
    opaque: str | None = None

    def __str__(self) -> str:
        parts = [
            f"username={quote_value(self.username)}",
            f"realm={quote_value(self.realm)}",
            f"nonce={quote_value(self.nonce)}",
            f"uri={quote_value(self.uri)}",
            f"response={quote_value(self.response)}",
            f"algorithm={self.algorithm}",
        ]
        if self.qop is not None:
            parts += [f"cnonce={quote_value(self.cnonce or '')}", f"qop={self.qop}", f"nc={self.nc or 1:08x}"]
        if self.opaque is not None:
            parts.append(f"opaque={quote_value(self.opaque)}")
        return "Digest " + ", ".join(parts)


def choose_qop(challenge: DigestChallenge, *, prefer_auth_int: bool = False) -> Qop | None:
    """auth unless only auth-int is offered (or it is preferred); None for an RFC 2069 challenge."""
    if prefer_auth_int and "auth-int" in challenge.qop:
        return "auth-int"
    if "auth" in challenge.qop:
        return "auth"
    return challenge.qop[0] if challenge.qop else None


def authorize(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str,
    nc: int = 1,
    body: bytes = b"",
    prefer_auth_int: bool = False,
) -> DigestAuthorization:
    """Answer ``challenge`` for one request; ``nc`` is the count of requests sent with this nonce."""
    if not 1 <= nc <= 0xFFFFFFFF:
        raise ValueError(f"nonce count must fit in 8 hex digits, got {nc}")
    qop = choose_qop(challenge, prefer_auth_int=prefer_auth_int)
    response = digest_response(
        algorithm=challenge.algorithm,
        username=username,
        realm=challenge.realm,
        password=password,
        method=method,
        uri=uri,
        nonce=challenge.nonce,
        qop=qop,
        cnonce=cnonce,
        nc=nc,
        body=body,
    )
    return DigestAuthorization(
        username=username,
        realm=challenge.realm,
        nonce=challenge.nonce,
        uri=uri,
        response=response,
        algorithm=challenge.algorithm.name,
        qop=qop,
        cnonce=cnonce if qop else None,
        nc=nc if qop else None,
        opaque=challenge.opaque,
    )
