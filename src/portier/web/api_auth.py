"""Who is calling the HTTP API: Basic or Digest credentials checked against the web users.

Privileges follow the user's level (System >> Account): an *administrator* may use every route;
a *user* may read status, control calls, switches and outputs, and read the event log, but may not
export or import the configuration (it holds SIP passwords) nor restart the device.

Basic checks the password against the user's scrypt hash (in a worker thread: scrypt is slow on
purpose); a right answer is remembered for the process as an HMAC under a random key, so an
integrator polling every second does not pay scrypt each time. Digest needs HA1 values
(:mod:`.api_digest`), which a salted hash cannot give; they are kept per user in the
``http_digest_keys`` table, bound to the password hash they were made with, so a changed password
silently invalidates them. They are written when a password is set (:func:`remember_digest_keys`,
for the account pages), when a Basic login succeeds, and, for the factory ``admin``/``admin``,
when Digest is first tried with it. A user whose keys are missing can use Basic once to enable
Digest. Storing HA1 is the price of Digest (RFC 7616 §5.2): it is password-equivalent for this
realm, and faster to attack than the scrypt hash.

Wrong passwords count in the same lock as the login page's (``WebState.lockout``): "Login
attempts" wrong answers in a row from one address, or for one user name, lock both the API and the
web login for "Lock time" (Network >> Service Port); a locked request gets 429 with Retry-After
before its password is even checked. A request without credentials, unreadable ones, or a Digest
answer for a user whose keys are not stored yet is not a wrong password and is not counted.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request, Security
from fastapi.security.http import HTTPBase

from portier.passwords import hash_password, verify_password
from portier.settings.network import ServicePort
from portier.settings.records import UserLevel, WebUser
from portier.storage import DEFAULT_ADMIN, Storage

from .api_common import ApiError
from .api_digest import REALM, DigestAnswer, DigestRefused, NonceTable, challenges, ha1
from .state import WebState

_TABLE = """CREATE TABLE IF NOT EXISTS http_digest_keys (
    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, realm TEXT NOT NULL,
    md5 TEXT NOT NULL, sha256 TEXT NOT NULL)"""
_COLUMNS = {"MD5": "md5", "SHA-256": "sha256"}

BASIC = HTTPBase(
    scheme="basic",
    scheme_name="Basic",
    auto_error=False,
    description="The web user name and password (System >> Account).",
)
DIGEST = HTTPBase(
    scheme="digest",
    scheme_name="Digest",
    auto_error=False,
    description="RFC 7616 Digest (SHA-256 or MD5, qop=auth) with the web user's password.",
)


@dataclass(frozen=True)
class Principal:
    name: str
    level: UserLevel


def remember_digest_keys(storage: Storage, name: str, password: str) -> None:
    """Store the Digest HA1 values of ``name``'s current password (call after saving the password)."""
    user = storage.user(name)
    if user is not None and verify_password(password, user.password_hash):
        _store_keys(storage, user, password)


def _store_keys(storage: Storage, user: WebUser, password: str) -> None:
    """Write the HA1 values of a password already checked against ``user``'s hash."""
    name = user.name
    with storage.transaction() as db:
        db.execute(_TABLE)
        db.execute(
            "INSERT OR REPLACE INTO http_digest_keys (name, password_hash, realm, md5, sha256) "
            "VALUES (?, ?, ?, ?, ?)",
            (name, user.password_hash, REALM, ha1("MD5", name, password), ha1("SHA-256", name, password)),
        )


def _stored_key(storage: Storage, user: WebUser, algorithm: str) -> str | None:
    column = _COLUMNS[algorithm]
    with storage.transaction() as db:
        db.execute(_TABLE)
        row = db.execute(
            f"SELECT {column} FROM http_digest_keys WHERE name = ? AND password_hash = ? AND realm = ?",
            (user.name, user.password_hash, REALM),
        ).fetchone()
    return None if row is None else str(row[0])


