"""Action URL (manual 9.19, Table 20): an HTTP GET to a configured URL when something happens.

Why a queue and one worker: the bus handler must return at once (a call must never wait for a
PBX's web server), and servers expect events in the order they happened. The handler only turns
events into ``Trigger``s (``action_url_events``), looks the URL up in the live settings and
queues it with a snapshot of the line it is about; the worker fills in the variables
(``action_url_vars``), requests one URL at a time with a hard deadline, and logs every failure
with the URL and the reason. Nothing here raises into the bus. A full queue (a dead server and a
burst of events) drops the newest request, with a log line.

Settings apply live: the URL is read when the event happens; a changed URL that is not http or
https is reported when it is saved; a changed trust setting rebuilds the HTTPS client; switching
a line's DND or forward on or off is itself an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from portier import MODEL, __version__
from portier.events import Event
from portier.phone.addressing import user_uri
from portier.phone.sip_service import device_mac
from portier.settings.declare import Leaf
from portier.settings.intercom_events import ActionUrl
from portier.settings.schema import Settings
from portier.settings.sip_line import SipLine
from portier.sip.agent import local_ip_toward
from portier.sip.tls import TlsSettings, TlsSettingsError, client_context
from portier.tls_material import trust_certificates

from .action_url_events import TOGGLES, ActionMapper, CallContext, Trigger, toggle_trigger
from .action_url_vars import Account, DeviceInfo, check_url, expand, redact, variables
from .network_watch import NetworkWatch

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

LINES = (1, 2)
SETTINGS = "intercom.action_url."
TRUST = "security.trust_certificates."
TOGGLE_PATHS = tuple(f"lines.sip{n}.{name}" for n in LINES for name in TOGGLES)
URL_FIELDS = tuple(name for name in ActionUrl.model_fields if name != "restrict_active_uri_ip")


def label(field: str) -> str:
    """How the manual and the web page name an Action URL setting ("Call Established")."""
    return f'"{ActionUrl.model_fields[field].title or field}"'


def line_account(settings: Settings, number: int) -> Account:
    """Line ``number``'s identity as its calls present it: ``sip:user@domain[:port]``."""
    line: SipLine = getattr(settings.lines, f"sip{number}")
    host = line.server_name.strip() or line.server1.address.strip()
    port = line.server1.port if line.request_with_port and not line.server_name.strip() else None
    url = user_uri(line.username, host, port=port, convert=line.convert_uri) if host else ""
    return Account(url, line.username, host, line.display_name)


def account_for(settings: Settings, line: int | None) -> Account | None:
    """The account a trigger is about: its line, the first active line by default, none for P2P."""
    if line is None:
        line = next((n for n in LINES if getattr(settings.lines, f"sip{n}").activate), 0)
    return line_account(settings, line) if line in LINES else None


@dataclass(frozen=True)
class Pending:
    """One queued request: the URL as configured and what its variables are taken from."""

    setting: str
    template: str
    account: Account | None
    call: CallContext | None


