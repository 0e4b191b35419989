"""Digest challenges: WWW-Authenticate / Proxy-Authenticate values (RFC 3261 §22, RFC 7616 §3.3, RFC 8760).

Why a scanner of its own instead of ``headers.scan_params``: challenges are comma-separated
``name=value`` lists where a new challenge starts at any bare token (``Digest a=1, Digest b=2``), and
the values follow HTTP rules (RFC 7235), not SIP's ``;param`` rules. The scanner raises only
``DigestChallengeError`` so the caller can catch exactly what a broken server can provoke.

A Digest challenge that is well formed but unusable (unknown algorithm, only unknown qop values,
another scheme such as Basic) is *skipped* with a reason, not rejected: a server may offer several
challenges and we answer the strongest one we understand (RFC 8760 §2.4).
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portier.sip.errors import SipParseError

# tchar (RFC 7230 §3.2.6): a superset of the SIP token alphabet.
_TCHAR = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
_TOKEN68 = frozenset(string.ascii_letters + string.digits + "-._~+/")
_WS = " \t\r\n"
QOPS = ("auth", "auth-int")


class DigestChallengeError(SipParseError):
    """A challenge header value that does not follow the RFC 7616 §3.3 / RFC 7235 §2.1 grammar.

    It is a ``SipParseError`` without a status: it comes from a response, which is never answered.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, None)


@dataclass(frozen=True)
class DigestAlgorithm:
    """One row of the HTTP Digest hash algorithm registry we implement."""

    name: str  # as sent in the algorithm parameter, e.g. "SHA-256-sess"
    hash_name: str  # hashlib name
    session: bool  # the "-sess" variant: HA1 also covers nonce and cnonce
    strength: int  # RFC 8760 §2.4 preference: higher is tried first

    def hash(self, data: bytes) -> str:
        return hashlib.new(self.hash_name, data).hexdigest()


def _algorithms() -> dict[str, DigestAlgorithm]:
    table: dict[str, DigestAlgorithm] = {}
    for base, hash_name, strength in (
        ("MD5", "md5", 1),
        ("SHA-256", "sha256", 2),
        ("SHA-512-256", "sha512_256", 3),
    ):
        if hash_name not in hashlib.algorithms_available:  # OpenSSL builds without SHA-512/256
            continue
        for session in (False, True):
            name = base + ("-sess" if session else "")
            table[name.lower()] = DigestAlgorithm(name, hash_name, session, strength)
    return table


ALGORITHMS = _algorithms()
MD5 = ALGORITHMS["md5"]


@dataclass(frozen=True)
class DigestChallenge:
    """A usable Digest challenge (unquoted values)."""

    realm: str
    nonce: str
    algorithm: DigestAlgorithm = MD5
    qop: tuple[str, ...] = ()  # the offered qop values we support; () means RFC 2069 style
    opaque: str | None = None
    stale: bool = False
    domain: tuple[str, ...] = ()


@dataclass(frozen=True)
class SkippedChallenge:
    """A challenge we cannot answer and why ("algorithm 'AKAv1-MD5' is not supported")."""

    scheme: str
    realm: str | None
    reason: str


