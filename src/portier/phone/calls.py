"""Calls on the device's SIP agents: incoming INVITEs, outgoing dials, BYE, CANCEL, ACK, INFO, PRACK.

Incoming: the INVITE is answered 180 at once (reliably when the line has PRACK, ``prack.py``), then
automatically after the line's (or P2P's) "Auto Answering Delay", or by ``answer()``; unanswered calls
end after "No Answer Auto HangUp Timeout". A second call while one is up is a waiting call or busy
(``call_waiting.py``). The offer is answered through RFC 3264 with the enabled codecs this machine
can really run.
Outgoing: ``dial()`` (refused on a line that is not registered unless "Dial Without Registered")
sends an INVITE with our offer, answers digest challenges with the line's credentials, PRACKs
reliable provisional responses, plays early media (``early_media.py``), ACKs the 2xx (again for
each of its retransmissions) and starts or settles the RTP stream with what the answer chose.
When the device is back idle after a call is ``handdown.py``'s business.
Transfers (``transfer()``, REFER in and out, INVITE with Replaces) are ``transfer.py``'s, the 3-way
conference (``conference()``) is ``conference.py``'s; NOTIFYs go by event package to
``notify_handlers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from portier.events import CallTransferred, Event
from portier.media.audio import AudioSpec, gain_of, microphone_db, volume_db
from portier.media.dtmf_info import DtmfInfoError, make_dtmf_relay, parse_dtmf_info
from portier.media.ports import PortsExhausted, RtpPorts
from portier.media.session import RtpStream, SrtpKeys, StreamConfig
from portier.phone import call_waiting, conference, outgoing, policy, prack
from portier.phone.addressing import escape_user
from portier.phone.call import Call, CallState, respond_to
from portier.phone.conference import LocalConference
from portier.phone.handdown import HandsFree
from portier.phone.intercom import intercom_delay
from portier.phone.media_policy import codec_options, media_policy
from portier.phone.session_timer import TooSmall, negotiate_as_uas
from portier.phone.transfer import Transfers
from portier.settings.choices import DtmfInfoMode, DtmfMode
from portier.settings.records import RestrictedIncoming, RestrictedOutgoing
from portier.settings.schema import Settings
from portier.settings.sip_line import SipLine
from portier.sip.agent import Handler, IncomingRequest, RequestFailed, UserAgent
from portier.sip.dialog import Dialog, dialog_id_of_request
from portier.sip.errors import SipParseError
from portier.sip.ids import new_call_id, new_tag
from portier.sip.message import SipRequest, SipResponse
from portier.sip.nameaddr import parse_name_addr
from portier.sip.offer_answer import (
    SRTP_SUITES,
    NegotiatedMedia,
    Rejected,
    accept_answer,
    hold_offer,
    make_answer,
    resume_offer,
)
from portier.sip.refer import parse_event
from portier.sip.reliable import requires_100rel, supports_100rel
from portier.sip.sdp import SdpError, SessionDescription
from portier.sip.sdp import parse as parse_sdp
from portier.sip.timers import TimerConfig
from portier.sip.transport import Endpoint
from portier.sip.uri import SipUri
from portier.sip.validate import Rejection

log = logging.getLogger(__name__)

MUTED_DB = -200.0
"""A gain that leaves nothing of the microphone (int16 samples scaled by 1e-10)."""

_DIVERSION = {
    "call forward unconditional": "unconditional",
    "call forward on busy": "user-busy",
    "call forward on no answer": "no-answer",
}
"""RFC 5806 Diversion reasons, so the target sees why the call came to it."""



@dataclass(frozen=True)
class LineInfo:
    """What calls need to know of an active line."""

    number: int
    settings: SipLine
    agent: UserAgent
    destination: Callable[[], Endpoint | None]
    """Where the line's requests go right now (its registrar or outbound proxy), once known."""
    domain: str
    status: Callable[[], str] | None = None
    """The line's registration status now ("Registered", "Trying", "Failed"...); None: not known,
    so dialling is not refused for it."""