class ActionUrlService:
    name = "action-url"
    watches: tuple[str, ...] = (SETTINGS, TRUST, *TOGGLE_PATHS)

    QUEUE_SIZE = 64
    REQUEST_TIMEOUT = 3.0
    """Seconds one request may take, connection and answer together."""
    FLUSH_WAIT = 2.0
    """Seconds stopping waits for queued requests (a reboot's own URL) before dropping them."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._mapper = ActionMapper()
        self._queue: asyncio.Queue[Pending] = asyncio.Queue(self.QUEUE_SIZE)
        self._unsubscribe: list[Callable[[], None]] = []
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._client_stale = False

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._unsubscribe = [self.device.bus.subscribe(Event, self._on_event)]
        page = self.device.settings.current.intercom.action_url
        for field in URL_FIELDS:
            self._check_setting(field, str(getattr(page, field)))
        self._worker = asyncio.create_task(self._run(), name="action-url")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        try:
            await asyncio.wait_for(self._queue.join(), self.FLUSH_WAIT)
        except TimeoutError:
            log.warning("Action URL: stopping with %d request(s) not sent", self._queue.qsize())
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def apply(self, changed: list[Leaf]) -> None:
        settings = self.device.settings.current
        for leaf in changed:
            path = leaf.dotted
            if path.startswith(SETTINGS) and leaf.path[-1] in URL_FIELDS:
                field = leaf.path[-1]
                self._check_setting(field, str(getattr(settings.intercom.action_url, field)))
            elif path.startswith(TRUST):
                self._client_stale = True
            elif path in TOGGLE_PATHS:
                line, name = int(leaf.path[1].removeprefix("sip")), leaf.path[2]
                on = bool(getattr(getattr(settings.lines, f"sip{line}"), name))
                self._enqueue(toggle_trigger(line, name, on))

    # --- events to queued requests ----------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        for trigger in self._mapper.triggers(event):
            self._enqueue(trigger)

    def _enqueue(self, trigger: Trigger) -> None:
        settings = self.device.settings.current
        template = str(getattr(settings.intercom.action_url, trigger.setting)).strip()
        if not template:
            return
        pending = Pending(trigger.setting, template, account_for(settings, trigger.line), trigger.call)
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            log.warning(
                "Action URL %s not sent: %d requests are already waiting (%s)",
                label(trigger.setting),
                self.QUEUE_SIZE,
                redact(template),
            )

    def _check_setting(self, field: str, template: str) -> None:
        if not template.strip():
            return
        reason = check_url(expand(template.strip(), {}))
        if reason is not None:
            log.warning("Action URL %s %r will not be requested: %s", label(field), redact(template), reason)

    # --- the worker -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            pending = await self._queue.get()
            try:
                await self._send(pending)
            except Exception:
                log.exception("Action URL %s: unexpected failure", label(pending.setting))
            finally:
                self._queue.task_done()

    async def _send(self, pending: Pending) -> None:
        device = DeviceInfo(device_mac(), await self._address(pending.template), MODEL, __version__)
        url = expand(pending.template, variables(device, pending.account, pending.call))
        shown = f"{label(pending.setting)} {redact(url)}"
        reason = check_url(url)
        if reason is not None:
            log.warning("Action URL %s not requested: %s", shown, reason)
            return
        try:
            async with asyncio.timeout(self.REQUEST_TIMEOUT):
                response = await (await self._http()).get(url)
        except TimeoutError:
            log.warning("Action URL %s failed: no answer within %g s", shown, self.REQUEST_TIMEOUT)
            return
        except httpx.HTTPError as exc:
            log.warning("Action URL %s failed: %s", shown, _reason(exc))
            return
        if response.is_success or response.is_redirect:  # a redirect is an answer; it is not followed
            log.info("Action URL %s: %d", shown, response.status_code)
        else:
            log.warning(
                "Action URL %s failed: the server answered %d %s",
                shown,
                response.status_code,
                response.reason_phrase,
            )

    async def _address(self, template: str) -> str:
        """``$ip``: the device's address as the network watcher knows it (the bound SIP address, else
        the default route's); without one, the address this host sends from to the URL's host."""
        bound = self.device.options.sip_host
        if bound and bound not in ("0.0.0.0", "::"):
            return bound
        with contextlib.suppress(LookupError):
            watch = self.device.service("network")
            if isinstance(watch, NetworkWatch) and watch.address is not None:
                return watch.address
        try:
            host = urlsplit(template).hostname
        except ValueError:
            return ""
        if not host or "$" in host:
            return ""
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(host)
            return local_ip_toward(host)
        try:  # a name: resolving it may block, so not on the loop
            async with asyncio.timeout(self.REQUEST_TIMEOUT):
                return await asyncio.to_thread(local_ip_toward, host)
        except TimeoutError:
            return ""

    async def _http(self) -> httpx.AsyncClient:
        """The client, rebuilt after a trust setting changed (only the worker uses it: none in flight)."""
        if self._client is not None and self._client_stale:
            old, self._client = self._client, None
            await old.aclose()
        if self._client is None:
            self._client = httpx.AsyncClient(
                verify=self._tls(),
                trust_env=False,  # the URL says where to go; no proxy from the environment
                headers={"User-Agent": f"{MODEL} {__version__}"},
                timeout=self.REQUEST_TIMEOUT,
            )
            self._client_stale = False
        return self._client

    def _tls(self) -> ssl.SSLContext | bool:
        trust = self.device.settings.current.security.trust_certificates
        try:
            return client_context(
                TlsSettings(
                    trust_pems=trust_certificates(self.device.storage),
                    verify_peer=trust.verify_server,
                    check_hostname=trust.verify_server and trust.verify_common_name,
                )
            )
        except TlsSettingsError as exc:
            log.warning("Action URL: %s; HTTPS servers are checked against the system's CAs", exc)
            return True


def _reason(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({text})"
    return text