@dataclass
class _Raw:
    scheme: str
    params: list[tuple[str, str]]
    token68: str | None = None


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> DigestChallengeError:
        return DigestChallengeError(f"challenge {self.text!r}: {what} at position {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1

    def skip_commas(self) -> None:
        self.skip_ws()
        while self.peek() == ",":  # empty list elements are allowed (RFC 7230 §7)
            self.pos += 1
            self.skip_ws()

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _TCHAR:
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        out: list[str] = []
        self.pos += 1  # opening quote
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
            elif ch == '"':
                self.pos += 1
                return "".join(out)
            else:
                out.append(ch)
                self.pos += 1
        raise self.fail("unterminated quoted string")

    def token68(self) -> str | None:
        """A token68 (``abc+/==``) standing alone before a comma or the end, else None (no move)."""
        end = self.pos
        while end < len(self.text) and self.text[end] in _TOKEN68:
            end += 1
        if end == self.pos:
            return None
        while end < len(self.text) and self.text[end] == "=":
            end += 1
        after = end
        while after < len(self.text) and self.text[after] in _WS:
            after += 1
        if after < len(self.text) and self.text[after] != ",":
            return None
        value, self.pos = self.text[self.pos : end], after
        return value

    def value(self, name: str) -> str:
        self.skip_ws()
        if self.peek() == '"':
            return self.quoted()
        start = self.pos  # lenient: servers send unquoted nonces with '/', '+' and '=' padding
        while self.pos < len(self.text) and self.text[self.pos] not in _WS + ',"':
            self.pos += 1
        if start == self.pos:
            raise self.fail(f"parameter {name!r} has '=' but no value")
        return self.text[start : self.pos]


def _scan(text: str) -> list[_Raw]:
    sc = _Scanner(text)
    out: list[_Raw] = []
    sc.skip_commas()
    while sc.pos < len(text):
        scheme = sc.token()
        if not scheme:
            raise sc.fail("expected an authentication scheme")
        raw = _Raw(scheme, [])
        out.append(raw)
        had_ws = sc.peek() != "" and sc.peek() in _WS
        sc.skip_ws()
        if sc.peek() in ("", ","):
            sc.skip_commas()
            continue
        if not had_ws:
            raise sc.fail(f"expected a space after the scheme {scheme!r}")
        raw.token68 = sc.token68()
        if raw.token68 is not None:
            sc.skip_commas()
            continue
        while True:  # auth-param list; a bare token after a comma starts the next challenge
            mark = sc.pos
            name = sc.token()
            if not name:
                raise sc.fail("expected a parameter name")
            sc.skip_ws()
            if sc.peek() != "=":
                if raw.params:  # we got here through a comma: this token is the next scheme
                    sc.pos = mark
                    break
                raise sc.fail(f"expected '=' after parameter {name!r}")
            sc.pos += 1
            raw.params.append((name, sc.value(name)))
            sc.skip_ws()
            if sc.peek() == "":
                break
            if sc.peek() != ",":
                raise sc.fail(f"expected ',' after parameter {name!r}")
            sc.skip_commas()
            if sc.peek() == "":
                break
    return out


def _interpret(raw: _Raw) -> DigestChallenge | SkippedChallenge:
    if raw.scheme.lower() != "digest":  # another scheme's rules are not ours to enforce
        realm = next((v for n, v in raw.params if n.lower() == "realm"), None)
        return SkippedChallenge(raw.scheme, realm, f"scheme {raw.scheme!r} is not supported (only Digest)")
    params: dict[str, str] = {}
    for name, value in raw.params:
        key = name.lower()
        if key in params:
            raise DigestChallengeError(f"Digest challenge repeats the parameter {name!r}")
        params[key] = value
    realm = params.get("realm")
    if raw.token68 is not None or not params:
        raise DigestChallengeError("Digest challenge has no name=value parameters")
    if realm is None:
        raise DigestChallengeError("Digest challenge without a realm parameter")
    nonce = params.get("nonce")
    if nonce is None:
        raise DigestChallengeError(f"Digest challenge for realm {realm!r} without a nonce parameter")
    alg_name = params.get("algorithm", "MD5")
    algorithm = ALGORITHMS.get(alg_name.lower())
    if algorithm is None:
        return SkippedChallenge(raw.scheme, realm, f"algorithm {alg_name!r} is not supported")
    qop: tuple[str, ...] = ()
    if "qop" in params:
        offered = [q.strip(_WS).lower() for q in params["qop"].split(",")]
        qop = tuple(q for q in QOPS if q in offered)
        if not qop:
            reason = f"qop {params['qop']!r} offers neither auth nor auth-int"
            return SkippedChallenge(raw.scheme, realm, reason)
    elif algorithm.session:  # RFC 2617 §3.2.2: cnonce may only be sent together with qop
        return SkippedChallenge(
            raw.scheme, realm, f"algorithm {algorithm.name} without qop cannot be answered"
        )
    return DigestChallenge(
        realm=realm,
        nonce=nonce,
        algorithm=algorithm,
        qop=qop,
        opaque=params.get("opaque"),
        stale=params.get("stale", "false").lower() == "true",
        domain=tuple(params.get("domain", "").split()),
    )


def parse_challenges(value: str) -> list[DigestChallenge | SkippedChallenge]:
    """Every challenge in one header value, in order; raises ``DigestChallengeError`` if malformed."""
    return [_interpret(raw) for raw in _scan(value)]


@dataclass(frozen=True)
class ChallengeSet:
    """All challenges of a 401/407: the usable ones and the reasons the others were not."""

    usable: tuple[DigestChallenge, ...]
    skipped: tuple[SkippedChallenge, ...]

    def best_per_realm(self) -> dict[str, DigestChallenge]:
        """The strongest challenge of each realm (RFC 8760 §2.4); on a tie the first one wins."""
        best: dict[str, DigestChallenge] = {}
        for ch in self.usable:
            old = best.get(ch.realm)
            if old is None or ch.algorithm.strength > old.algorithm.strength:
                best[ch.realm] = ch
        return best

    def reasons(self) -> str:
        return "; ".join(
            s.reason if s.realm is None else f"realm {s.realm!r}: {s.reason}" for s in self.skipped
        )


def collect_challenges(values: Iterable[str]) -> ChallengeSet:
    """Parse every header line; a malformed line is skipped with its error as the reason."""
    usable: list[DigestChallenge] = []
    skipped: list[SkippedChallenge] = []
    for value in values:
        try:
            items: Sequence[DigestChallenge | SkippedChallenge] = parse_challenges(value)
        except DigestChallengeError as exc:
            items = [SkippedChallenge("?", None, f"malformed: {exc.message}")]
        for item in items:
            if isinstance(item, DigestChallenge):
                usable.append(item)
            else:
                skipped.append(item)
    return ChallengeSet(tuple(usable), tuple(skipped))
