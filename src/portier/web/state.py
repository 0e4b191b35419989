"""What the web server remembers between requests: sessions, the login lock, and its clock.

The clock is an attribute (``WebState.clock``) rather than a reading of ``time.monotonic`` inside
the handlers so that tests can move it: a test holds the device in its own process and sets
``device.service("web").state.clock``; no HTTP route can reach it. It is also why the state lives
in the web service and not in the app: restarting the listeners (a new port, HTTPS) keeps everybody
logged in and keeps a lock in force.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from portier.passwords import verify_password
from portier.storage import DEFAULT_ADMIN, Storage

from .auth import Lockout, Sessions
from .sse import Outbox

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class WebState:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.sessions = Sessions()
        self.lockout = Lockout()
        """Wrong passwords of the login page and of the HTTP API (Basic, Digest), counted together."""
        self.streams: set[Outbox] = set()
        """The open live views (server-sent events)."""
        self._default_hash: dict[str, bool] = {}

    def now(self) -> float:
        return self.clock()

    def default_password_in_use(self, storage: Storage) -> bool:
        """Whether the default admin still logs in with the default password (the warning on every
        page). scrypt is slow on purpose, so the answer is remembered per stored hash."""
        name, password = DEFAULT_ADMIN
        user = storage.user(name)
        if user is None:
            return False
        known = self._default_hash.get(user.password_hash)
        if known is None:
            known = verify_password(password, user.password_hash)
            self._default_hash = {user.password_hash: known}
        return known

    def end_streams(self) -> None:
        """End every live view: the listeners are about to close (the browser reconnects later)."""
        for outbox in self.streams:
            outbox.close()
        self.streams.clear()

    def note_password(self, name: str, password: str, hashed: str) -> None:
        """Remember whether a password just stored is the default admin's default one."""
        if name == DEFAULT_ADMIN[0]:
            self._default_hash = {hashed: password == DEFAULT_ADMIN[1]}


_background: set[asyncio.Task[Any]] = set()


def after_response(coroutine: Coroutine[Any, Any, Any], what: str) -> None:
    """Run ``coroutine`` once the current request is answered (reboot, factory reset, listener moves).

    Such actions stop the web server itself, which waits for the request that asked for them: run
    inside the request they would wait on themselves. The task is kept here (so it is not collected
    mid-way) and logged if it fails; the device is what it acts on, so it outlives the web service.
    """

    async def run() -> None:
        try:
            await asyncio.sleep(0.2)  # let the response reach the browser first
        except asyncio.CancelledError:
            coroutine.close()
            raise
        await coroutine

    task = asyncio.get_running_loop().create_task(run(), name=f"web: {what}")
    _background.add(task)

    def done(finished: asyncio.Task[Any]) -> None:
        _background.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            log.error("web: %s failed", what, exc_info=finished.exception())

    task.add_done_callback(done)
