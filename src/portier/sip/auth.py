"""Client-side SIP digest authentication for one line (RFC 3261 §22.2-§22.4, RFC 7616, RFC 8760).

Sans-IO: the line asks ``preemptive()`` for headers to put on a new request, hands every 401/407 to
``on_challenge()`` and gets back either ``Retry(headers)`` or ``Failed(reason)``, and calls
``request_done()`` when the request ends any other way. No clock, no sockets; the cnonce comes from an
injected random source so tests are deterministic.

Failure detection, because a wrong password must end as ``Failed`` and not as a 401 loop:
- a challenge for a realm we already answered in this request chain, without ``stale=true``, means
  the credentials were rejected (servers such as Asterisk send a fresh nonce each time);
- a challenge that repeats the nonce our credentials used, without ``stale=true``, also means it,
  even when those credentials were pre-emptive ("Keep Authentication");
- ``stale=true`` is a retry with the new nonce, not a failure, up to ``max_stale_retries`` in a row.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from portier.sip.auth_challenge import (
    ALGORITHMS,
    ChallengeSet,
    DigestAlgorithm,
    DigestChallenge,
    DigestChallengeError,
    SkippedChallenge,
    collect_challenges,
    parse_challenges,
)
from portier.sip.auth_digest import DigestAuthorization, authorize, digest_response, quote_value

__all__ = [
    "ALGORITHMS",
    "AuthAccount",
    "ChallengeSet",
    "DigestAlgorithm",
    "DigestAuthorization",
    "DigestChallenge",
    "DigestChallengeError",
    "DigestSession",
    "Failed",
    "Retry",
    "SkippedChallenge",
    "authorize",
    "collect_challenges",
    "digest_response",
    "parse_challenges",
    "quote_value",
]

Kind = Literal["www", "proxy"]
_CHALLENGE_HEADER: dict[Kind, str] = {"www": "WWW-Authenticate", "proxy": "Proxy-Authenticate"}
_CREDENTIAL_HEADER: dict[Kind, str] = {"www": "Authorization", "proxy": "Proxy-Authorization"}


@dataclass(frozen=True)
class AuthAccount:
    """The line's credentials as configured.

    ``auth_user`` is the "Authentication User" (digest username); when empty the SIP ``username``
    ("Register User") is used. ``realm``, when set, restricts which challenges are answered so the
    password is never sent (even hashed) to another realm.
    """

    username: str
    password: str
    auth_user: str = ""
    realm: str = ""

    @property
    def digest_username(self) -> str:
        return self.auth_user or self.username


@dataclass(frozen=True)
class Retry:
    """Re-send the request (new CSeq) with these (header name, value) pairs added."""

    headers: tuple[tuple[str, str], ...]
    stale: bool = False  # the retry is only because the nonce expired


@dataclass(frozen=True)
class Failed:
    """Authentication failed; ``reason`` is meant for the line status and the log."""

    reason: str


@dataclass
class _Entry:
    challenge: DigestChallenge
    nc: int = 0  # requests sent with this nonce so far
    cnonce: str | None = None  # kept for the nonce's lifetime with -sess algorithms
    answered: bool = False  # sent in answer to a challenge; no final response seen since
    stale_retries: int = 0


def _random_cnonce(random: Callable[[int], bytes]) -> Callable[[], str]:
    return lambda: random(16).hex()


@dataclass
class DigestSession:
    """Per-line digest state: the last challenge of each realm and its nonce count."""

    account: AuthAccount
    random: Callable[[int], bytes] = secrets.token_bytes
    keep_authentication: bool = True
    prefer_auth_int: bool = False
    max_stale_retries: int = 3
    _entries: dict[tuple[Kind, str], _Entry] = field(default_factory=dict, init=False, repr=False)

    def preemptive(self, method: str, uri: str, body: bytes = b"") -> tuple[tuple[str, str], ...]:
        """Credentials for a new request from the remembered challenges ("Keep Authentication")."""
        if not self.keep_authentication:
            return ()
        return self._credentials(method, uri, body)

    def on_challenge(
        self, status: int, values: Sequence[str], method: str, uri: str, body: bytes = b""
    ) -> Retry | Failed:
        """Handle a 401 (WWW-Authenticate ``values``) or 407 (Proxy-Authenticate ``values``)."""
        if status not in (401, 407):
            raise ValueError(f"only 401 and 407 carry digest challenges, got {status}")
        kind: Kind = "www" if status == 401 else "proxy"
        found = collect_challenges(values)
        chosen = found.best_per_realm()
        if self.account.realm:
            chosen = {r: ch for r, ch in chosen.items() if r == self.account.realm}
        if not chosen:
            return self._fail(self._nothing_usable(status, kind, found))
        stale = True
        for realm, challenge in chosen.items():
            prev = self._entries.get((kind, realm))
            if prev is not None and not challenge.stale:
                if prev.nc and prev.challenge.nonce == challenge.nonce:
                    return self._fail(self._rejected(status, realm, "the same nonce was challenged again"))
                if prev.answered:
                    return self._fail(self._rejected(status, realm, "the server challenged again"))
            stale_retries = 0
            if challenge.stale:
                stale_retries = (prev.stale_retries if prev else 0) + 1
                if stale_retries > self.max_stale_retries:
                    reason = f"{status} from realm {realm!r}: stale=true {stale_retries} times in a row"
                    return self._fail(reason)
            stale = stale and challenge.stale
            self._entries[(kind, realm)] = _Entry(challenge, answered=True, stale_retries=stale_retries)
        return Retry(self._credentials(method, uri, body), stale=stale)

    def request_done(self) -> None:
        """The request ended with a final response other than 401/407, or timed out."""
        if not self.keep_authentication:
            self._entries.clear()
            return
        for entry in self._entries.values():
            entry.answered = False
            entry.stale_retries = 0

    def forget(self) -> None:
        """Drop every remembered challenge (new server, changed credentials)."""
        self._entries.clear()

    def _credentials(self, method: str, uri: str, body: bytes) -> tuple[tuple[str, str], ...]:
        headers: list[tuple[str, str]] = []
        for (kind, _realm), entry in sorted(self._entries.items(), key=lambda item: item[0][0] == "proxy"):
            entry.nc += 1
            if entry.nc > 0xFFFFFFFF:  # nonce count exhausted: let the server issue a new nonce
                entry.nc = 1
            cnonce = entry.cnonce or _random_cnonce(self.random)()
            if entry.challenge.algorithm.session:
                entry.cnonce = cnonce
            credentials = authorize(
                entry.challenge,
                username=self.account.digest_username,
                password=self.account.password,
                method=method,
                uri=uri,
                cnonce=cnonce,
                nc=entry.nc,
                body=body,
                prefer_auth_int=self.prefer_auth_int,
            )
            headers.append((_CREDENTIAL_HEADER[kind], str(credentials)))
        return tuple(headers)

    def _fail(self, reason: str) -> Failed:
        """Forget the failed chain so the next attempt (after the retry interval) starts clean."""
        self._entries.clear()
        return Failed(reason)

    def _rejected(self, status: int, realm: str, why: str) -> str:
        user = self.account.digest_username
        return f"{status}: credentials for user {user!r} rejected by realm {realm!r} ({why})"

    def _nothing_usable(self, status: int, kind: Kind, found: ChallengeSet) -> str:
        header = _CHALLENGE_HEADER[kind]
        if self.account.realm and found.usable:
            offered = ", ".join(sorted({repr(ch.realm) for ch in found.usable}))
            return (
                f"{status}: no challenge for the configured realm {self.account.realm!r} (offered: {offered})"
            )
        if found.skipped:
            return f"{status}: no usable {header} challenge ({found.reasons()})"
        return f"{status} without a {header} challenge"
