"""The SIP user agent edge: one transport, one transaction layer and one timer on the device's loop.

This is the only place where the sans-IO core meets sockets and the clock. Everything that arrives
is parsed by the transport, stamped with where it came from (RFC 3581), validated, and fed to the
transaction layer; whatever the layer hands back is sent, delivered to a waiting client request,
or dispatched to the handler registered for the method. The layer's next deadline re-arms a single
``loop.call_at``. Features above (lines, calls) never see a socket: they build requests and await
final responses, or register handlers that answer requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from portier.sip.errors import SipParseError
from portier.sip.ids import new_branch, new_tag
from portier.sip.message import Header, SipRequest, SipResponse
from portier.sip.received import reply_address, stamp_request
from portier.sip.timers import is_reliable
from portier.sip.transaction import (
    Output,
    RequestReceived,
    ResponseReceived,
    Terminated,
    TimedOut,
    TimerConfig,
    TransactionLayer,
    Transmit,
    TransportFailed,
    TxKey,
)
from portier.sip.transport import Endpoint, Inbound, Malformed, SipTransport, TransportConfig, TransportError
from portier.sip.uas import Capabilities, answer_options, reject, respond, stateless_error
from portier.sip.validate import SUPPORTED_METHODS, Rejection, UasPolicy, check_request, check_response
from portier.sip.via import Via

log = logging.getLogger(__name__)

AUTO_TCP_SIZE = 1300
"""§18.1.1: a request within 200 bytes of a 1500-byte path MTU goes over a congestion-controlled transport."""


@dataclass(frozen=True)
class IncomingRequest:
    """A request for the TU with where it came from; ``key`` is None for a 2xx ACK."""

    request: SipRequest
    key: TxKey | None
    source: Endpoint
    local: Endpoint


@dataclass(frozen=True)
class RequestFailed:
    """A client request ended without a final response: ``timeout`` (Timer B/F) or a transport error."""

    reason: str
    timeout: bool


ClientResult = SipResponse | RequestFailed
Handler = Callable[[IncomingRequest], "Awaitable[SipResponse | None] | SipResponse | None"]
StunListener = Callable[[bytes, Endpoint], None]


@dataclass
class _Pending:
    future: asyncio.Future[ClientResult]
    destination: Endpoint
    on_provisional: Callable[[SipResponse], None] | None
    on_repeated_2xx: Callable[[SipResponse], None] | None = None


@dataclass
class AgentConfig:
    transport: TransportConfig
    timers: TimerConfig = field(default_factory=TimerConfig)
    capabilities: Capabilities = field(default_factory=Capabilities)
    reply_to_source: bool = True
    """Fanvil "Enable Strict Proxy": answer the source address of a request, not its Via."""


def local_ip_toward(host: str) -> str:
    """The address this machine would send from to reach ``host`` (a connected UDP socket sends nothing)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "::1" if family == socket.AF_INET6 else "127.0.0.1"


