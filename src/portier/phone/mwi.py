"""Voice-message waiting (RFC 3842 over RFC 6665): "Subscribe For Voice Message" on a line.

A line with the setting on subscribes to ``message-summary`` at its own address-of-record once it
is registered: the SUBSCRIBE goes where the line's REGISTER goes (its registrar or outbound proxy,
with a Route to the proxy) and answers 401/407 with the line's credentials, as MESSAGE does. The
subscription asks for "Voice Message Subscribe Period" seconds, is refreshed in its dialog at half
of what the server granted (sooner when a NOTIFY says it ends sooner), starts over after a 481 or
a NOTIFY that terminates it (RFC 6665 §4.1.3 says when), and is ended (Expires: 0) when the line
stops. Every NOTIFY is answered 200 and published as :class:`VoiceMessages`; so is a NOTIFY that a
server sends without any subscription ("unsolicited MWI", Asterisk's habit), on whatever line its
Request-URI names. An in-dialog NOTIFY of no subscription we know gets 481, so its sender stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from portier.events import Event, LineStatusChanged, VoiceMessages
from portier.phone.addressing import user_uri
from portier.phone.line import Line
from portier.phone.message import LineAddress, line_of
from portier.phone.register_request import aor, line_contact, route_for
from portier.phone.registration import LineStatus
from portier.settings.sip_line import SipLine
from portier.sip import message_summary
from portier.sip.agent import IncomingRequest, RequestFailed, UserAgent
from portier.sip.auth import DigestSession, Retry
from portier.sip.dialog import Dialog, DialogError
from portier.sip.ids import new_call_id, new_tag
from portier.sip.message import SipRequest, SipResponse
from portier.sip.nameaddr import parse_name_addr
from portier.sip.request import make_uac_request
from portier.sip.transport import Endpoint, TransportError
from portier.sip.uas import respond
from portier.sip.uri import SipUri, Uri

log = logging.getLogger(__name__)

MAX_CHALLENGES = 3
RETRY = 30.0
"""Seconds before trying again after a SUBSCRIBE that failed without saying when to retry."""
REFUSED = 1800.0
"""Seconds before asking again a server that refused the event package (489, 403, 404...)."""
UNSUBSCRIBE_WAIT = 2.0
"""How long stopping a line waits for the server to confirm the end of the subscription."""


# --- pure rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionState:
    """A NOTIFY's Subscription-State (RFC 6665 §8.2.3)."""

    state: str
    expires: int | None = None
    reason: str = ""
    retry_after: int | None = None


def parse_subscription_state(value: str | None) -> SubscriptionState:
    """``active;expires=3600``, ``terminated;reason=timeout;retry-after=30``; a missing or garbled
    value reads as active (the body is what matters to a message-waiting light)."""
    parts = [part.strip() for part in (value or "active").split(";")]
    state = parts[0].lower() or "active"
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, _, raw = part.partition("=")
        params[name.strip().lower()] = raw.strip().strip('"')

    def number(name: str) -> int | None:
        raw = params.get(name, "")
        return int(raw) if raw.isdigit() else None

    reason = params.get("reason", "").lower()
    return SubscriptionState(state, number("expires"), reason, number("retry-after"))


def refresh_after(granted: int) -> float:
    """When to refresh a subscription the server granted for ``granted`` seconds: at half of it."""
    return max(granted / 2, 1.0)


def resubscribe_after(ended: SubscriptionState) -> float | None:
    """RFC 6665 §4.1.3: when to subscribe again after a NOTIFY that terminated the subscription;
    None when the server said never to (rejected, noresource, invariant)."""
    if ended.reason in ("rejected", "noresource", "invariant"):
        return None
    if ended.reason in ("probation", "giveup"):
        return float(ended.retry_after) if ended.retry_after is not None else RETRY
    return float(ended.retry_after or 0)


def is_message_summary(request: SipRequest) -> bool:
    event = (request.get("Event") or "").split(";", 1)[0].strip().lower()
    return event == message_summary.EVENT


def voice_messages(line: int, request: SipRequest) -> VoiceMessages | None:
    """The event a NOTIFY body reports; None for an empty body (a NOTIFY that only ends things)."""
    if not request.body.strip():
        return None
    try:
        summary = message_summary.parse(request.body)
    except message_summary.MessageSummaryError as exc:
        log.warning("voice messages on line %d: %s", line, exc.message)
        return None
    voice = summary.voice
    return VoiceMessages(
        line, summary.waiting, voice.new, voice.old, voice.urgent_new, voice.urgent_old, summary.account
    )


def _endpoint(uri: Uri, fallback: Endpoint) -> Endpoint:
    """Where an in-dialog request goes: its next hop when that is an address, else the line's server."""
    if not isinstance(uri, SipUri):
        return fallback
    host = uri.host.strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return fallback
    transport = str(uri.param("transport") or fallback.transport).upper()
    secure = uri.scheme == "sips" or transport == "TLS"
    return Endpoint("TLS" if secure else transport, host, uri.port or (5061 if secure else 5060))


