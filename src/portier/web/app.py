"""The web application: management pages (chapter 9), static files, and the HTTP API's router.

Errors never show a stack trace: a missing login redirects to the login page, a refused request
gets a page (or, under /api, a JSON body) with a sentence, and anything unexpected is logged and
answered with a short 500 page.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from portier import __version__
from portier.device import Device

from .api import api_router
from .api_common import ApiError
from .deps import Forbidden, LoginRequired
from .guard import Guard
from .pages import configurations, login, panel, records, settings, system, tools, webdial
from .render import render
from .state import WebState

log = logging.getLogger(__name__)


def create_app(device: Device, state: WebState | None = None) -> FastAPI:
    """The ASGI app of ``device``; ``state`` (sessions, lock, clock) is kept by the web service across
    listener restarts, and made fresh when not given."""
    app = FastAPI(title="portier", version=__version__, docs_url=None, redoc_url=None)
    app.state.device = device
    app.state.web = state or WebState()
    app.mount("/static", StaticFiles(packages=[("portier.web", "static")]), name="static")
    for module in (login, system, configurations, webdial, records, panel, tools, settings):
        app.include_router(module.router)
    app.include_router(api_router(device, state=app.state.web))

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.method != "GET":
            return PlainTextResponse("403 Forbidden: log in first.\n", status_code=403)
        query = {"next": request.url.path + (f"?{request.url.query}" if request.url.query else "")}
        if exc.expired:
            query["expired"] = "1"
        return RedirectResponse(f"/login?{urlencode(query)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "message.html", 403, title="Not allowed", text=f"Not allowed: {exc}.")

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> Response:
        log.exception("web: %s %s failed", request.method, request.url.path)
        text = f"{type(exc).__name__}: {exc}"
        if request.url.path.startswith("/api/"):
            return ApiError(500, f"{text}; the device log has the details").response()
        return PlainTextResponse(f"500 Internal Server Error: {text}\nThe device log has the details.\n", 500)

    app.add_middleware(Guard, device=device)
    return app
