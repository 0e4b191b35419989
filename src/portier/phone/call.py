"""One call: its dialog, its RTP stream, its state, and the in-dialog requests it sends.

The INVITE transaction itself is run by ``calls.CallManager``; a ``Call`` is what outlives it: the
confirmed dialog (§12), the RTP stream, the 2xx retransmission until the ACK comes (§13.3.1.4: the
UAS core, not the transaction, repeats a 2xx), and BYE in either direction (§15).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from portier.events import CallStateChanged, DtmfReceived, Event
from portier.media.ports import RtpPorts
from portier.media.session import RtpStream
from portier.phone.prack import ReliableProvisionals
from portier.phone.session_timer import SessionTimer
from portier.sip.agent import RequestFailed, UserAgent
from portier.sip.dialog import Dialog, DialogError, DialogState
from portier.sip.message import SipRequest, SipResponse
from portier.sip.sdp import SessionDescription
from portier.sip.transaction import TxKey
from portier.sip.transport import Endpoint
from portier.sip.uas import respond

log = logging.getLogger(__name__)


class CallState(StrEnum):
    RINGING = "Ringing"
    """Incoming, not answered yet."""
    CALLING = "Calling"
    """Outgoing, no answer from the far end yet."""
    ALERTING = "Alerting"
    """Outgoing, the far end rings (180/183)."""
    TALKING = "Talking"
    HELD = "Held"
    """Talking, with the media on hold (a re-INVITE made one side sendonly or inactive)."""
    ENDED = "Ended"


@dataclass
class Call:
    call_id: str
    line: int
    direction: str
    remote: str
    agent: UserAgent
    publish: Callable[[Event], None]
    ports: RtpPorts
    user_agent: str
    contact: str
    destination: Endpoint
    """Where in-dialog requests go: the request's source (incoming) or where the INVITE went."""
    state: CallState = CallState.RINGING
    dialog: Dialog | None = None
    stream: RtpStream | None = None
    rtp_port: int | None = None
    invite_key: TxKey | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    rejected: asyncio.Event = field(default_factory=asyncio.Event)
    acked: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    refreshed: asyncio.Event = field(default_factory=asyncio.Event)
    timer: SessionTimer | None = None
    reason: str = ""
    sdp_session: int = 0
    sdp_version: int = 0
    offer_sdp: SessionDescription | None = None
    answer_sdp: SessionDescription | None = None
    reliable: ReliableProvisionals | None = None
    """An incoming call whose 1xx go out reliably (RFC 3262): their repeats until PRACK."""
    waiting: bool = False
    """A second incoming call that rang while another call was up (call waiting)."""
    intercom: bool = False
    anonymous: bool = False
    """Send Anonymous: an outgoing call that hides the line's identity (RFC 3323/3325)."""
    remote_display: str = ""
    """An incoming call that asked to be answered automatically (Call-Info answer-after, ...)."""
    held_for: str | None = None
    """The call this one was put on hold for (call waiting); "Auto Resume Current" resumes it after."""
    far_end_ended: bool = False
    """The far end ended the call after the device went off hook (BYE, or a dial it refused): the
    device goes back to idle per auto handdown, not at once."""
    invite: SipRequest | None = None
    """Our INVITE (outgoing calls): a 2xx from another fork is ACKed and ended with it."""
    ack: bytes = b""
    """The ACK of our 2xx, sent again for each retransmission of that 2xx (§13.2.2.4)."""
    invite_headers: tuple[tuple[str, str], ...] = ()
    """Extra headers for our INVITE (outgoing calls): Replaces and Referred-By of a transfer."""
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _published: CallState | None = None
    _watchers: list[Callable[[CallState, str], None]] = field(default_factory=list)
    forget: Callable[[str], None] = lambda call_id: None
    """Called once the call has ended, so its owner drops it (a door station takes calls for years)."""

    def set_state(self, state: CallState, reason: str = "") -> None:
        if state is self._published and not reason:
            return
        self._published = state
        self.state = state
        self.reason = reason
        log.info(
            "call %s (line %d, %s, %s): %s %s",
            self.call_id,
            self.line,
            self.direction,
            self.remote,
            state,
            reason,
        )
        self.publish(
            CallStateChanged(
                self.call_id, self.line, self.direction, str(state), self.remote, reason, self.remote_display
            )
        )
        for watcher in list(self._watchers):
            try:
                watcher(state, reason)
            except Exception:
                log.exception("call %s: a state watcher failed", self.call_id)

    def watch(self, watcher: Callable[[CallState, str], None]) -> Callable[[], None]:
        """Call ``watcher(state, reason)`` on every change from now on (transfer and conference
        follow their calls this way); returns the function that stops it."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher) if watcher in self._watchers else None

    async def settled(self) -> CallState:
        """Wait until an outgoing call is answered or has ended (no longer Calling or Alerting)."""
        done = asyncio.Event()

        def check(state: CallState, reason: str) -> None:
            if state not in (CallState.CALLING, CallState.ALERTING):
                done.set()

        stop = self.watch(check)
        try:
            check(self.state, "")
            await done.wait()
        finally:
            stop()
        return self.state

    def digit(self, digit: str, method: str) -> None:
        self.publish(DtmfReceived(self.call_id, digit, method))

    def spawn(self, coroutine: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the 2xx until ACK (§13.3.1.4) -------------------------------------------------------------

    async def retransmit_ok(self, key: TxKey, ok: SipResponse, t1: float, t2: float) -> None:
        interval = t1
        waited = 0.0
        while waited < 64 * t1:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.acked.wait(), interval)
            if self.acked.is_set() or self.state is CallState.ENDED:
                return
            waited += interval
            self.agent.respond(key, ok)
            interval = min(interval * 2, t2)
        log.info("call %s: no ACK for the 200 within %.0f s; ending it", self.call_id, 64 * t1)
        await self.hangup("no ACK")

    # --- the ACK for every 2xx (§13.2.2.4) ----------------------------------------------------------

    def repeat_ack(self, response: SipResponse) -> None:
        """A 2xx after the first: a retransmission gets the same ACK again; a 2xx from another fork
        of our INVITE gets its own ACK and a BYE (a door station talks to one far end)."""
        if not 200 <= response.status < 300 or self.dialog is None or not self.ack:
            return
        if response.to().tag == self.dialog.remote_tag:
            self.spawn(self.agent.send_raw(self.ack, self.destination))
        elif self.invite is not None:
            self.spawn(self._end_fork(self.invite, response))

    async def _end_fork(self, invite: SipRequest, response: SipResponse) -> None:
        try:
            fork = Dialog.as_uac(invite, response)
        except DialogError as exc:
            log.info("call %s: ignoring a 2xx from another fork: %s", self.call_id, exc)
            return
        via = self.agent.make_via(self.destination)
        ack, _ = fork.create_request("ACK", via=via, contact=None, user_agent=self.user_agent)
        await self.agent.send_raw(bytes(ack), self.destination)
        bye, _ = fork.create_request("BYE", via=self.agent.make_via(self.destination), contact=None)
        await self.agent.request(bye, self.destination)

    # --- ending -----------------------------------------------------------------------------------

    async def hangup(self, reason: str = "local hangup") -> None:
        """Send BYE (a confirmed dialog) and end; a no-op once ended."""
        if self.state is CallState.ENDED:
            return
        dialog = self.dialog
        if dialog is not None and dialog.state is DialogState.CONFIRMED:
            via = self.agent.make_via(self.destination)
            bye, _ = dialog.create_request("BYE", via=via, contact=None, user_agent=self.user_agent)
            result = await self.agent.request(bye, self.destination)
            if isinstance(result, RequestFailed):
                log.info("call %s: BYE got no answer (%s)", self.call_id, result.reason)
        await self.finish(reason)

    async def finish(self, reason: str) -> None:
        """Stop the media and report the end (the BYE, if any, is done)."""
        if self.state is CallState.ENDED:
            return
        self.set_state(CallState.ENDED, reason)
        self.ended.set()
        self.forget(self.call_id)
        if self.stream is not None:
            await self.stream.stop()
            self.stream = None
        if self.rtp_port is not None:
            self.ports.release(self.rtp_port)
            self.rtp_port = None
        if self.reliable is not None:
            self.reliable.finish()
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()

    def send_dtmf(self, digit: str) -> None:
        if self.stream is None:
            raise RuntimeError("the call has no media stream")
        self.stream.send_dtmf(digit)


def respond_to(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    to_tag: str,
    contact: str | None = None,
    user_agent: str = "",
    body: bytes = b"",
    content_type: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> SipResponse:
    """A response of a call, built by the UAS core (``sip.uas.respond``) with the call's tag."""
    return respond(
        request,
        status,
        reason,
        to_tag=to_tag,
        contact=contact,
        server=user_agent,
        body=body,
        content_type=content_type,
        extra=extra,
    )
