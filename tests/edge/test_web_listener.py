"""The web listener: uvicorn in the device's loop, ticking once a second, stopping when told."""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import Any

import httpx
import pytest

from portier.web import listener
from portier.web.listener import Listener

WAIT = 10.0


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


async def test_answers_with_a_current_date_header_and_stops_without_waiting_for_the_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(listener, "TICK", 60.0)  # a stop that waited for the tick would take a minute
    server = Listener(hello, "127.0.0.1", 0, None)
    await server.open()
    task = server._task
    assert task is not None
    try:
        async with httpx.AsyncClient(timeout=WAIT) as client:
            for _ in range(50):  # the task binds at once but serves after its start-up step
                try:
                    response = await client.get(f"{server.url}/")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
        assert response.status_code == 200 and response.text == "hello"
        date = email.utils.parsedate_to_datetime(response.headers["date"])
        assert abs(date.timestamp() - time.time()) < 5  # the first tick set it, before any wait
    finally:
        await asyncio.wait_for(server.close(), WAIT)
    assert task.done() and not task.cancelled()  # it ended by itself (wake), not cut off after the grace
