"""An outgoing call's INVITE transaction, from our offer to the confirmed dialog (RFC 3261 §13.2).

The INVITE carries our offer (and ``Supported: 100rel`` when the line has PRACK); digest challenges
are answered with the line's credentials. Provisional responses move the call to Alerting, are
PRACKed when reliable (``prack.py``; a repeated or out-of-order one is not looked at again), and
start early media (``early_media.py``). The 2xx confirms the dialog (the PRACKs' early one if any),
gets its ACK, which the call keeps to send again for every retransmission of that 2xx (§13.2.2.4),
and settles the media. A refusal or no answer at all is the far end's doing: auto handdown decides
when the device is idle again. Hanging up before the answer sends CANCEL (§9.1, once something rang)
and ends the call when the INVITE does; a 2xx that crossed the CANCEL gets its ACK and a BYE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from portier.phone import prack
from portier.phone.call import Call, CallState
from portier.phone.early_media import Change, EarlyMedia
from portier.phone.media_policy import media_policy
from portier.phone.session_timer import from_answer, offer_headers
from portier.phone.tone_player import EARLY_MEDIA
from portier.settings.schema import Settings
from portier.settings.sip_line import AnonymousStandard
from portier.sip.agent import ClientResult, RequestFailed
from portier.sip.auth import AuthAccount, DigestSession, Retry
from portier.sip.cancel import build_cancel
from portier.sip.dialog import Dialog, DialogError
from portier.sip.ids import new_tag
from portier.sip.message import SipRequest, SipResponse
from portier.sip.nameaddr import parse_name_addr
from portier.sip.offer_answer import NegotiatedMedia, Rejected, make_offer
from portier.sip.request import make_uac_request

if TYPE_CHECKING:
    from portier.phone.calls import CallManager, LineInfo

log = logging.getLogger(__name__)


def privacy_headers(standard: AnonymousStandard, from_uri: str) -> tuple[tuple[str, str], ...]:
    """What an anonymous call adds to its anonymous From, per the line's "Anonymous Call Standard".

    NONE: nothing; the callee sees "Anonymous" and a PBX still knows the caller by its digest login.
    RFC 3323: ``Privacy: header`` asks the network's privacy service to strip what could identify us
    (Via, Contact, Record-Route) too. RFC 3325: ``Privacy: id`` with ``P-Preferred-Identity``, so a
    trusted proxy learns who calls (and asserts it inside its network) while the callee does not.
    """
    if standard == AnonymousStandard.RFC3323:
        return (("Privacy", "header"),)
    if standard == AnonymousStandard.RFC3325:
        return (("Privacy", "id"), ("P-Preferred-Identity", f"<{from_uri}>"))
    return ()


async def place(
    manager: CallManager, call: Call, uri: str, from_uri: str, info: LineInfo | None, settings: Settings
) -> None:
    """Run the call's INVITE to its end; any failure ends the call with the reason."""
    try:
        await _place(manager, call, uri, from_uri, info, settings)
    except Exception as exc:
        log.exception("call %s failed", call.call_id)
        await call.finish(f"failed: {exc}")