def _listens(agent: UserAgent, local: Endpoint) -> bool:
    """Whether a request that arrived on ``local`` came to ``agent`` (the one with that port)."""
    try:
        return agent.transport.local(local.transport).port == local.port
    except TransportError:
        return False


# --- one line's subscription ---------------------------------------------------------------------


class Subscription:
    """The message-summary subscription of one line (see the module docstring)."""

    def __init__(self, line: Line, settings: SipLine, publish: Callable[[Event], None]) -> None:
        self.line = line
        self.settings = settings
        self._publish = publish
        config = line.config
        self._auth = DigestSession(config.account, keep_authentication=config.keep_authentication)
        self._call_id = new_call_id()
        self._tag = new_tag()
        self.dialog: Dialog | None = None
        self._up = asyncio.Event()
        self._wake = asyncio.Event()
        self._due = 0.0
        self._seq = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def number(self) -> int:
        return self.line.config.line

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"mwi{self.number}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.dialog is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._refresh(0), UNSUBSCRIBE_WAIT)
            self.dialog = None

    def line_up(self, registered: bool) -> None:
        """The line registered (subscribe now, or refresh) or lost its registration (wait)."""
        if registered and not self._up.is_set():
            self._up.set()
            self._due_in(0)
        elif not registered:
            self._up.clear()

    def owns(self, request: SipRequest) -> bool:
        return request.call_id() == self._call_id and request.to().tag == self._tag

    def on_notify(self, request: SipRequest) -> SipResponse:
        tag = request.to().tag
        if self.dialog is not None:
            rejection = self.dialog.receive_request(request)
            if rejection is not None:
                return respond(request, rejection.status, rejection.reason, to_tag=tag)
        state = parse_subscription_state(request.get("Subscription-State"))
        found = voice_messages(self.number, request)
        if found is not None:
            log.info("SIP%d voice messages: %s", self.number, found)
            self._publish(found)
        if state.state == "terminated":
            again = resubscribe_after(state)
            plan = "not subscribing again" if again is None else f"subscribing again in {again:.0f} s"
            log.info("SIP%d voice-message subscription ended (%s); %s", self.number, state.reason, plan)
            self._new_dialog()
            self._due_in(again if again is not None else float("inf"))
        elif state.expires is not None:
            self._due_in(refresh_after(state.expires), sooner_only=True)
        return respond(request, 200, "OK", to_tag=tag, server=self.line.config.user_agent)

    # --- the loop --------------------------------------------------------------------------------

    def _due_in(self, seconds: float, *, sooner_only: bool = False) -> None:
        due = asyncio.get_running_loop().time() + seconds
        if not sooner_only or due < self._due:
            self._due = due
            self._wake.set()

    def _new_dialog(self) -> None:
        self.dialog = None
        self._call_id, self._tag = new_call_id(), new_tag()
        self._auth.forget()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._up.wait()
            if self.line.state.status is not LineStatus.REGISTERED:  # a late event of a line restarted since
                self._up.clear()
                continue
            if loop.time() >= self._due:
                try:
                    wait = await self._refresh(self.settings.voice_message_period)
                except Exception:
                    log.exception("SIP%d voice-message subscription failed", self.number)
                    wait = RETRY
                self._due = loop.time() + wait
            self._wake.clear()
            timeout = None if self._due == float("inf") else max(self._due - loop.time(), 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _refresh(self, expires: int) -> float:
        """Send one SUBSCRIBE (a new subscription, a refresh, or with 0 the end); seconds until the next."""
        line, config = self.line, self.line.config
        destination = line.destination()
        if destination is None or not config.servers:
            return RETRY
        server = config.servers[line.machine.server]
        host = config.server_name or server.host
        port = server.port if config.request_with_port and not config.server_name else None
        scheme = "sips" if server.transport == "TLS" else "sip"
        uri = user_uri(config.user, host, port=port, scheme=scheme, convert=config.convert_uri)
        contact = line.state.contact or line_contact(
            config, *line.agent.contact_address(destination), destination.transport
        )
        headers = [
            ("Event", message_summary.EVENT),
            ("Accept", message_summary.CONTENT_TYPE),
            ("Expires", str(expires)),
        ]
        credentials: tuple[tuple[str, str], ...] = self._auth.preemptive("SUBSCRIBE", uri)
        result: SipResponse | RequestFailed = RequestFailed("not sent", timeout=False)
        for _ in range(MAX_CHALLENGES + 1):
            if self.dialog is not None:
                request, hop = self.dialog.create_request(
                    "SUBSCRIBE", via=line.agent.make_via(destination), contact=contact,
                    headers=[*headers, *credentials], user_agent=config.user_agent,
                )  # fmt: skip
                target = _endpoint(hop, destination)
                uri = str(request.uri)
            else:
                request = make_uac_request(
                    "SUBSCRIBE", uri,
                    from_=parse_name_addr(f"<{aor(config, line.machine.server)}>;tag={self._tag}", "From"),
                    to=parse_name_addr(f"<{uri}>", "To"), call_id=self._call_id,
                    cseq=self._cseq(), via=line.agent.make_via(destination, rport=config.rport),
                    contact=contact, route=[r for r in [route_for(config, line.machine.server)] if r],
                    headers=[*headers, *credentials], user_agent=config.user_agent,
                )  # fmt: skip
                target = destination
            result = await line.agent.request(request, target, auto_tcp=config.auto_tcp)
            if isinstance(result, RequestFailed) or result.status not in (401, 407):
                break
            header = "WWW-Authenticate" if result.status == 401 else "Proxy-Authenticate"
            answer = self._auth.on_challenge(result.status, result.get_all(header), "SUBSCRIBE", uri)
            if not isinstance(answer, Retry):
                log.warning("SIP%d voice-message subscription: %s", self.number, answer.reason)
                self._new_dialog()
                return REFUSED
            credentials = answer.headers
        self._auth.request_done()
        return self._outcome(request, result, expires)

    def _cseq(self) -> int:
        self._seq += 1
        return self._seq

    def _outcome(self, request: SipRequest, result: SipResponse | RequestFailed, asked: int) -> float:
        if asked == 0:
            return float("inf")
        if isinstance(result, RequestFailed):
            log.info("SIP%d voice-message SUBSCRIBE got no answer: %s", self.number, result.reason)
            self._new_dialog()
            return RETRY
        if request.call_id() != self._call_id:  # a NOTIFY ended it meanwhile: start afresh
            return 0.0
        if 200 <= result.status < 300:
            if self.dialog is None:
                try:
                    self.dialog = Dialog.as_uac(request, result)
                except DialogError as exc:
                    log.warning("SIP%d voice-message subscription: unusable 2xx: %s", self.number, exc)
                    self._new_dialog()
                    return RETRY
            else:
                with contextlib.suppress(DialogError):
                    self.dialog.receive_response(result)
            raw = (result.get("Expires") or "").strip()
            granted = int(raw) if raw.isdigit() else asked
            log.info("SIP%d subscribed for voice messages for %d s", self.number, granted)
            return refresh_after(min(granted, asked) if granted else asked)
        retry = (result.get("Retry-After") or "").split(";", 1)[0].split("(", 1)[0].strip()
        refreshing = self.dialog is not None
        self._new_dialog()
        if retry.isdigit():
            wait = float(retry)
        elif result.status in (481, 408) and refreshing:
            wait = 0.0  # the server forgot the subscription: a new one at once
        elif result.status >= 500:
            wait = RETRY
        else:
            wait = REFUSED
        level = logging.INFO if result.status in (481, 408) else logging.WARNING
        log.log(level, "SIP%d voice-message SUBSCRIBE refused: %d %s; again in %.0f s",
                self.number, result.status, result.reason, wait)  # fmt: skip
        return wait


# --- all lines, and the NOTIFY handler of every agent ---------------------------------------------


class VoiceMail:
    """The subscriptions of the running lines, and the last voice-message count of each line."""

    def __init__(self, publish: Callable[[Event], None], lines: Callable[[], Iterable[LineAddress]]) -> None:
        self._publish = publish
        self._lines = lines
        self.subscriptions: dict[int, Subscription] = {}
        self.latest: dict[int, VoiceMessages] = {}
        """The newest count of each line (for the web UI and an LED)."""

    def publish(self, event: Event) -> None:
        if isinstance(event, VoiceMessages):
            self.latest[event.line] = event
        self._publish(event)

    def line_started(self, line: Line, settings: SipLine) -> None:
        """A line started: subscribe for it once registered, when its settings ask for that."""
        number = line.config.line
        if not settings.subscribe_voice_message or not line.config.servers:
            return
        subscription = Subscription(line, settings, self.publish)
        self.subscriptions[number] = subscription
        subscription.start()
        subscription.line_up(line.state.status is LineStatus.REGISTERED)

    async def line_stopped(self, number: int) -> None:
        subscription = self.subscriptions.pop(number, None)
        if subscription is not None:
            await subscription.stop()

    def on_line_status(self, event: LineStatusChanged) -> None:
        subscription = self.subscriptions.get(event.line)
        if subscription is not None:
            subscription.line_up(event.status == LineStatus.REGISTERED.value)

    def on_notify(self, incoming: IncomingRequest) -> SipResponse:
        """A NOTIFY on any agent: its subscription's, or an unsolicited one for the line it names."""
        request = incoming.request
        if not is_message_summary(request):
            return respond(request, 489, "Bad Event", to_tag=request.to().tag or new_tag(),
                           extra=(("Allow-Events", message_summary.EVENT),))  # fmt: skip
        for subscription in self.subscriptions.values():
            if subscription.owns(request):
                return subscription.on_notify(request)
        if request.to().tag:  # a dialog we do not have (any more): the notifier should stop
            return respond(request, 481, "Subscription Does Not Exist", to_tag=request.to().tag)
        lines = list(self._lines())
        here = [a.agent for a in lines if _listens(a.agent, incoming.local)]
        number = line_of(request, here[0], lines) if here else 0
        found = voice_messages(number, request)
        if found is not None:
            log.info("unsolicited voice-message NOTIFY for line %d: %s", number, found)
            self.publish(found)
        return respond(request, 200, "OK", to_tag=new_tag())
