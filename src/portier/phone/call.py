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
from portier.phone.session_timer import SessionTimer
from portier.sip.agent import RequestFailed, UserAgent
from portier.sip.dialog import Dialog, DialogState
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
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _published: CallState | None = None
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
            CallStateChanged(self.call_id, self.line, self.direction, str(state), self.remote, reason)
        )

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
