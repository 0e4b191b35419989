"""Server-sent events (the live views: virtual panel, device log) as plain ``text/event-stream``.

A stream reads from an :class:`Outbox` that a publisher (a bus handler, the device log) fills
without waiting: it is bounded, and a stream that falls behind loses the oldest messages and is
told how many. Streams end when the browser goes (Starlette cancels the response), and when the
web service stops or moves its listeners (``WebState.end_streams``): an open stream would
otherwise hold up the server's shutdown for its whole grace time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from starlette.responses import StreamingResponse

HEARTBEAT = 15.0
"""Seconds between comments on a quiet stream, so proxies and the browser keep it open."""
RETRY_MS = 2000
LIMIT = 1000


def message(data: str, *, event: str | None = None, ident: int | None = None) -> str:
    """One SSE message; ``data`` may hold newlines (each line becomes a ``data:`` field)."""
    head = (f"event: {event}\n" if event else "") + (f"id: {ident}\n" if ident is not None else "")
    return head + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"


def json_message(value: Any, *, event: str) -> str:
    return message(json.dumps(value, separators=(",", ":")), event=event)


class Outbox:
    """Messages waiting for one stream; ``put`` never blocks (the oldest goes when it is full)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(limit)
        self.lost = 0

    def put(self, chunk: str) -> None:
        while True:
            try:
                self._queue.put_nowait(chunk)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.lost += 1

    def close(self) -> None:
        """End the stream after what is queued (or, when full, after what fits)."""
        while True:
            try:
                self._queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()

    async def get(self, timeout: float) -> str | None:
        """The next message, ``""`` when none came within ``timeout``, None at the end."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return ""


def stream(
    outbox: Outbox,
    first: Iterable[str],
    on_close: Callable[[], None],
    *,
    lost_event: str = "lost",
) -> StreamingResponse:
    """The response that sends ``first``, then what arrives in ``outbox`` until either side ends;
    ``on_close`` runs when it ends (unsubscribe the publisher there)."""

    async def body() -> AsyncIterator[str]:
        try:
            yield f"retry: {RETRY_MS}\n\n"
            for chunk in first:
                yield chunk
            while True:
                waiting = await outbox.get(HEARTBEAT)
                if waiting is None:
                    return
                if outbox.lost:
                    yield message(str(outbox.lost), event=lost_event)
                    outbox.lost = 0
                yield waiting or ": keep-alive\n\n"
        finally:
            on_close()

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)