class CallManager:
    def __init__(
        self,
        settings: Callable[[], Settings],
        publish: Callable[[Event], None],
        ports: RtpPorts,
        *,
        user_agent: str,
        audio_in: AudioSpec,
        audio_out: AudioSpec,
        timers: TimerConfig,
        restricted_incoming: Callable[[], Sequence[RestrictedIncoming]] = tuple,
        restricted_outgoing: Callable[[], Sequence[RestrictedOutgoing]] = tuple,
    ) -> None:
        self._settings = settings
        self.restricted_incoming = restricted_incoming
        """Call List >> Restricted Incoming Calls, read at each call (the table can change any time)."""
        self.restricted_outgoing = restricted_outgoing
        self._publish = publish
        self.ports = ports
        self.user_agent = user_agent
        self.audio_in = audio_in
        self.audio_out = audio_out
        self.timers = timers
        self.calls: dict[str, Call] = {}
        self.lines: dict[int, LineInfo] = {}
        self.hands_free = HandsFree(publish, lambda: settings().intercom.features.basic)
        self._agents: list[tuple[UserAgent, list[Callable[[], None]]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.transfers = Transfers(self)
        self.notify_handlers: dict[str, Handler] = {"refer": self.transfers.on_notify}
        """NOTIFY handlers by event package: one agent handler per method, so NOTIFYs for other
        packages (message-summary...) are added here and dispatched by ``_on_notify``."""

    # --- wiring -----------------------------------------------------------------------------------

    def attach(self, agent: UserAgent) -> None:
        """Take INVITE, ACK, BYE, CANCEL and INFO on ``agent``."""
        removers = [
            agent.on("INVITE", lambda incoming: self._on_invite(agent, incoming)),
            agent.on("ACK", self._on_ack),
            agent.on("BYE", self._on_bye),
            agent.on("CANCEL", self._on_cancel),
            agent.on("INFO", self._on_info),
            agent.on("UPDATE", self._on_update),
            agent.on("PRACK", self._on_prack),
            agent.on("REFER", self.transfers.on_refer),
            agent.on("NOTIFY", self._on_notify),
        ]
        self._agents.append((agent, removers))

    async def close(self) -> None:
        for call in list(self.calls.values()):
            await call.hangup("device stopping")
        self.hands_free.close()
        for task in list(self._tasks):
            task.cancel()
        for _, removers in self._agents:
            for remove in removers:
                remove()
        self._agents.clear()

    # --- what the device and its users do -----------------------------------------------------------

    def answer(self, call_id: str | None = None) -> bool:
        call = self._pick(call_id, CallState.RINGING)
        if call is None:
            return False
        call.answered.set()
        return True

    def reject(self, call_id: str | None = None) -> bool:
        """Refuse a ringing call with the Reject Response Code (603 by default)."""
        call = self._pick(call_id, CallState.RINGING)
        if call is None:
            return False
        call.rejected.set()
        return True

    async def hangup(self, call_id: str | None = None) -> bool:
        """End a call (cancel it while it rings); with no call up, hang up a device the far end left
        off hook (auto handdown off)."""
        call = (self._pick(None, CallState.TALKING) if call_id is None else None) or self._pick(call_id, None)
        if call is None:
            return call_id is None and self.hands_free.hang_up()
        if call.state in (CallState.RINGING, CallState.CALLING, CallState.ALERTING):
            call.cancelled.set()  # an incoming call gets 487, an outgoing one is CANCELled
            return True
        await call.hangup()
        return True

    async def transfer(self, call_id: str, target: str) -> CallTransferred:
        """Transfer a call: blind to ``target`` (a number on the call's line, a SIP URI or an IP), or
        attended when ``target`` is the Call-ID of another call of the device (the consultation call,
        which the target then replaces). ``transfer.py`` has the rules; the outcome is also published."""
        call = self._pick(call_id, None)
        if call is None or call.state not in (CallState.TALKING, CallState.HELD):
            raise ValueError(f"no talking or held call {call_id} to transfer")
        line = self.lines.get(call.line)
        timeout = float(line.settings.transfer_timeout) if line else 0.0
        consultation = self._pick(target, None)
        if consultation is not None and consultation is not call:
            return await self.transfers.attended(call, consultation, timeout)
        uri, _ = self._target(target, line, self._settings())
        return await self.transfers.blind(call, uri, timeout)

    async def conference(self, call_a: str, call_b: str) -> LocalConference | Call:
        """A 3-way conference of two calls: mixed here (Conference Type LOCAL; the conference is
        returned) or in the line's conference room (SERVER; the device's call to the room)."""
        a, b = self._pick(call_a, None), self._pick(call_b, None)
        if a is None or b is None:
            raise ValueError(f"no call {call_a if a is None else call_b} to put in a conference")
        return await conference.start(self, a, b)

    def publish(self, event: Event) -> None:
        self._publish(event)

    def _forget(self, call_id: str) -> None:
        """A call ended: drop it, resume the call held for it, and tell auto handdown."""
        call = self.calls.pop(call_id, None)
        if call is None:
            return
        others = call_waiting.live(self.calls.values())
        auto_resume = self._settings().intercom.features.basic.auto_resume_current
        held = call_waiting.to_resume(call, others, auto_resume)
        if held is not None:
            held.held_for = None
            self.spawn(self._resume(held))
        self.hands_free.call_ended(far_end=call.far_end_ended, calls_left=bool(others), reason=call.reason)

    async def _resume(self, call: Call) -> None:
        try:
            await self.hold(call.call_id, resume=True)
        except ValueError as exc:
            log.info("call %s: auto resume failed: %s", call.call_id, exc)

    def spawn(self, coroutine: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _pick(self, call_id: str | None, state: CallState | None) -> Call | None:
        live = [c for c in self.calls.values() if c.state is not CallState.ENDED]
        if call_id is not None:
            live = [c for c in live if c.call_id == call_id]
        if state is not None:
            live = [c for c in live if c.state is state]
        return live[0] if live else None

    # --- incoming ---------------------------------------------------------------------------------

    def _line_for(self, request: SipRequest, agent: UserAgent) -> LineInfo | None:
        user = request.uri.user if isinstance(request.uri, SipUri) else None
        for line in self.lines.values():
            if line.agent is agent and user == line.settings.username:
                return line
        mine = [line for line in self.lines.values() if line.agent is agent]
        return mine[0] if len(mine) == 1 and user in (None, "") else None

    async def _on_invite(self, agent: UserAgent, incoming: IncomingRequest) -> SipResponse:
        request = incoming.request
        if request.to().tag:  # a re-INVITE inside a dialog: hold, resume, a new address
            return self._reinvite(request)
        settings = self._settings()
        line = self._line_for(request, agent)
        features = settings.intercom.features
        tag = new_tag()

        def refuse(status: int, reason: str, *extra: tuple[str, str]) -> SipResponse:
            return respond_to(request, status, reason, to_tag=tag, user_agent=self.user_agent, extra=extra)

        if requires_100rel(request) and not prack.enabled(line.settings if line else None):
            return refuse(420, "Bad Extension", *prack.unsupported())
        replaced = self.transfers.find_replaced(request)
        if isinstance(replaced, Rejection):
            return refuse(replaced.status, replaced.reason, ("Warning", f'399 portier "{replaced.detail}"'))
        asked = intercom_delay(request)
        caller = parse_name_addr(request.get("From") or "", "From")
        others = call_waiting.live(self.calls.values())
        caller_uri = caller.uri
        caller_user = caller_uri.user or "" if isinstance(caller_uri, SipUri) else ""
        caller_host = caller_uri.host if isinstance(caller_uri, SipUri) else ""
        verdict = policy.decide_incoming(
            policy.Incoming(
                caller=caller_user,
                anonymous=policy.is_anonymous(
                    caller_user, caller_host, caller.display_name or "", request.get("Privacy") or ""
                ),
                line=line.number if line else 0,
                intercom_delay=asked,
                busy=bool(others),
                busy_with_intercom=any(c.intercom for c in others),
                waiting_already=len(others) > 1 or any(c.state is CallState.RINGING for c in others),
            ),
            settings,
            self.restricted_incoming(),
        )
        if replaced is not None:  # it continues a call the device has: answered at once (RFC 3891 §3)
            verdict = policy.Ring(0.0, features.basic.no_answer_hangup_timeout)
        if isinstance(verdict, policy.Reject):
            log.info("call %s from %s refused: %s", request.call_id(), caller_user, verdict.why)
            return refuse(verdict.code, verdict.reason, ("Warning", f'399 portier "{verdict.why}"'))
        if isinstance(verdict, policy.Redirect):
            log.info(
                "call %s from %s forwarded to %s (%s)",
                request.call_id(),
                caller_user,
                verdict.target,
                verdict.why,
            )
            return self._redirect(request, tag, verdict, line)
        host = agent.local_ip(incoming.source.host)
        port = agent.transport.local(incoming.local.transport).port
        contact = (
            f"<sip:{host}:{port}>"
            if incoming.local.transport == "UDP"
            else (f"<sip:{host}:{port};transport={incoming.local.transport.lower()}>")
        )
        assert incoming.key is not None
        call = Call(
            call_id=request.call_id(),
            line=line.number if line else 0,
            direction="incoming",
            remote=str(caller.uri),
            agent=agent,
            publish=self._publish,
            ports=self.ports,
            user_agent=self.user_agent,
            contact=contact,
            destination=incoming.source,
            invite_key=incoming.key,
            forget=self._forget,
            waiting=verdict.waiting or verdict.barge,
            intercom=verdict.intercom,
            remote_display=caller.display_name or "",
        )
        try:
            offer = parse_sdp(request.body) if request.body else None
        except SdpError as exc:
            return refuse(488, "Not Acceptable Here", ("Warning", f'399 portier "{exc}"'))
        if offer is None:
            warning = '399 portier "an INVITE without an SDP offer is not supported"'
            return refuse(488, "Not Acceptable Here", ("Warning", warning))
        line_timer = line.settings.session_timer if line else False
        line_interval = line.settings.session_timeout if line else 1800
        timer = negotiate_as_uas(request, line_timer, line_interval)
        if isinstance(timer, TooSmall):
            return refuse(422, "Session Interval Too Small", ("Min-SE", str(timer.min_se)))
        call.timer = timer
        self.calls[call.call_id] = call
        call.dialog = Dialog.as_uas(request, tag)  # early: a PRACK or the caller's BYE may precede the 200
        ringing = respond_to(
            request,
            182 if verdict.use_182 else 180,
            "Queued" if verdict.use_182 else "Ringing",
            to_tag=tag,
            contact=contact,
            user_agent=self.user_agent,
        )
        if prack.enabled(line.settings if line else None) and supports_100rel(request):
            call.reliable = prack.ReliableProvisionals(agent, incoming.key, self.timers.t1)
            call.spawn(call.reliable.run())
            call.reliable.send(ringing)
        else:
            agent.respond(incoming.key, ringing)
        waiting = "intercom barge" if verdict.barge else "call waiting" if verdict.waiting else ""
        call.set_state(CallState.RINGING, waiting)
        self.hands_free.call_started()
        forward_after = verdict.forward_after if verdict.forward is not None else None
        outcome = await self._ring(call, verdict.answer_after, verdict.hangup_after, forward_after)
        if outcome == "forward" and verdict.forward is not None:
            await call.finish(f"forwarded to {verdict.forward.target} ({verdict.forward.why})")
            return self._redirect(request, tag, verdict.forward, line)
        if outcome == "reject":
            code = features.response_codes.reject
            await call.finish("rejected")
            return refuse(code, policy.reason_phrase(code))
        if outcome == "no prack":
            await call.finish("no PRACK for the reliable provisional response")
            return refuse(500, "Server Internal Error", ("Warning", '399 portier "no PRACK within 64*T1"'))
        if outcome != "answer":
            status, reason = (
                (487, "Request Terminated") if outcome == "cancel" else (480, "Temporarily Unavailable")
            )
            await call.finish("cancelled by the caller" if outcome == "cancel" else "no answer")
            return refuse(status, reason)
        await self._hold_others(call, spare=replaced)
        ok = await self._accept(call, request, offer, line, tag, incoming)
        if replaced is not None and ok.status < 300:
            self.spawn(self.transfers.replace(replaced, call))
        return ok

    def _redirect(
        self, request: SipRequest, tag: str, redirect: policy.Redirect, line: LineInfo | None
    ) -> SipResponse:
        """Call forward: 302 with the target, as a number on the line's domain, a URI or an IP."""
        target = redirect.target.strip()
        if not target.startswith(("sip:", "sips:")):
            try:
                ipaddress.ip_address(target)
                target = f"sip:{target}"
            except ValueError:
                domain = (
                    line.domain if line else (request.uri.host if isinstance(request.uri, SipUri) else "")
                )
                target = f"sip:{target}@{domain}"
        return respond_to(
            request,
            302,
            "Moved Temporarily",
            to_tag=tag,
            contact=f"<{target}>",
            user_agent=self.user_agent,
            extra=(("Diversion", f"<{request.uri}>;reason={_DIVERSION[redirect.why]}"),),
        )

    async def _ring(
        self, call: Call, answer_after: float | None, timeout: float, forward_after: float | None = None
    ) -> str:
        waits: dict[asyncio.Future[object], str] = {
            asyncio.ensure_future(call.answered.wait()): "answer",
            asyncio.ensure_future(call.cancelled.wait()): "cancel",
            asyncio.ensure_future(call.rejected.wait()): "reject",
            asyncio.ensure_future(call.ended.wait()): "cancel",  # the caller's BYE in the early dialog
        }
        if call.reliable is not None:
            waits[asyncio.ensure_future(call.reliable.gave_up.wait())] = "no prack"
        if answer_after is not None:
            waits[asyncio.ensure_future(_after(answer_after))] = "answer"
        if forward_after is not None:
            waits[asyncio.ensure_future(_after(forward_after))] = "forward"
        waits[asyncio.ensure_future(_after(timeout))] = "timeout"
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if call.cancelled.is_set() or call.ended.is_set():
            return "cancel"
        if call.rejected.is_set():
            return "reject"
        return waits[next(iter(done))]

    async def _hold_others(self, call: Call, spare: Call | None = None) -> None:
        """Call waiting: the call that was talking goes on hold before the waiting one is taken (not
        ``spare``, the call an INVITE with Replaces is about to end)."""
        for other in call_waiting.to_hold(call, (c for c in self.calls.values() if c is not spare)):
            try:
                await self.hold(other.call_id)
            except ValueError as exc:
                log.info("call %s: could not hold it for call %s: %s", other.call_id, call.call_id, exc)
                continue
            other.held_for = call.call_id

    async def _accept(
        self,
        call: Call,
        request: SipRequest,
        offer: object,
        line: LineInfo | None,
        tag: str,
        incoming: IncomingRequest,
    ) -> SipResponse:
        settings = self._settings()
        try:
            call.rtp_port = self.ports.acquire()
        except PortsExhausted as exc:
            await call.finish(str(exc))
            return respond_to(request, 486, "Busy Here", to_tag=tag, user_agent=self.user_agent)
        host = call.agent.local_ip(incoming.source.host)
        policy = media_policy(
            line.settings if line else None, settings.intercom.media, address=host, port=call.rtp_port
        )
        from portier.sip.sdp import SessionDescription

        assert isinstance(offer, SessionDescription)
        session_id = secrets.randbits(31)
        call.sdp_session = call.sdp_version = session_id
        keys = self.srtp_keys()
        result = make_answer(offer, policy, session_id=session_id, version=session_id, crypto_keys=keys)
        if isinstance(result, Rejected):
            await call.finish(result.reason)
            return respond_to(
                request,
                result.status,
                "Not Acceptable Here",
                to_tag=tag,
                user_agent=self.user_agent,
                extra=(("Warning", f'399 portier "{result.reason}"'),),
            )
        try:
            await self.start_stream(call, result.chosen, host, receive_dtmf=result.chosen.telephone_event_pt)
        except Exception as exc:
            log.exception("call %s: media failed to start", call.call_id)
            await call.finish(f"media failed: {exc}")
            return respond_to(request, 500, "Server Internal Error", to_tag=tag, user_agent=self.user_agent)
        ok = respond_to(
            request,
            200,
            "OK",
            to_tag=tag,
            contact=call.contact,
            user_agent=self.user_agent,
            body=result.sdp.encode(),
            extra=call.timer.headers() if call.timer else (),
        )
        if call.reliable is not None:
            call.reliable.finish()  # our 1xx carry no SDP, so the 2xx need not wait for their PRACK (§3)
        if call.dialog is None:
            call.dialog = Dialog.as_uas(request, tag)
        call.dialog.send_response(ok)
        call.set_state(CallState.TALKING)
        self.limit_talking(call)
        if call.timer is not None:
            call.spawn(self.run_session_timer(call, call.timer.we_refresh(we_are_uas=True)))
        call.answer_sdp = result.sdp
        call.offer_sdp = offer
        assert incoming.key is not None
        call.spawn(call.retransmit_ok(incoming.key, ok, self.timers.t1, self.timers.t2))
        return ok

    async def start_stream(
        self, call: Call, chosen: NegotiatedMedia, host: str, *, receive_dtmf: int | None
    ) -> None:
        settings = self._settings()
        assert call.rtp_port is not None
        qos = settings.network.advanced.qos
        config = StreamConfig(
            local_host=host,
            local_port=call.rtp_port,
            remote_host=chosen.remote_address,
            remote_port=chosen.remote_port,
            send_codec=chosen.send_codec.name,
            send_payload_type=chosen.send_codec.payload_type,
            receive_codecs={c.payload_type: c.name for c in chosen.receive_codecs if not c.is_auxiliary},
            ptime=chosen.ptime,
            send_dtmf_payload_type=chosen.telephone_event_pt,
            receive_dtmf_payload_type=receive_dtmf,
            remote_rtcp_port=chosen.remote_rtcp_port,
            dscp=qos.audio_dscp if qos.enable else None,
            codec_options=codec_options(settings.intercom.media),
            sends=chosen.sends,
            receives=chosen.receives,
            inband_dtmf=self._inband(call, chosen),
            vad=settings.intercom.media.vad,
            send_cn_payload_type=chosen.comfort_noise_pt,
            receive_cn_payload_type=chosen.receive_comfort_noise_pt,
            keep_alive=settings.intercom.media.rtp_keep_alive,
            srtp=SrtpKeys(chosen.crypto.suite, chosen.crypto.local_key, chosen.crypto.remote_key)
            if chosen.crypto is not None
            else None,
        )
        from portier.media.codecs import codec_info

        rate = codec_info(
            chosen.send_codec.name,
            **codec_options(settings.intercom.media).get(chosen.send_codec.name.lower(), {}),
        ).sample_rate
        name = f"{call.direction}-{call.call_id.split('@')[0]}"[:80]
        stream = RtpStream(
            config,
            self.audio_in.source(rate, gain=gain_of(self._settings, lambda s: self._microphone_db(call, s))),
            self.audio_out.sink(rate, name, gain=gain_of(self._settings, self._speaker_db)),
            on_dtmf=call.digit,
        )
        await stream.start()
        call.stream = stream

    @staticmethod
    def srtp_keys() -> dict[str, bytes]:
        """Fresh SDES master keys (16-byte key + 14-byte salt) per suite, used only if SRTP is agreed."""
        return {suite: secrets.token_bytes(30) for suite in SRTP_SUITES}

    @staticmethod
    def _speaker_db(settings: Settings) -> float:
        """Speakerphone volume as a gain (read when the settings change, not every frame: ``gain_of``)."""
        return volume_db(settings.intercom.media.volume.speakerphone_volume)

    @staticmethod
    def _microphone_db(call: Call, settings: Settings) -> float:
        """Hands-free microphone gain; silence in an intercom call with "Enable Intercom Mute"."""
        if call.intercom and settings.intercom.features.intercom.mute:
            return MUTED_DB
        return microphone_db(settings.intercom.media.volume.microphone_gain)

    def _inband(self, call: Call, chosen: NegotiatedMedia) -> bool:
        """Listen for tones when DTMF Type is In-band, or AUTO and the peer has no telephone-event."""
        line = self.lines.get(call.line)
        mode = line.settings.dtmf_mode if line else self._settings().lines.p2p.dtmf_mode
        return mode == DtmfMode.INBAND or (mode == DtmfMode.AUTO and chosen.telephone_event_pt is None)

    def _reinvite(self, request: SipRequest) -> SipResponse:
        """A re-INVITE (§14): answer the new offer on the same RTP port; hold and resume move the stream."""
        call = self.call_of(request)
        if call is None or call.dialog is None or call.rtp_port is None:
            return respond_to(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag())
        tag = call.dialog.local_tag
        rejection = call.dialog.receive_request(request)
        if rejection is not None:
            return respond_to(request, rejection.status, rejection.reason, to_tag=tag)
        try:
            offer = parse_sdp(request.body)
        except SdpError as exc:
            return respond_to(
                request, 488, "Not Acceptable Here", to_tag=tag, extra=(("Warning", f'399 portier "{exc}"'),)
            )
        settings = self._settings()
        line = self.lines.get(call.line)
        host = call.agent.local_ip(call.destination.host)
        policy = media_policy(
            line.settings if line else None, settings.intercom.media, address=host, port=call.rtp_port
        )
        call.sdp_version += 1
        result = make_answer(offer, policy, session_id=call.sdp_session, version=call.sdp_version)
        if isinstance(result, Rejected):
            return respond_to(
                request,
                result.status,
                "Not Acceptable Here",
                to_tag=tag,
                extra=(("Warning", f'399 portier "{result.reason}"'),),
            )
        chosen = result.chosen
        if call.stream is not None:
            call.stream.redirect(
                chosen.remote_address, chosen.remote_port, sends=chosen.sends, receives=chosen.receives
            )
        held = not chosen.receives or not chosen.sends
        call.set_state(CallState.HELD if held else CallState.TALKING)
        ok = respond_to(
            request,
            200,
            "OK",
            to_tag=tag,
            contact=call.contact,
            user_agent=self.user_agent,
            body=result.sdp.encode(),
            extra=call.timer.headers() if call.timer else (),
        )
        call.dialog.send_response(ok)
        call.refreshed.set()
        return ok

    async def hold(self, call_id: str | None = None, *, resume: bool = False) -> None:
        """Put the call on hold with a re-INVITE (sendonly, or inactive per "Enable Use Inactive Hold"),
        or take it off hold."""
        call = self._pick(call_id, CallState.HELD if resume else CallState.TALKING)
        previous = call.answer_sdp or call.offer_sdp if call else None
        if call is None or call.dialog is None or previous is None:
            raise ValueError("no call to " + ("resume" if resume else "hold"))
        line = self.lines.get(call.line)
        inactive = bool(line and line.settings.inactive_hold)
        offer = resume_offer(previous) if resume else hold_offer(previous, inactive=inactive)
        await self._reoffer(call, offer)
        if not resume and call.stream is not None:  # a held party hears nothing of the room
            host, port = call.stream.remote
            call.stream.redirect(host, port, sends=False, receives=False)
        call.set_state(CallState.TALKING if resume else CallState.HELD)

    async def _reoffer(self, call: Call, offer: SessionDescription) -> None:
        """A re-INVITE with ``offer`` (hold, resume, session refresh); the stream follows the answer."""
        assert call.dialog is not None
        via = call.agent.make_via(call.destination)
        extra = call.timer.headers()[:1] if call.timer else ()
        invite, _ = call.dialog.create_request(
            "INVITE",
            via=via,
            contact=call.contact,
            body=offer.encode(),
            content_type="application/sdp",
            user_agent=self.user_agent,
            headers=extra,
        )
        result = await call.agent.request(invite, call.destination)
        if isinstance(result, RequestFailed) or not 200 <= result.status < 300:
            raise ValueError(f"the re-INVITE was refused: {result}")
        call.dialog.receive_response(result)
        ack, _ = call.dialog.create_request(
            "ACK",
            via=call.agent.make_via(call.destination),
            contact=None,
            cseq=invite.cseq().seq,
            user_agent=self.user_agent,
        )
        await call.agent.send_raw(bytes(ack), call.destination)
        try:
            chosen = accept_answer(offer, parse_sdp(result.body))
        except SdpError as exc:
            chosen = Rejected(str(exc))
        if isinstance(chosen, Rejected):
            raise ValueError(f"the answer to the re-INVITE is unusable: {chosen.reason}")
        if call.stream is not None:
            call.stream.redirect(
                chosen.remote_address, chosen.remote_port, sends=chosen.sends, receives=chosen.receives
            )
        call.answer_sdp, call.offer_sdp = None, offer

    async def run_session_timer(self, call: Call, we_refresh: bool) -> None:
        """RFC 4028 §10: refresh at half the interval, or end the call when the peer's refresh is late."""
        timer = call.timer
        assert timer is not None
        while not call.ended.is_set():
            if we_refresh:
                await asyncio.sleep(timer.interval / 2)
                previous = call.answer_sdp or call.offer_sdp
                if previous is None or call.ended.is_set():
                    return
                direction = previous.direction_of(previous.media[0]) if previous.media else "sendrecv"
                try:
                    await self._reoffer(call, resume_offer(previous, direction=direction))
                except ValueError as exc:
                    await call.hangup(f"session refresh failed: {exc}")
                    return
                continue
            call.refreshed.clear()
            try:
                await asyncio.wait_for(call.refreshed.wait(), timer.deadline())
            except TimeoutError:
                await call.hangup("session timer expired")
                return

    def _on_update(self, incoming: IncomingRequest) -> SipResponse:
        """UPDATE without a body refreshes the session (RFC 3311, RFC 4028); with one it is refused."""
        request = incoming.request
        call = self.call_of(request)
        if call is None or call.dialog is None:
            return respond_to(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag())
        tag = call.dialog.local_tag
        rejection = call.dialog.receive_request(request)
        if rejection is not None:
            return respond_to(request, rejection.status, rejection.reason, to_tag=tag)
        if request.body:
            return respond_to(
                request,
                488,
                "Not Acceptable Here",
                to_tag=tag,
                extra=(("Warning", '399 portier "offers in UPDATE are not supported"'),),
            )
        call.refreshed.set()
        return respond_to(
            request,
            200,
            "OK",
            to_tag=tag,
            user_agent=self.user_agent,
            extra=call.timer.headers() if call.timer else (),
        )

    def limit_talking(self, call: Call) -> None:
        """ "Limit Talking Duration": a door call cannot be left open for ever."""
        basic = self._settings().intercom.features.basic
        if basic.limit_talking_duration:
            call.spawn(_hangup_after(call, float(basic.talking_duration)))

    async def send_dtmf(self, digit: str, call_id: str | None = None) -> None:
        """Send a digit the way the call's line says (DTMF Type: RFC 2833, SIP INFO, AUTO)."""
        call = self._pick(call_id, CallState.TALKING)
        if call is None or call.dialog is None:
            raise ValueError("no call in talking state")
        settings = self._settings()
        line = self.lines.get(call.line)
        mode = line.settings.dtmf_mode if line else settings.lines.p2p.dtmf_mode
        info_mode = line.settings.dtmf_info_mode if line else settings.lines.p2p.dtmf_info_mode
        rtp_possible = call.stream is not None and call.stream.config.send_dtmf_payload_type is not None
        if mode in (DtmfMode.RFC2833, DtmfMode.AUTO) and rtp_possible:
            assert call.stream is not None
            call.stream.send_dtmf(digit)
            return
        if mode == DtmfMode.INBAND or (
            mode == DtmfMode.AUTO and call.stream is not None and not rtp_possible
        ):
            assert call.stream is not None
            call.stream.send_tone_digit(digit)
            return
        body = make_dtmf_relay(digit, numeric_star_pound=info_mode == DtmfInfoMode.SEND_10_11)
        via = call.agent.make_via(call.destination)
        info, _ = call.dialog.create_request(
            "INFO",
            via=via,
            contact=None,
            body=body,
            content_type="application/dtmf-relay",
            user_agent=self.user_agent,
        )
        result = await call.agent.request(info, call.destination)
        if isinstance(result, RequestFailed) or result.status >= 300:
            raise ValueError(f"the INFO with digit {digit!r} was not accepted: {result}")

    # --- in-dialog requests -------------------------------------------------------------------------

    def call_of(self, request: SipRequest) -> Call | None:
        call = self.calls.get(request.call_id())
        if call is None or call.dialog is None:
            return None
        found = dialog_id_of_request(request)
        return call if found is not None and found == call.dialog.id else None

    async def _on_notify(self, incoming: IncomingRequest) -> SipResponse | None:
        """NOTIFYs go to the handler of their event package (RFC 6665 §8.2.1: 489 for none)."""
        request = incoming.request
        try:
            package, _ = parse_event(request.get("Event") or "")
        except SipParseError:
            package = ""
        handler = self.notify_handlers.get(package)
        if handler is None:
            return respond_to(request, 489, "Bad Event", to_tag=request.to().tag or new_tag())
        result = handler(incoming)
        return await result if inspect.isawaitable(result) else result

    def _on_ack(self, incoming: IncomingRequest) -> None:
        call = self.calls.get(incoming.request.call_id())
        if call is not None:
            call.acked.set()

    async def _on_bye(self, incoming: IncomingRequest) -> SipResponse:
        request = incoming.request
        call = self.call_of(request)
        if call is None or call.dialog is None:
            return respond_to(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag())
        rejection = call.dialog.receive_request(request)
        if rejection is not None:
            return respond_to(request, rejection.status, rejection.reason, to_tag=call.dialog.local_tag)
        call.acked.set()
        call.far_end_ended = call.state in (CallState.TALKING, CallState.HELD)
        await call.finish("remote hangup")
        return respond_to(request, 200, "OK", to_tag=call.dialog.local_tag, user_agent=self.user_agent)

    def _on_prack(self, incoming: IncomingRequest) -> SipResponse:
        """A PRACK (RFC 3262 §3): 200 when it acknowledges our reliable 1xx, 481 when it names none."""
        request = incoming.request
        call = self.call_of(request)
        if call is None or call.dialog is None or call.reliable is None:
            return respond_to(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag())
        tag = call.dialog.local_tag
        rejection = call.dialog.receive_request(request)
        if rejection is not None:
            return respond_to(request, rejection.status, rejection.reason, to_tag=tag)
        if not call.reliable.on_prack(request):
            return respond_to(request, 481, "Call/Transaction Does Not Exist", to_tag=tag)
        return respond_to(request, 200, "OK", to_tag=tag, user_agent=self.user_agent)

    def _on_cancel(self, incoming: IncomingRequest) -> None:
        for call in self.calls.values():
            if call.invite_key == incoming.key and call.state is CallState.RINGING:
                call.cancelled.set()

    def _on_info(self, incoming: IncomingRequest) -> SipResponse:
        request = incoming.request
        call = self.call_of(request)
        if call is None or call.dialog is None:
            return respond_to(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag())
        tag = call.dialog.local_tag
        try:
            info = parse_dtmf_info(request.get("Content-Type") or "", request.body)
        except DtmfInfoError as exc:
            return respond_to(
                request,
                415,
                "Unsupported Media Type",
                to_tag=tag,
                extra=(("Warning", f'399 portier "{exc}"'),),
            )
        call.digit(info.digit, "info")
        return respond_to(request, 200, "OK", to_tag=tag, user_agent=self.user_agent)

    # --- outgoing ---------------------------------------------------------------------------------

    async def dial(
        self,
        target: str,
        *,
        line: int | None = None,
        agent: UserAgent | None = None,
        intercom: bool = False,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Call:
        """Call ``target``: a number on a line, a SIP URI, or an IP address (direct call).

        ``intercom`` asks the callee to answer at once (Call-Info answer-after=0); ``headers`` go
        into the INVITE (a transfer's Replaces and Referred-By). Policy may refuse (Ban Outgoing,
        restricted outgoing list) with a ValueError that says why.
        """
        settings = self._settings()
        info = self.lines.get(line) if line else None
        if info is not None:
            _check_registered(info)
        decision = policy.decide_outgoing(
            target, info.number if info else 0, settings, self.restricted_outgoing()
        )
        if isinstance(decision, policy.Refuse):
            raise ValueError(decision.why)
        uri, destination = self._target(decision.number, info, settings)
        chosen_agent = info.agent if info else agent
        if chosen_agent is None:
            raise ValueError("no SIP agent to call from")
        call_id = new_call_id()
        host = chosen_agent.local_ip(destination.host)
        port = chosen_agent.transport.local(destination.transport).port
        user = info.settings.username if info else "portier"
        from_uri = f"sip:{user}@{info.domain if info else host}"
        # Send Anonymous: the Contact must not give the user away either (RFC 3323 §4.1)
        contact = f"<sip:{host}:{port}>" if decision.anonymous else f"<sip:{user}@{host}:{port}>"
        call = Call(
            call_id=call_id,
            line=info.number if info else 0,
            direction="outgoing",
            remote=uri,
            agent=chosen_agent,
            publish=self._publish,
            ports=self.ports,
            user_agent=self.user_agent,
            contact=contact,
            destination=destination,
            state=CallState.CALLING,
            forget=self._forget,
            intercom=intercom,
            anonymous=decision.anonymous,
            invite_headers=headers,
        )
        self.calls[call_id] = call
        call.set_state(CallState.CALLING)
        self.hands_free.call_started()
        call.spawn(outgoing.place(self, call, uri, from_uri, info, settings))
        return call

    def _target(self, target: str, info: LineInfo | None, settings: Settings) -> tuple[str, Endpoint]:
        text = target.strip()
        if text.startswith(("sip:", "sips:")):
            uri = SipUri.parse(text)
            return text, Endpoint(
                str(uri.param("transport") or "udp").upper(), uri.host.strip("[]"), uri.port or 5060
            )
        prefix = settings.intercom.features.basic.p2p_ip_prefix
        if text.startswith("#") and prefix not in ("", "."):
            text = prefix + text[1:]
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(text)
            return f"sip:{text}", Endpoint("UDP", text, 5060)
        if info is None:
            raise ValueError(f"{target!r} is neither an IP address nor a SIP URI, and no line was given")
        destination = info.destination()
        if destination is None:
            raise ValueError(f"line {info.number} has no server to call through yet")
        user = escape_user(text, convert=False)  # '#' in a feature code is %23; '*' stays as dialled
        return f"sip:{user}@{info.domain}", destination


async def _after(seconds: float) -> object:
    await asyncio.sleep(seconds)
    return None


async def _hangup_after(call: Call, seconds: float) -> None:
    await asyncio.sleep(seconds)
    await call.hangup("talking duration limit")


def _check_registered(info: LineInfo) -> None:
    """ "Dial Without Registered" off: a line that registers calls out only while its registrar has
    it. A line with registration off (Unapplied) is a proxy-only line and always calls out."""
    status = info.status() if info.status is not None else None
    if status in (None, "Registered", "Unapplied") or info.settings.dial_without_registered:
        return
    raise ValueError(
        f"line {info.number} is not registered ({status}); calls go out on it only once it is, or "
        "with 'Dial Without Registered' on"
    )
