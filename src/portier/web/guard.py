"""What every HTTP(S) request meets first: the web filter (manual 9.26) and the browser safety headers.

Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``, so streamed answers (the live log and the
virtual panel's server-sent events) pass through untouched.
"""

from __future__ import annotations

from portier.device import Device

from .redirect import App, Message, Receive, Scope, Send
from .webfilter import allows, ranges

HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
]


class Guard:
    def __init__(self, app: App, device: Device) -> None:
        self.app = app
        self.device = device

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else ""
        enabled = self.device.settings.current.security.web_filter.enable
        if enabled and not allows(enabled, ranges(self.device.storage), address):
            body = (
                f"403 Forbidden: the web filter (Security >> Web filter) does not allow {address}.\n"
            ).encode()
            await send({"type": "http.response.start", "status": 403, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            ]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
