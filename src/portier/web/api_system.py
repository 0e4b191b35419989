"""/api/system/* and /api/config: what the device is, how it runs, restart, configuration file.

``/api/config`` is the manual's System >> Configurations over HTTP: GET exports the Fanvil text
file, PUT imports one (text or XML). An import is all or nothing: any bad line and nothing changes,
and the 400 lists every problem with its line number. Both, and restart, need an administrator.

No ``from __future__ import annotations`` here: FastAPI reads the route annotations at run time.
"""

import asyncio
import logging
import platform
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from portier import MODEL, __version__
from portier.device import Device
from portier.phone.sip_service import device_mac
from portier.settings import fanvil
from portier.settings.document import ConfigErrors, get

from .api_auth import Principal
from .api_common import ERRORS, ApiError, Ok, get_and_post

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 1 << 20


class SystemInfo(BaseModel):
    model: str
    software_version: str
    hardware: str = Field(description="The machine portier runs on (architecture, kernel).")
    python_version: str
    mac: str = Field(description="12 hex digits, as in Fanvil alarm messages.")
    uptime: float = Field(description="Seconds since the device (re)started its services.")


class SystemStatus(BaseModel):
    system_time: float = Field(description="Unix time on the device.")
    uptime: float
    services: list[str] = Field(description="The services running now.")
    settings_problems: list[str] = Field(description="Stored values that failed validation at load.")


class Restart(BaseModel):
    restarting: bool


class ConfigImported(BaseModel):
    changed: list[str] = Field(description="Fanvil keys whose values changed.")
    warnings: list[str] = Field(description="Lines ignored, e.g. keys this device does not know.")


def uptime(device: Device) -> float:
    return 0.0 if device.started_at is None else max(0.0, time.time() - device.started_at)


def system_routes(router: APIRouter, device: Device, user: Any, admin: Any) -> None:
    """Add the system and config routes; ``user``/``admin`` are the two privilege dependencies."""
    restarts: set[asyncio.Task[None]] = set()

    @router.get("/api/system/info", responses=ERRORS, summary="Model, versions, MAC, uptime")
    async def system_info(_: Annotated[Principal, Depends(user)]) -> Ok[SystemInfo]:
        return Ok(result=SystemInfo(
            model=MODEL, software_version=__version__, hardware=f"{platform.machine()} {platform.system()} "
            f"{platform.release()}", python_version=platform.python_version(), mac=device_mac(),
            uptime=uptime(device),
        ))  # fmt: skip

    @router.get("/api/system/status", responses=ERRORS, summary="Time, uptime, running services")
    async def system_status(_: Annotated[Principal, Depends(user)]) -> Ok[SystemStatus]:
        return Ok(result=SystemStatus(
            system_time=time.time(), uptime=uptime(device), services=[s.name for s in device.services],
            settings_problems=list(device.settings.problems),
        ))  # fmt: skip

    @get_and_post(
        router,
        "/api/system/restart",
        responses=ERRORS,
        summary="Restart every service (the manual's Reboot); answers first, then restarts",
    )
    async def system_restart(_: Annotated[Principal, Depends(admin)]) -> Ok[Restart]:
        if restarts:
            raise ApiError(409, "a restart is already under way")

        async def reboot() -> None:
            await asyncio.sleep(0.2)  # let the answer reach the client before the web service stops
            try:
                await device.reboot()
            except Exception:
                log.exception("restart requested over the HTTP API failed")

        # Its own task, not a background task of this request: the reboot stops the web server,
        # which waits for requests in flight, and this one must not be among them.
        task = asyncio.get_running_loop().create_task(reboot(), name="api-restart")
        restarts.add(task)
        task.add_done_callback(restarts.discard)
        return Ok(result=Restart(restarting=True))

    @router.get(
        "/api/config", summary="Export the configuration as a Fanvil text file",
        responses={**ERRORS, 200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                                   "description": "The Fanvil configuration file (CRLF line ends)."}},
        response_class=Response,
    )  # fmt: skip
    async def config_export(_: Annotated[Principal, Depends(admin)]) -> Response:
        text = fanvil.export_text(device.settings.current)
        return Response(
            text,
            media_type="text/plain; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="portier.cfg"'},
        )

    @router.put(
        "/api/config", responses=ERRORS, summary="Import a Fanvil configuration file (all or nothing)",
        openapi_extra={"requestBody": {"required": True, "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        }}},
    )  # fmt: skip
    async def config_import(_: Annotated[Principal, Depends(admin)], request: Request) -> Ok[ConfigImported]:
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_CONFIG_BYTES:
                raise ApiError(413, f"a configuration file is at most {MAX_CONFIG_BYTES} bytes")
        try:
            result = fanvil.import_file(device.settings.current, bytes(data))
            values = {leaf: get(result.settings, leaf) for leaf in result.changed}
            changed = await device.apply_settings(values)
        except ConfigErrors as exc:
            raise ApiError(
                400,
                f"nothing was imported: {len(exc.problems)} problem(s) in the file",
                problems=exc.problems,
            ) from None
        return Ok(result=ConfigImported(changed=[leaf.key for leaf in changed], warnings=result.warnings))
