"""A real device with the HTTP API served by uvicorn on 127.0.0.1, for the tests/web/test_api*.py files.

The API router is mounted on a bare FastAPI app (the web app includes the same router), served by
a real uvicorn in the test's event loop so Basic and Digest go over real HTTP, and curl or
schemathesis can talk to it as to a device on the network.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from portier.passwords import hash_password
from portier.settings.records import UserLevel, WebUser
from portier.web.api import api_router
from portier.web.api_auth import remember_digest_keys

from ..interop.device import RunningDevice, running_device
from ..interop.sipp import free_port

ADMIN = ("admin", "admin")
VIEWER = ("viewer", "viewer-secret")
"""A user-level account every rig has (Digest keys stored, as the account page would)."""


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class ApiRig:
    dut: RunningDevice
    url: str

    def client(self, auth: tuple[str, str] | None = ADMIN, **options: Any) -> httpx.AsyncClient:
        """A client with Basic credentials (``auth``) or none, bounded by a 15 s timeout."""
        headers = basic(*auth) if auth else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=15, **options)


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free 127.0.0.1 port until the block ends."""
    port = free_port("tcp")
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name="uvicorn-api-test")
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            await task  # surfaces the startup error
            raise AssertionError(f"uvicorn did not start on 127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            server.force_exit = True
            task.cancel()


@asynccontextmanager
async def api_rig(tmp_path: Path, values: Mapping[str, Any] | None = None) -> AsyncIterator[ApiRig]:
    async with running_device(tmp_path / "dut", values or {}) as dut:
        storage = dut.device.storage
        storage.add(WebUser(name=VIEWER[0], password_hash=hash_password(VIEWER[1]), level=UserLevel.USER))
        remember_digest_keys(storage, *VIEWER)
        app = FastAPI()
        app.include_router(api_router(dut.device))
        async with serve(app) as url:
            yield ApiRig(dut, url)
