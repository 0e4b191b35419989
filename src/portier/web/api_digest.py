"""HTTP Digest authentication, server side (RFC 7616): challenges, nonces, response checks.

Pure and synchronous: times come in as ``now``. Supported: SHA-256 and MD5, ``qop=auth``
(required; RFC 2069 answers without qop are refused), nonces that expire (an old nonce with a
right answer gets ``stale=true``, so clients retry without asking the user again), and nonce
counts that may arrive out of order but never twice.

Digest cannot work from a salted scrypt hash: the server has to know H(user:realm:password), the
"HA1", for each algorithm. :mod:`portier.web.api_auth` keeps those next to the users.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

REALM = "portier"
NONCE_LIFETIME = 300.0
ALGORITHMS = ("SHA-256", "MD5")
"""Offered in this order: the stronger first (RFC 7616 §3.7)."""

_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
_PARAM = re.compile(r'\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')


class DigestRefused(ValueError):
    """The Authorization header is not a usable Digest answer; the message says why."""


def h(algorithm: str, text: str) -> str:
    return _HASHES[algorithm](text.encode()).hexdigest()


def canonical_algorithm(algorithm: str) -> str:
    """The canonical name (``sha-256`` -> ``SHA-256``); DigestRefused for algorithms we do not do."""
    name = algorithm.upper()
    if name not in _HASHES:
        raise DigestRefused(f"algorithm {algorithm!r} is not supported; use SHA-256 or MD5")
    return name


def ha1(algorithm: str, user: str, password: str, realm: str = REALM) -> str:
    """H(user:realm:password), what is stored per user and algorithm."""
    return h(algorithm, f"{user}:{realm}:{password}")


def parse_params(text: str) -> dict[str, str]:
    """``username="a", nc=00000001, ...`` -> a dict with lower-case names and unquoted values."""
    params: dict[str, str] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _PARAM.match(text, position)
        if match is None:
            raise DigestRefused(f"cannot read the Digest parameters at {text[position : position + 30]!r}")
        name, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[name] = value
        position = match.end()
    return params


@dataclass(frozen=True)
class DigestAnswer:
    """The fields of a client's Authorization: Digest header that the check needs."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str
    cnonce: str
    nc: str
    qop: str

    @classmethod
    def parse(cls, text: str) -> DigestAnswer:
        params = parse_params(text)
        if params.get("userhash", "false").lower() == "true" or "username*" in params:
            raise DigestRefused("userhash and username* are not supported; send the user name")
        missing = [n for n in ("username", "realm", "nonce", "uri", "response") if n not in params]
        if missing:
            raise DigestRefused(f"the Digest answer lacks {', '.join(missing)}")
        qop = params.get("qop", "")
        if qop.lower() != "auth":
            raise DigestRefused(
                "qop=auth is required (RFC 7616); this server does not accept RFC 2069 answers"
            )
        if not re.fullmatch(r"[0-9a-fA-F]{8}", params.get("nc", "")) or not params.get("cnonce"):
            raise DigestRefused("qop=auth needs nc (8 hex digits) and cnonce")
        algorithm = canonical_algorithm(params.get("algorithm", "MD5"))
        return cls(
            params["username"], params["realm"], params["nonce"], params["uri"], params["response"],
            algorithm, params["cnonce"], params["nc"], "auth",
        )  # fmt: skip

    def expected(self, stored_ha1: str, method: str) -> str:
        """The response a client that knows the password computes (RFC 7616 §3.4.1)."""
        ha2 = h(self.algorithm, f"{method}:{self.uri}")
        return h(self.algorithm, f"{stored_ha1}:{self.nonce}:{self.nc}:{self.cnonce}:{self.qop}:{ha2}")

    def matches(self, stored_ha1: str, method: str) -> bool:
        return hmac.compare_digest(self.expected(stored_ha1, method), self.response.lower())


def challenges(nonce: str, *, stale: bool = False) -> list[str]:
    """The WWW-Authenticate values for a 401: one Digest challenge per algorithm, then Basic."""
    tail = ", stale=true" if stale else ""
    values = [
        f'Digest realm="{REALM}", qop="auth", algorithm={algorithm}, nonce="{nonce}", charset=UTF-8{tail}'
        for algorithm in ALGORITHMS
    ]
    values.append(f'Basic realm="{REALM}", charset="UTF-8"')
    return values


@dataclass
class _Nonce:
    expires: float
    counts: set[int] = field(default_factory=set)


class NonceTable:
    """Nonces this server issued, each good for ``lifetime`` s and for each nonce count once.

    Bounded: past ``capacity`` the oldest is forgotten, and its client simply gets ``stale=true``.
    """

    def __init__(self, lifetime: float = NONCE_LIFETIME, capacity: int = 1024, max_uses: int = 4096) -> None:
        self.lifetime = lifetime
        self._capacity = capacity
        self._max_uses = max_uses
        self._nonces: OrderedDict[str, _Nonce] = OrderedDict()

    def issue(self, now: float) -> str:
        nonce = secrets.token_urlsafe(24)
        self._nonces[nonce] = _Nonce(now + self.lifetime)
        while len(self._nonces) > self._capacity:
            self._nonces.popitem(last=False)
        return nonce

    def use(self, nonce: str, nc: str, now: float) -> bool:
        """True the first time this (nonce, nc) comes while the nonce is fresh; False means stale."""
        entry = self._nonces.get(nonce)
        if entry is None or entry.expires <= now:
            self._nonces.pop(nonce, None)
            return False
        count = int(nc, 16)
        if count in entry.counts or len(entry.counts) >= self._max_uses:
            return False
        entry.counts.add(count)
        return True