class UserAgent:
    """One listening SIP endpoint (one port: UDP, TCP and optionally TLS)."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.transport = SipTransport(config.transport, self._on_message, on_stun=self._on_stun)
        self.layer = TransactionLayer(config.timers)
        self._handlers: dict[str, Handler] = {}
        self._policy: UasPolicy | None = None
        self._pending: dict[TxKey, _Pending] = {}
        self._reply_to: dict[TxKey, Endpoint] = {}
        self._stun: list[StunListener] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._local_ips: dict[str, str] = {}

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.transport.start()

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_result(RequestFailed("the SIP agent stopped", timeout=False))
        self._pending.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.transport.stop()

    # --- what the TU uses -------------------------------------------------------------------------

    def on(self, method: str, handler: Handler) -> Callable[[], None]:
        """Answer requests of ``method`` with ``handler``; returns the function that removes it."""
        self._handlers[method] = handler
        self._policy = None

        def remove() -> None:
            self._handlers.pop(method, None)
            self._policy = None

        return remove

    def on_stun(self, listener: StunListener) -> Callable[[], None]:
        self._stun.append(listener)
        return lambda: self._stun.remove(listener) if listener in self._stun else None

    def policy(self) -> UasPolicy:
        """Methods with a handler (plus what the agent answers itself) are allowed; the rest get 405."""
        if self._policy is None:  # built once per change of handlers, not per request
            allowed = frozenset({"OPTIONS", "ACK", "CANCEL", *self._handlers})
            self._policy = UasPolicy(
                methods=SUPPORTED_METHODS,
                allowed=allowed,
                option_tags=frozenset({"100rel", "timer", "replaces", "norefersub"}),
                warn_agent=self.config.capabilities.user_agent,
            )
        return self._policy

    def local_ip(self, toward: str) -> str:
        """Our address as seen on the path to ``toward`` (the bound address when not a wildcard)."""
        bound = self.config.transport.host
        if bound not in ("0.0.0.0", "::", ""):
            return bound
        if toward not in self._local_ips:
            self._local_ips[toward] = local_ip_toward(toward)
        return self._local_ips[toward]

    def contact_address(self, toward: Endpoint) -> tuple[str, int]:
        """Host and listening port to put in Via sent-by and Contact for requests to ``toward``."""
        return self.local_ip(toward.host), self.transport.local(toward.transport).port

    def make_via(self, toward: Endpoint, *, rport: bool = True, branch: str | None = None) -> Via:
        host, port = self.contact_address(toward)
        params: tuple[tuple[str, str | None], ...] = (("branch", branch or new_branch()),)
        if rport:
            params += (("rport", None),)
        return Via(
            transport=toward.transport, host=f"[{host}]" if ":" in host else host, port=port, params=params
        )

    async def request(
        self,
        request: SipRequest,
        to: Endpoint,
        *,
        on_provisional: Callable[[SipResponse], None] | None = None,
        on_repeated_2xx: Callable[[SipResponse], None] | None = None,
        auto_tcp: bool = False,
    ) -> ClientResult:
        """Send ``request`` (its top Via already set, fresh branch) and wait for the final response.

        ``on_repeated_2xx`` (INVITE) hears every 2xx after the first while the transaction lingers
        (RFC 6026 Accepted, Timer M): retransmissions the dialog must ACK again, or other forks."""
        loop = self._running_loop()
        if auto_tcp and to.transport == "UDP" and len(bytes(request)) > AUTO_TCP_SIZE:
            to = replace(to, transport="TCP")
            request = _retransport(request, self.make_via(to, rport=True))
        future: asyncio.Future[ClientResult] = loop.create_future()
        try:
            key, outputs = self.layer.send_request(request, loop.time(), reliable=is_reliable(to.transport))
        except ValueError as exc:
            return RequestFailed(str(exc), timeout=False)
        self._pending[key] = _Pending(future, to, on_provisional, on_repeated_2xx)
        self._process(outputs)
        return await future

    def respond(self, key: TxKey, response: SipResponse) -> None:
        """Answer a server transaction (a no-op once it has ended)."""
        self._process(self.layer.respond(key, response, self._running_loop().time()))

    async def send_raw(self, data: bytes, to: Endpoint) -> None:
        """Bytes outside any transaction: keep-alives and 2xx ACKs (which the dialog layer sends)."""
        await self.transport.send(data, to)

    # --- inbound ----------------------------------------------------------------------------------

    def _on_stun(self, data: bytes, source: Endpoint, local: Endpoint) -> None:
        for listener in list(self._stun):
            try:
                listener(data, source)
            except Exception:
                log.exception("STUN listener failed")

    def _on_message(self, item: Inbound | Malformed) -> None:
        if isinstance(item, Malformed):
            answer = stateless_error(item.data, item.error)
            log.debug("malformed SIP from %s:%s: %s", item.source.host, item.source.port, item.error)
            if answer is not None:
                self._spawn(self._send(answer, self._malformed_reply_to(item), None))
            return
        message = item.message
        now = self._running_loop().time()
        if isinstance(message, SipResponse):
            problem = check_response(message)
            if problem:
                log.info("dropped response from %s: %s", item.source.host, problem)
                return
            self._process(self.layer.receive(message, now))
            return
        if not message.vias():
            return
        message = stamp_request(message, item.source.host, item.source.port)
        broken = _unusable(message)
        if broken is not None:  # no transaction can be formed: answer statelessly (§8.2, RFC 4475)
            log.debug("bad %s from %s: %s", message.method, item.source.host, broken)
            if message.method != "ACK":
                refusal = reject(message, Rejection(400, "Bad Request", detail=broken), to_tag=None)
                self._spawn(self._send(bytes(refusal), self._reply_destination(message, item), None))
            return
        outputs = self.layer.receive(message, now, reliable=is_reliable(item.source.transport))
        for output in outputs:
            if isinstance(output, RequestReceived):
                self._reply_to[output.key or TxKey("", "ACK")] = self._reply_destination(message, item)
        self._process(outputs, item)

    def _reply_destination(self, request: SipRequest, item: Inbound) -> Endpoint:
        source = item.source
        if is_reliable(source.transport):
            return source
        host, port = reply_address(
            request.vias()[0], source.host, source.port, to_source=self.config.reply_to_source
        )
        return Endpoint(source.transport, host, port)

    def _malformed_reply_to(self, item: Malformed) -> Endpoint:
        return item.source

    # --- outputs ----------------------------------------------------------------------------------

    def _process(self, outputs: list[Output], inbound: Inbound | None = None) -> None:
        for output in outputs:
            if isinstance(output, Transmit):
                self._transmit(output)
            elif isinstance(output, ResponseReceived):
                self._deliver(output.key, output.response)
            elif isinstance(output, RequestReceived):
                if inbound is not None:
                    self._dispatch(output, inbound)
            elif isinstance(output, TimedOut):
                self._fail(output.key, f"no response (timer {output.timer})", timeout=True)
            elif isinstance(output, TransportFailed):
                self._fail(output.key, output.reason, timeout=False)
            elif isinstance(output, Terminated):
                self._fail(output.key, "transaction ended without a final response", timeout=False)
                self._reply_to.pop(output.key, None)
        self._arm_timer()

    def _transmit(self, output: Transmit) -> None:
        pending = self._pending.get(output.key)
        destination = pending.destination if pending else self._reply_to.get(output.key)
        if destination is None:
            log.warning("no destination for %s %s", output.key.method, output.key.branch)
            return
        if destination.transport == "UDP":
            try:
                self.transport.send_datagram(output.data, destination)
            except TransportError as exc:
                log.info("SIP send to %s:%s failed: %s", destination.host, destination.port, exc)
                self._process(self.layer.transport_error(output.key, self._running_loop().time(), str(exc)))
            return
        self._spawn(self._send(output.data, destination, output.key))

    async def _send(self, data: bytes, to: Endpoint, key: TxKey | None) -> None:
        try:
            await self.transport.send(data, to)
        except TransportError as exc:
            log.info("SIP send to %s %s:%s failed: %s", to.transport, to.host, to.port, exc)
            if key is not None:
                self._process(self.layer.transport_error(key, self._running_loop().time(), str(exc)))

    def _deliver(self, key: TxKey, response: SipResponse) -> None:
        pending = self._pending.get(key)
        if pending is None:
            return
        if response.status < 200:
            if pending.on_provisional is not None:
                try:
                    pending.on_provisional(response)
                except Exception:
                    log.exception("provisional response handler failed")
            return
        if pending.future.done():
            if pending.on_repeated_2xx is not None and response.status < 300:
                try:
                    pending.on_repeated_2xx(response)
                except Exception:
                    log.exception("repeated 2xx handler failed")
            return
        if pending.on_repeated_2xx is None or response.status >= 300:
            self._pending.pop(key, None)  # else kept until the transaction ends (Terminated)
        pending.future.set_result(response)

    def _fail(self, key: TxKey, reason: str, *, timeout: bool) -> None:
        pending = self._pending.pop(key, None)
        if pending is not None and not pending.future.done():
            pending.future.set_result(RequestFailed(reason, timeout))

    def _dispatch(self, output: RequestReceived, inbound: Inbound) -> None:
        request = output.request
        key = output.key
        if key is None:  # an ACK for a 2xx: dialogs take it, or it is absorbed
            handler = self._handlers.get("ACK")
            if handler is not None:
                self._spawn(
                    self._run_handler(handler, IncomingRequest(request, None, inbound.source, inbound.local))
                )
            return
        if request.method == "ACK":  # the ACK of a 2xx, passed up by the Accepted state: never answered
            ack = self._handlers.get("ACK")
            if ack is not None:
                incoming = IncomingRequest(request, key, inbound.source, inbound.local)
                self._spawn(self._run_handler(ack, incoming))
            return
        rejection = check_request(request, self.policy())
        if rejection is not None:
            self.respond(key, reject(request, rejection, to_tag=new_tag()))
            return
        if request.method == "CANCEL":
            self._cancel(key, request, inbound)
            return
        handler = self._handlers.get(request.method)
        if handler is None and request.method == "OPTIONS":
            caps = replace(self.config.capabilities, allow=tuple(sorted(self.policy().allowed)))
            self.respond(key, answer_options(request, caps, to_tag=new_tag()))
            return
        if handler is None:
            return
        self._spawn(self._answer(key, handler, IncomingRequest(request, key, inbound.source, inbound.local)))

    def _cancel(self, key: TxKey, request: SipRequest, inbound: Inbound) -> None:
        target = self.layer.cancel_target(request)
        if target is None:
            self.respond(key, respond(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag()))
            return
        self.respond(key, respond(request, 200, "OK", to_tag=new_tag()))
        handler = self._handlers.get("CANCEL")
        if handler is not None:
            self._spawn(
                self._run_handler(
                    handler, IncomingRequest(request, target.key, inbound.source, inbound.local)
                )
            )

    async def _answer(self, key: TxKey, handler: Handler, incoming: IncomingRequest) -> None:
        response = await self._run_handler(handler, incoming)
        if response is not None:
            self.respond(key, response)

    async def _run_handler(self, handler: Handler, incoming: IncomingRequest) -> SipResponse | None:
        try:
            result = handler(incoming)
            if inspect.isawaitable(result):
                return await result
            return result
        except Exception:
            log.exception("%s handler failed", incoming.request.method)
            if incoming.key is not None and incoming.request.method != "ACK":
                return respond(incoming.request, 500, "Server Internal Error", to_tag=new_tag())
            return None

    # --- plumbing ---------------------------------------------------------------------------------

    def _arm_timer(self) -> None:
        loop = self._loop
        if loop is None:
            return
        deadline = self.layer.next_deadline()
        if self._timer is not None:
            if deadline is not None and self._timer.when() == deadline:
                return
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            self._timer = loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._process(self.layer.handle_timer(self._running_loop().time()))

    def _spawn(self, coroutine: Awaitable[object]) -> None:
        async def run() -> None:
            await coroutine

        task = self._running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop


def _unusable(request: SipRequest) -> str | None:
    """Why the headers a transaction and a response need (§8.1.1) cannot be read, or None."""
    try:
        request.cseq()
        request.call_id()
        request.from_()
        request.to()
    except SipParseError as exc:
        return exc.message
    return None


def _retransport(request: SipRequest, via: Via) -> SipRequest:
    """The request with its top Via replaced (Auto TCP changes the transport before the first send)."""
    headers = list(request.headers)
    for index, header in enumerate(headers):
        if header.name == "Via":
            headers[index] = Header("Via", str(via))
            break
    return replace(request, headers=headers)
