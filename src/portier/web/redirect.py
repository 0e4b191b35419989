"""The HTTP port when "Web server type" is HTTPS: every request is sent on to the HTTPS port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import URL, Headers
from starlette.responses import RedirectResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def https_redirect(https_port: int) -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        url = URL(scope=scope)
        host = Headers(scope=scope).get("host", "").rsplit(":", 1)[0] or (url.hostname or "localhost")
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        target = url.replace(scheme="https", netloc=f"{host}:{https_port}")
        await RedirectResponse(str(target), status_code=301)(scope, receive, send)

    return app
