"""Web logins (manual 9.1, 9.3, Table 13): sessions, idle timeout, and the wrong-password lock.

Sans-IO: every method takes ``now`` (seconds on the web state's clock), so the 5-minute lock and the
15-minute timeout are tested by moving a clock, not by waiting.

Why two lock keys: the manual locks an address that tries several user names (a password sprayer)
and a user name tried from several addresses (a distributed guesser). Counting both with one rule
("N wrong in a row, then locked for T") covers both; a correct login clears both counters.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field

from portier.settings.records import UserLevel

MAX_SESSIONS = 64
"""A device serves a handful of browsers; the oldest session goes when a 65th logs in."""

MAX_LOCK_ENTRIES = 4096
"""Bounded memory however many user names and addresses a scanner tries."""


@dataclass
class Session:
    token: str
    user: str
    level: UserLevel
    csrf: str
    """The token every form of this session carries (session-bound CSRF protection)."""
    last_seen: float
    renewed: int = 0
    """How often "Web page automatic login" renewed it after a timeout."""

    @property
    def admin(self) -> bool:
        return self.level is UserLevel.ADMIN


@dataclass(frozen=True)
class Lookup:
    session: Session | None
    expired: bool = False
    """A session with this token existed but timed out (the login page says so)."""


class Sessions:
    """Logged-in browsers by cookie token; in memory, so a reboot logs everybody out."""

    def __init__(self) -> None:
        self._by_token: OrderedDict[str, Session] = OrderedDict()

    def create(self, user: str, level: UserLevel, now: float) -> Session:
        session = Session(secrets.token_urlsafe(32), user, level, secrets.token_urlsafe(32), now)
        self._by_token[session.token] = session
        while len(self._by_token) > MAX_SESSIONS:
            self._by_token.popitem(last=False)
        return session

    def lookup(self, token: str | None, now: float, *, timeout: float, auto_login: bool) -> Lookup:
        """The session of ``token``, touched; an idle one past ``timeout`` is dropped, or renewed when
        "Web page automatic login" is on."""
        session = self._by_token.get(token or "")
        if session is None:
            return Lookup(None)
        if now - session.last_seen > timeout:
            if not auto_login:
                del self._by_token[session.token]
                return Lookup(None, expired=True)
            session.renewed += 1
        session.last_seen = now
        self._by_token.move_to_end(session.token)
        return Lookup(session)

    def drop(self, token: str | None) -> None:
        self._by_token.pop(token or "", None)

    def drop_user(self, user: str, *, keep: str | None = None) -> None:
        """Log a user out everywhere (password changed, user deleted), except the session ``keep``."""
        for token, session in list(self._by_token.items()):
            if session.user == user and token != keep:
                del self._by_token[token]

    def clear(self) -> None:
        self._by_token.clear()

    def __len__(self) -> int:
        return len(self._by_token)


@dataclass
class _Counter:
    failures: int = 0
    locked_until: float = 0.0


@dataclass
class Lockout:
    """Wrong passwords per source address and per user name (case-folded, so ``Admin`` counts too)."""

    _counters: OrderedDict[str, _Counter] = field(default_factory=OrderedDict)

    @staticmethod
    def _keys(address: str, user: str) -> tuple[str, str]:
        return f"ip {address}", f"user {user.casefold()}"

    def locked(self, address: str, user: str, now: float) -> tuple[str, float] | None:
        """Why and for how many more seconds a login from ``address`` as ``user`` is refused, if it is."""
        ip_key, user_key = self._keys(address, user)
        for key, why in ((ip_key, "address"), (user_key, "user name")):
            counter = self._counters.get(key)
            if counter is not None and counter.locked_until > now:
                return why, counter.locked_until - now
        return None

    def failed(
        self, address: str, user: str, now: float, *, attempts: int, lock_seconds: float
    ) -> tuple[str, ...]:
        """Count a wrong password; what it locked: ``"address"``, ``"user name"``, both or neither."""
        locked: list[str] = []
        for key, what in zip(self._keys(address, user), ("address", "user name"), strict=True):
            counter = self._counters.pop(key, None) or _Counter()
            if counter.locked_until and counter.locked_until <= now:
                counter = _Counter()  # the lock ran out: start counting afresh
            counter.failures += 1
            if counter.failures >= attempts:
                counter.failures = 0
                counter.locked_until = now + lock_seconds
                locked.append(what)
            self._counters[key] = counter
        while len(self._counters) > MAX_LOCK_ENTRIES:
            self._counters.popitem(last=False)
        return tuple(locked)

    def succeeded(self, address: str, user: str) -> None:
        for key in self._keys(address, user):
            self._counters.pop(key, None)
