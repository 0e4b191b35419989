"""One uvicorn server on one socket, run as a task of the device's own event loop.

Why not ``uvicorn.run``: that makes its own loop and takes over SIGINT/SIGTERM, while the device
already owns both (one loop serves SIP, RTP and the web). Why the socket is bound here: a port that
is taken or privileged (80 and 443 need root) is then an ``OSError`` with a sentence, before any
task starts, instead of uvicorn's ``sys.exit`` inside a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable, Generator
from typing import Any

import uvicorn

log = logging.getLogger(__name__)

STOP_GRACE = 3.0
"""Seconds open requests get to finish when the server stops; then they are cut."""


TICK = 1.0
"""Seconds between the server's housekeeping ticks (its Date header, asking whether to stop)."""


class _Server(uvicorn.Server):
    """uvicorn's server in the device's loop: the device's signal handlers, and a tick a second.

    uvicorn wakes ten times a second to refresh its Date header (once a second) and to see whether it
    should stop; on an idle door station those wake-ups were most of the CPU it used. Here the tick
    comes once a second, and ``wake`` ends the wait at once when the server is told to stop.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._woken: asyncio.Future[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the device's own signal handlers stay in charge

    async def main_loop(self) -> None:
        counter = 0
        self._woken = asyncio.get_running_loop().create_future()
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000  # a multiple of 10: each tick refreshes the Date header
            await asyncio.wait([self._woken], timeout=TICK)

    def wake(self) -> None:
        """Tick now (after ``should_exit`` was set), not at the end of the second."""
        if self._woken is not None and not self._woken.done():
            self._woken.set_result(None)


class Listener:
    """``scheme://host:port`` served by ``app``; ``port`` 0 takes a free port (see :attr:`port`)."""

    def __init__(self, app: Callable[..., Any], host: str, port: int, context: ssl.SSLContext | None) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.context = context
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.context is not None else "http"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    async def open(self) -> None:
        """Bind and start serving; raises ``OSError`` (port taken, no permission) and serves nothing."""
        sock = self._bind()
        self.port = int(sock.getsockname()[1])
        context = self.context
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_config=None,
            access_log=False,
            proxy_headers=False,  # the client address is the peer's: the web filter and the lock use it
            server_header=False,
            ws="none",
            timeout_graceful_shutdown=int(STOP_GRACE),
            ssl_context_factory=(lambda _config, _default: context) if context is not None else None,
        )
        self._server = _Server(config)
        self._task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[sock]), name=f"web {self.url}"
        )
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("web server %s died", self.url, exc_info=task.exception())

    async def close(self) -> None:
        """Stop accepting, let open requests finish for a moment, then cut them."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        self._server.wake()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE + 1)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        except Exception:
            pass  # already logged by _ended
        self._server = None
        self._task = None
