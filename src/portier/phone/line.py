"""One running SIP line: the registration machine driven on the device's loop.

The machine (``registration.py``) says what to send and when; this edge resolves the server
(RFC 3263), writes the REGISTER with the agent's addresses, awaits the final response and feeds
it back, sends keep-alives, and publishes every status change on the bus. It also learns the
public address from ``received``/``rport`` (RFC 3581) or from STUN and re-registers with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from portier.events import LineStatusChanged
from portier.phone.register_request import build_register, granted_expiry, line_contact, route_for
from portier.phone.registration import (
    Action,
    LineStatus,
    Purpose,
    Registration,
    SendKeepAlive,
    SendRegister,
    StatusChanged,
)
from portier.phone.registration_config import RegistrationConfig
from portier.phone.stun_client import stun_binding
from portier.settings.choices import KeepAliveType
from portier.sip.agent import RequestFailed, UserAgent
from portier.sip.ids import new_branch, new_call_id, new_tag
from portier.sip.message import Header, SipRequest, SipResponse
from portier.sip.resolve import ResolveError, locate
from portier.sip.stun import BindingFailed
from portier.sip.transport import Endpoint
from portier.sip.uri import parse_uri

log = logging.getLogger(__name__)

UNREGISTER_WAIT = 2.0
"""How long stopping a line waits for the registrar to confirm the unregistration."""


@dataclass(frozen=True)
class LineState:
    """What System >> Information shows for a line."""

    line: int
    status: LineStatus
    reason: str
    server: str
    contact: str
    expires: int
    public: str = ""
    """The public address learned by STUN or from the registrar's received/rport, if any."""