class ApiAuth:
    """Checks each request's credentials; ``require(level)`` makes the FastAPI dependency."""

    def __init__(
        self,
        storage: Callable[[], Storage],
        clock: Callable[[], float] = time.time,
        *,
        state: WebState | None = None,
        ports: Callable[[], ServicePort] | None = None,
    ) -> None:
        """``state`` holds the login lock shared with the web pages and ``ports`` gives its settings;
        without both, wrong passwords are not counted."""
        self._storage = storage
        self._clock = clock
        self._state = state
        self._ports = ports
        self._nonces = NonceTable()
        self._secret = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._tried_default: set[str] = set()
        self._keys: dict[tuple[str, str, str], str] = {}

    def require(self, level: UserLevel) -> Callable[..., Awaitable[Principal]]:
        async def dependency(
            request: Request,
            _basic: object = Security(BASIC),
            _digest: object = Security(DIGEST),
        ) -> Principal:
            principal = await self.authenticate(request)
            if level is UserLevel.ADMIN and principal.level is not UserLevel.ADMIN:
                raise ApiError(403, f"user {principal.name!r} is not an administrator; this needs one")
            return principal

        return dependency

    async def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.strip().partition(" ")
        address = request.client.host if request.client else ""
        if scheme.lower() == "basic":
            return await self._basic(credentials.strip(), address)
        if scheme.lower() == "digest":
            return await self._digest(credentials, request.method, _request_target(request), address)
        raise self.unauthorized("credentials are required (HTTP Basic or Digest with a web user)")

    # --- the login lock shared with the web pages ---------------------------------------------------

    def _check_lock(self, address: str, name: str) -> None:
        if self._state is None:
            return
        locked = self._state.lockout.locked(address, name, self._state.now())
        if locked is not None:
            why, remaining = locked
            raise ApiError(
                429,
                f"too many wrong passwords: logins {_who(why, name)} are locked for {_minutes(remaining)} "
                "more (Web Lock Time)",
                headers=[("Retry-After", str(int(remaining) + 1))],
            )

    def _wrong(self, address: str, name: str) -> ApiError:
        """Count a wrong password; the 401 to answer, saying when it locked the login."""
        why = "wrong user name or password"
        if self._state is not None and self._ports is not None:
            ports = self._ports()
            lock = ports.lock_time * 60.0
            locked = self._state.lockout.failed(
                address, name, self._state.now(), attempts=ports.login_attempts, lock_seconds=lock
            )
            if locked:
                what = " and ".join(_who(item, name) for item in locked)
                why += f"; too many wrong passwords: logins {what} are locked for {_minutes(lock)}"
        return self.unauthorized(why)

    def _right(self, address: str, name: str) -> None:
        if self._state is not None:
            self._state.lockout.succeeded(address, name)

    def unauthorized(self, why: str, *, stale: bool = False) -> ApiError:
        nonce = self._nonces.issue(self._clock())
        headers = [("WWW-Authenticate", value) for value in challenges(nonce, stale=stale)]
        return ApiError(401, why, headers=headers)

    async def _basic(self, credentials: str, address: str) -> Principal:
        try:
            name, colon, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise self.unauthorized("the Basic credentials are not base64 of UTF-8 user:password") from None
        self._check_lock(address, name)
        user = self._storage().user(name) if colon else None
        if user is None:
            # as slow as a wrong password, so the answer's timing does not tell which names exist
            await asyncio.to_thread(lambda: verify_password(password, _decoy_hash()))
        if user is None or not await self._password_ok(user, password):
            raise self._wrong(address, name)
        self._right(address, name)
        if self._key(user, "SHA-256") is None:
            _store_keys(self._storage(), user, password)
        return Principal(user.name, user.level)

    async def _password_ok(self, user: WebUser, password: str) -> bool:
        mark = hmac.new(
            self._secret, f"{user.name}\0{user.password_hash}\0{password}".encode(), hashlib.sha256
        )
        key = mark.digest()
        if key in self._verified:
            self._verified.move_to_end(key)
            return True
        if not await asyncio.to_thread(verify_password, password, user.password_hash):
            return False
        self._verified[key] = None
        while len(self._verified) > 256:
            self._verified.popitem(last=False)
        return True

    async def _digest(self, credentials: str, method: str, target: str, address: str) -> Principal:
        try:
            answer = DigestAnswer.parse(credentials)
        except DigestRefused as exc:
            raise self.unauthorized(str(exc)) from None
        self._check_lock(address, answer.username)
        if answer.realm != REALM:
            raise self.unauthorized(f"the Digest realm must be {REALM!r}")
        if answer.uri != target:
            raise ApiError(400, f"the Digest uri {answer.uri!r} is not this request's target {target!r}")
        user = self._storage().user(answer.username)
        key = await self._digest_key(user, answer.algorithm) if user else None
        if user is not None and key is None:
            raise self.unauthorized(
                f"Digest is not ready for {user.name!r}: log in once with Basic or set the password again"
            )
        if user is None or key is None or not answer.matches(key, method):
            raise self._wrong(address, answer.username)
        if not self._nonces.use(answer.nonce, answer.nc, self._clock()):
            raise self.unauthorized(
                "the nonce is stale or was used with this count; answer the new one", stale=True
            )
        self._right(address, user.name)
        return Principal(user.name, user.level)

    async def _digest_key(self, user: WebUser, algorithm: str) -> str | None:
        key = self._key(user, algorithm)
        if key is None and user.name == DEFAULT_ADMIN[0] and user.password_hash not in self._tried_default:
            self._tried_default.add(user.password_hash)
            if await self._password_ok(user, DEFAULT_ADMIN[1]):
                _store_keys(self._storage(), user, DEFAULT_ADMIN[1])
                key = self._key(user, algorithm)
        return key

    def _key(self, user: WebUser, algorithm: str) -> str | None:
        """The stored HA1, memoised per password hash (a new password has a new hash)."""
        memo = (user.name, user.password_hash, algorithm)
        key = self._keys.get(memo)
        if key is None:
            key = _stored_key(self._storage(), user, algorithm)
            if key is not None:
                self._keys[memo] = key
        return key


def _who(what: str, name: str) -> str:
    return "from your address" if what == "address" else f"as {name or 'this user'}"


def _minutes(seconds: float) -> str:
    whole = max(1, round(seconds / 60))
    return f"{whole} minute{'s' if whole != 1 else ''}"


@functools.cache
def _decoy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _request_target(request: Request) -> str:
    """The request-target as the client sent it (what a Digest ``uri`` must equal)."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path
