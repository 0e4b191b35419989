"""The device service ``web``: the management pages and the HTTP API on HTTP or HTTPS (manual 9.9).

"Web server type" picks the protocol: HTTP serves on the HTTP port; HTTPS serves on the HTTPS port
with the device certificate (a self-signed one is made on first start) and the HTTP port answers
with a redirect to it. ``--http HOST:PORT`` moves the HTTP listener for one run (the HTTPS one then
listens on the same host); without it the server listens on all addresses.

A port that cannot be bound (taken, or below 1024 without root) is logged with what to do, and the
device runs on without its web pages. Changing a port, the server type or the device certificate
moves the listeners after the response to the change has gone out.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from portier.settings.declare import Leaf
from portier.settings.network import WebServerType
from portier.sip.tls import TlsSettings, TlsSettingsError, server_context
from portier.tls_material import device_certificate

from .app import create_app
from .listener import Listener
from .redirect import https_redirect
from .state import WebState

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

ALL_ADDRESSES = "0.0.0.0"
RESTART_ON = (
    "network.ports.web_server_type",
    "network.ports.http_port",
    "network.ports.https_port",
    "security.device_certificates.",
)


@dataclass(frozen=True)
class Plan:
    """What the listeners serve; they move only when this changes."""

    host: str
    http_port: int
    https_port: int | None = None
    cert: bytes | None = None
    key: bytes | None = None


class WebService:
    name = "web"
    watches: tuple[str, ...] = RESTART_ON

    def __init__(self, device: Device) -> None:
        self.device = device
        self.state = WebState()
        self.app: Any = None
        self.listeners: list[Listener] = []
        self._moving: asyncio.Task[None] | None = None
        self._serving: Plan | None = None

    @property
    def urls(self) -> list[str]:
        """Where the server listens now (e.g. ``http://127.0.0.1:8080``); tests read the port here."""
        return [listener.url for listener in self.listeners]

    @property
    def moving(self) -> bool:
        """Listeners are about to move (a port, the server type or the certificate changed)."""
        return self._moving is not None and not self._moving.done()

    async def start(self) -> None:
        # The self-signed certificate is made on the first start, whatever the server type, so that
        # Security >> Device Certificates shows the one HTTPS (and SIP over TLS) will present.
        device_certificate(self.device.storage, self.device.settings.current.security)
        self.app = create_app(self.device, self.state)
        await self._open()

    async def stop(self) -> None:
        if self._moving is not None:
            self._moving.cancel()
            self._moving = None
        self.state.end_streams()
        await self._close()
        self.state.sessions.clear()

    async def apply(self, changed: list[Leaf]) -> None:
        if self._plan() == self._serving:
            return  # e.g. a new HTTP port while --http holds the listener, or a certificate while on HTTP
        # The change was saved by a request this server is still answering: closing the listeners
        # now would wait on that very request, so they move once it is answered.
        if self._moving is None or self._moving.done():
            self._moving = asyncio.get_running_loop().create_task(self._move(), name="web: move listeners")

    async def _move(self) -> None:
        await asyncio.sleep(0.2)
        self.state.end_streams()
        await self._close()
        await self._open()

    async def _close(self) -> None:
        listeners, self.listeners = self.listeners, []
        for listener in listeners:
            await listener.close()

    def _plan(self) -> Plan:
        ports = self.device.settings.current.network.ports
        host, http_port = self.device.options.http or (ALL_ADDRESSES, ports.http_port)
        if ports.web_server_type is not WebServerType.HTTPS:
            return Plan(host, http_port)
        cert, key = device_certificate(self.device.storage, self.device.settings.current.security)
        return Plan(host, http_port, ports.https_port, cert, key)

    async def _open(self) -> None:
        plan = self._serving = self._plan()
        if plan.https_port is not None:
            try:
                context = server_context(TlsSettings(certificate_pem=plan.cert, key_pem=plan.key))
            except TlsSettingsError as exc:
                log.error("web: HTTPS is chosen but %s; serving HTTP instead", exc)
            else:
                if await self._listen(Listener(self.app, plan.host, plan.https_port, context)):
                    await self._listen(
                        Listener(https_redirect(plan.https_port), plan.host, plan.http_port, None)
                    )
                    return
                log.error("web: serving HTTP on port %d instead, so the pages stay reachable", plan.http_port)
        await self._listen(Listener(self.app, plan.host, plan.http_port, None))

    async def _listen(self, listener: Listener) -> bool:
        try:
            await listener.open()
        except OSError as exc:
            hint = " (ports below 1024 need root)" if listener.port < 1024 else ""
            log.error(
                "web: cannot listen on %s%s: %s; the web pages are unreachable. Choose another port under "
                "Network >> Service Port, or run with --http HOST:PORT",
                listener.url, hint, exc.strerror or exc,
            )  # fmt: skip
            return False
        self.listeners.append(listener)
        log.info("web: serving %s", listener.url)
        return True