class Line:
    def __init__(
        self,
        config: RegistrationConfig,
        agent: UserAgent,
        publish: Callable[[LineStatusChanged], None],
        *,
        public_address: tuple[str, int] | None = None,
    ) -> None:
        self.config = config
        self.agent = agent
        self.machine = Registration(config)
        self._publish = publish
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._public = public_address
        self._contact = ""
        self._destination: Endpoint | None = None
        self._stun_task: asyncio.Task[None] | None = None

    @property
    def state(self) -> LineState:
        machine = self.machine
        server = str(self.config.servers[machine.server]) if self.config.servers else ""
        public = f"{self._public[0]}:{self._public[1]}" if self._public else ""
        return LineState(
            self.config.line, machine.status, machine.reason, server, self._contact, machine.granted, public
        )

    def destination(self) -> Endpoint | None:
        """Where the line's requests go now (registrar or outbound proxy), once one was resolved."""
        return self._destination

    def set_public_address(self, address: tuple[str, int] | None) -> None:
        """STUN learned (or lost) the public address: register it if it changed."""
        if address != self._public:
            self._public = address
            self._execute(self.machine.refresh_now(self._loop.time()))

    async def start(self) -> None:
        if self.config.stun is not None:
            await self._stun_once()  # "SIP Waiting Time" bounds how long registration waits for it
        self._execute(self.machine.start(self._loop.time()))
        self._runner = self._loop.create_task(self._run(), name=f"line{self.config.line}")
        if self.config.stun is not None:
            self._stun_task = self._loop.create_task(
                self._stun_refresh(), name=f"line{self.config.line}-stun"
            )

    async def stop(self) -> None:
        if self._stun_task is not None:
            self._stun_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stun_task
            self._stun_task = None
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        actions = self.machine.stop(self._loop.time())
        unregister = [a for a in actions if isinstance(a, SendRegister)]
        self._execute([a for a in actions if not isinstance(a, SendRegister)])
        if unregister:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._register(unregister[0]), UNREGISTER_WAIT)

    # --- STUN ---------------------------------------------------------------------------------------

    async def _stun_once(self) -> None:
        assert self.config.stun is not None
        host, port = self.config.stun
        result = await stun_binding(self.agent, host, port, timeout=self.config.stun_wait)
        if isinstance(result, BindingFailed):
            log.warning("SIP%d STUN: %s; registering with the local address", self.config.line, result.reason)
            return
        mapped = (result.mapped_host, result.mapped_port)
        if mapped != self._public:
            log.info("SIP%d STUN: public address %s:%d", self.config.line, *mapped)
            self.set_public_address(mapped)

    async def _stun_refresh(self) -> None:
        """ "Binding Period": refresh the mapping (which also keeps the NAT pinhole open)."""
        while True:
            await asyncio.sleep(self.config.stun_period)
            await self._stun_once()

    # --- the loop ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            deadline = self.machine.next_deadline()
            self._wake.clear()
            timeout = None if deadline is None else max(deadline - self._loop.time(), 0.0)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._execute(self.machine.handle_timer(self._loop.time()))

    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, StatusChanged):
                self._report(action)
            elif isinstance(action, SendRegister):
                self._spawn(self._register(action))
            elif isinstance(action, SendKeepAlive):
                self._spawn(self._keepalive())
        self._wake.set()

    def _spawn(self, coroutine: object) -> None:
        task: asyncio.Task[None] = self._loop.create_task(coroutine)  # type: ignore[arg-type]
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    def _report(self, change: StatusChanged) -> None:
        server = str(self.config.servers[change.server]) if self.config.servers else ""
        level = logging.INFO if change.status is not LineStatus.FAILED else logging.WARNING
        log.log(level, "SIP%d %s %s %s", self.config.line, change.status, server, change.reason)
        self._publish(LineStatusChanged(self.config.line, str(change.status), change.reason, server))

    # --- sending ----------------------------------------------------------------------------------

    async def _destinations_for(self, server: int) -> list[Endpoint]:
        """Where requests for ``server`` go, in RFC 3263 order: its outbound proxy when one is set."""
        target = self.config.servers[server]
        if self.config.proxies:
            proxy = self.config.proxies[min(server, len(self.config.proxies) - 1)]
            host, port = proxy.host, proxy.port
        else:
            host, port = target.host, target.port
        secure = target.transport == "TLS"
        found = await locate(
            host, port, target.transport, self.config.dns_mode, secure=secure, supported=("TLS", "TCP", "UDP")
        )
        return [Endpoint(t.transport, t.host, t.port) for t in found]

    async def _register(self, action: SendRegister) -> None:
        now = self._loop.time
        try:
            destinations = await self._destinations_for(action.server)
        except ResolveError as exc:
            self._execute(self.machine.on_failure(f"cannot resolve the server: {exc}", False, now()))
            return
        result: SipResponse | RequestFailed = RequestFailed("no address for the server", False)
        for destination in destinations:  # RFC 3263 §4.3: the next target when one does not answer
            self._destination = destination
            host, port = self._public or self.agent.contact_address(destination)
            contact = line_contact(self.config, host, port, destination.transport)
            request = build_register(
                self.config,
                action,
                via=self.agent.make_via(destination, rport=self.config.rport),
                contact_value=contact,
                route=route_for(self.config, action.server) if self.config.proxies else None,
            )
            result = await self.agent.request(request, destination, auto_tcp=self.config.auto_tcp)
            if isinstance(result, SipResponse):
                break
        if action.purpose is Purpose.UNREGISTER:
            if isinstance(result, SipResponse):  # answer a challenge; the loop ends when auth does
                for follow in self.machine.on_response(result, now()):
                    if isinstance(follow, SendRegister):
                        await self._register(follow)
            return
        if isinstance(result, RequestFailed):
            self._execute(self.machine.on_failure(result.reason, result.timeout, now()))
            return
        if 200 <= result.status < 300:
            self._contact = contact
        self._execute(self.machine.on_response(result, now(), granted_expiry(result, contact)))
        if 200 <= result.status < 300 and self._learn_public(result, destination, (host, port)):
            self._execute(self.machine.refresh_now(now()))

    def _learn_public(self, response: SipResponse, destination: Endpoint, used: tuple[str, int]) -> bool:
        """RFC 3581: the registrar saw us at received:rport; register that if it differs (NAT)."""
        if not self.config.rport or destination.transport != "UDP" or self._public is not None:
            return False
        via = response.vias()[0]
        if via.received is None or via.rport is None:
            return False
        seen = (via.received, via.rport)
        if seen == used:
            return False
        log.info("SIP%d: registrar sees us at %s:%d; registering that address", self.config.line, *seen)
        self._public = seen
        return True

    async def _keepalive(self) -> None:
        destination = self._destination
        if destination is None:
            return
        if self.config.keepalive == KeepAliveType.UDP or destination.transport != "UDP":
            with contextlib.suppress(Exception):
                await self.agent.send_raw(b"\r\n\r\n", destination)
            return
        result = await self.agent.request(self._options(destination), destination)
        if isinstance(result, RequestFailed):
            log.info(
                "SIP%d keep-alive OPTIONS to %s got no answer: %s",
                self.config.line,
                destination.host,
                result.reason,
            )

    def _options(self, destination: Endpoint) -> SipRequest:
        """An out-of-dialog OPTIONS to the server: the "SIP OPTIONS" keep-alive type."""
        config = self.config
        server = self.machine.server
        uri = config.register_uri(server)
        user = f"sip:{config.user}@{config.domain(server)}"
        headers = [
            Header("Via", str(self.agent.make_via(destination, rport=config.rport, branch=new_branch()))),
            Header("Max-Forwards", "70"),
            Header("From", f"<{user}>;tag={new_tag()}"),
            Header("To", f"<{uri}>"),
            Header("Call-ID", new_call_id()),
            Header("CSeq", "1 OPTIONS"),
            Header("User-Agent", config.user_agent),
            Header("Content-Length", "0"),
        ]
        return SipRequest(method="OPTIONS", uri=parse_uri(uri), headers=headers)
