"""The HTTP API (2N-style, manual chapter 10 over HTTP) and the Fanvil Active URI, as one router.

Routes (each answers ``{"success": true, "result": ...}`` or the error envelope of
:mod:`.api_common`; privileges in :mod:`.api_auth`):

- ``/api/system/info|status`` (user), ``/api/system/restart`` (admin), ``/api/config`` GET/PUT (admin)
- ``/api/switch/caps|status|ctrl|uri`` (``uri``: "Trigger by URI"), ``/api/io/caps|status|ctrl``
  (user): :mod:`.api_door`
- ``/api/call/status|dial|answer|hangup``, ``/api/phone/status`` (user): :mod:`.api_calls`
- ``/api/log/caps|subscribe|pull|unsubscribe`` (user): :mod:`.api_log`
- ``/cgi-bin/ConfigManApp.com`` (user, from allowed hosts): :mod:`.active_uri`

Any other path under ``/api/`` is a 404 (or 405 for a known path with another method) in the same
JSON envelope, so an integrator's typo never lands on a web page.

No ``from __future__ import annotations`` here: FastAPI reads the route annotations at run time.
"""

import time
import weakref

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from portier.device import Device
from portier.events import DeviceStopping, Event, EventBus
from portier.settings.records import UserLevel

from .active_uri import active_uri_routes
from .api_auth import ApiAuth
from .api_calls import call_routes
from .api_common import ApiError, ApiRoute
from .api_door import door_routes
from .api_log import log_routes
from .api_system import system_routes
from .event_history import EventHistory
from .state import WebState


def record_events(bus: EventBus, history: EventHistory) -> None:
    """Feed every event on ``bus`` to ``history`` for as long as something else keeps ``history``
    (an app the web service rebuilds leaves no subscriber behind); DeviceStopping also answers the
    waiting long polls, so they do not hold up the web server's shutdown."""
    ref = weakref.ref(history)

    def record(event: Event) -> None:
        target = ref()
        if target is None:
            unsubscribe()
        else:
            target.record(event, time.time())
            if isinstance(event, DeviceStopping):
                target.interrupt()

    unsubscribe = bus.subscribe(Event, record)


METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def api_router(
    device: Device, *, history: EventHistory | None = None, state: WebState | None = None
) -> APIRouter:
    """Return the router serving /api/* and the Active URI for ``device``.

    The router records every event on the device's bus from now on (for /api/log/pull), until it
    is dropped; pass a ``history`` fed by :func:`record_events` to share one across app rebuilds.
    ``state`` is the web pages' (its login lock counts the API's wrong passwords too); a bare API
    gets one of its own.
    """
    if history is None:
        history = EventHistory()
        record_events(device.bus, history)
    auth = ApiAuth(
        lambda: device.storage, state=state or WebState(), ports=lambda: device.settings.current.network.ports
    )
    user = auth.require(UserLevel.USER)
    admin = auth.require(UserLevel.ADMIN)
    router = APIRouter(route_class=ApiRoute, tags=["api"])
    system_routes(router, device, user, admin)
    door_routes(router, device, user)
    call_routes(router, device, user)
    log_routes(router, device, history, user)
    active_uri_routes(router, device, user)

    catch_all = "/api/{rest:path}"

    @router.api_route(catch_all, methods=METHODS, include_in_schema=False)
    async def unknown(request: Request, rest: str) -> JSONResponse:
        path = request.url.path
        allowed = sorted(
            {method for route in router.routes
             if isinstance(route, APIRoute) and route.path != catch_all and route.path_regex.match(path)
             for method in route.methods or ()}
        )  # fmt: skip
        if allowed:
            why = f"{request.method} is not allowed here; use {', '.join(allowed)}"
            return ApiError(405, why, headers=[("Allow", ", ".join(allowed))]).response()
        return ApiError(404, f"no API route /api/{rest}; the routes are listed in /openapi.json").response()

    return router