async def _place(
    manager: CallManager, call: Call, uri: str, from_uri: str, info: LineInfo | None, settings: Settings
) -> None:
    agent = call.agent
    line = info.settings if info else None
    call.rtp_port = manager.ports.acquire()
    host = agent.local_ip(call.destination.host)
    policy = media_policy(line, settings.intercom.media, address=host, port=call.rtp_port)
    session_id = secrets.randbits(31)
    call.sdp_session = call.sdp_version = session_id
    offer = make_offer(policy, session_id=session_id, version=session_id, crypto_keys=manager.srtp_keys())
    dtmf = policy.dtmf.payload_type if policy.dtmf else None

    async def start(media: NegotiatedMedia) -> None:
        await manager.start_stream(call, media, host, receive_dtmf=dtmf)
        if call.state is CallState.ALERTING:  # the far end's early media plays: no local ringback
            call.set_state(CallState.ALERTING, EARLY_MEDIA)

    early = EarlyMedia(offer, start)
    identity = '"Anonymous" <sip:anonymous@anonymous.invalid>' if call.anonymous else f"<{from_uri}>"
    from_ = parse_name_addr(f"{identity};tag={new_tag()}", "From")
    to = parse_name_addr(f"<{uri}>", "To")
    auth = DigestSession(
        AuthAccount(line.username, line.auth_password, line.auth_user) if line else AuthAccount("portier", "")
    )
    credentials: tuple[tuple[str, str], ...] = ()
    extra = offer_headers(line.session_timer if line else False, line.session_timeout if line else 1800)
    extra += prack.offer_headers(line)
    extra += call.invite_headers  # a transfer's Replaces and Referred-By
    if call.anonymous:
        extra += privacy_headers(line.anonymous_standard if line else AnonymousStandard.NONE, from_uri)
    if call.intercom:  # the callee answers at once (Table 6; memory key subtype Intercom)
        extra += (("Call-Info", f"<{uri}>;answer-after=0"),)
    ringing = asyncio.Event()
    cseq = 1
    while True:
        request = make_uac_request(
            "INVITE",
            uri,
            from_=from_,
            to=to,
            call_id=call.call_id,
            cseq=cseq,
            via=agent.make_via(call.destination),
            contact=call.contact,
            headers=credentials + extra,
            body=offer.encode(),
            content_type="application/sdp",
            user_agent=manager.user_agent,
        )
        pracks = (
            prack.PrackSender(request, agent, call.destination, call.spawn, manager.user_agent)
            if prack.enabled(line)
            else None
        )

        def provisional(response: SipResponse, pracks: prack.PrackSender | None = pracks) -> None:
            ringing.set()
            if call.state is CallState.ENDED or call.cancelled.is_set():
                return
            if response.status in (180, 183) and call.state is CallState.CALLING:
                call.set_state(CallState.ALERTING)
            if pracks is not None and not pracks.on_provisional(response):
                return  # a reliable response seen before, or one out of order (RFC 3262 §4)
            early.on_provisional(response)

        pending = asyncio.ensure_future(
            agent.request(
                request, call.destination, on_provisional=provisional, on_repeated_2xx=call.repeat_ack
            )
        )
        result = await _final_or_cancel(call, request, pending, ringing, 64 * manager.timers.t1)
        if isinstance(result, RequestFailed):
            call.far_end_ended = not call.cancelled.is_set()
            early.cancel()
            await call.finish("local hangup" if call.cancelled.is_set() else result.reason)
            return
        if result.status in (401, 407) and info is not None:
            header = "WWW-Authenticate" if result.status == 401 else "Proxy-Authenticate"
            answer = auth.on_challenge(result.status, result.get_all(header), "INVITE", uri, offer.encode())
            if isinstance(answer, Retry):
                credentials, cseq = answer.headers, cseq + 1
                continue
        break
    if not 200 <= result.status < 300:
        call.far_end_ended = not call.cancelled.is_set()
        early.cancel()
        refused = f"{result.status} {result.reason}".strip()
        await call.finish("local hangup" if call.cancelled.is_set() else refused)
        return
    try:
        call.dialog = (pracks.confirm(result) if pracks else None) or Dialog.as_uac(request, result)
    except DialogError as exc:
        await call.finish(f"bad 2xx: {exc}")
        return
    call.invite = request
    ack, _ = call.dialog.create_request(
        "ACK", via=agent.make_via(call.destination), contact=None, cseq=cseq, user_agent=manager.user_agent
    )
    call.ack = bytes(ack)
    await agent.send_raw(call.ack, call.destination)
    if call.state is CallState.ENDED or call.cancelled.is_set():  # the 2xx crossed our CANCEL: ACK, BYE
        early.cancel()
        bye, _ = call.dialog.create_request("BYE", via=agent.make_via(call.destination), contact=None)
        await agent.request(bye, call.destination)
        await call.finish("local hangup")
        return
    settled = await early.settle(result)
    if isinstance(settled.media, Rejected):
        await call.hangup(f"unusable answer: {settled.media.reason}")
        return
    await _settle_stream(manager, call, settled.media, settled.change, start)
    call.set_state(CallState.TALKING)
    call.offer_sdp = offer
    manager.limit_talking(call)
    call.timer = from_answer(result)
    if call.timer is not None:
        call.spawn(manager.run_session_timer(call, call.timer.we_refresh(we_are_uas=False)))


async def _final_or_cancel(
    call: Call,
    invite: SipRequest,
    pending: asyncio.Future[ClientResult],
    ringing: asyncio.Event,
    limit: float,
) -> ClientResult:
    """The INVITE's final response; a hang-up meanwhile (``call.cancelled``) sends the CANCEL (§9.1)."""
    hung_up: asyncio.Future[object] = asyncio.ensure_future(call.cancelled.wait())
    waits: set[asyncio.Future[object]] = {pending, hung_up}  # type: ignore[arg-type]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hung_up.cancel()
    if pending.done():
        return pending.result()
    with contextlib.suppress(TimeoutError):  # no CANCEL before a provisional response (§9.1)
        await asyncio.wait_for(ringing.wait(), limit)
    if not pending.done():
        result = await call.agent.request(build_cancel(invite), call.destination)
        if isinstance(result, RequestFailed) or result.status >= 300:
            log.info("call %s: the CANCEL was not accepted: %s", call.call_id, result)
    return await pending


async def _settle_stream(
    manager: CallManager,
    call: Call,
    media: NegotiatedMedia,
    change: Change | None,
    start: Callable[[NegotiatedMedia], Coroutine[Any, Any, None]],
) -> None:
    """The stream the 2xx asks for: a new one, or the early one kept, moved or replaced."""
    stream = call.stream
    if change is None or stream is None:
        await start(media)
        return
    if change is Change.RESTART:
        log.info("call %s: the 2xx changed the codecs of the early media; new stream", call.call_id)
        call.stream = None
        await stream.stop()
        await start(media)
        return
    stream.redirect(media.remote_address, media.remote_port, sends=media.sends, receives=media.receives)
