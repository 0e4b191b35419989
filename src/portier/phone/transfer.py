"""Call transfer in all three roles (RFC 3515 REFER, RFC 3891 Replaces, RFC 5589 call flows).

Transferor (``transfer``): blind, the talking party is put on hold (RFC 5589 §6) and sent a REFER whose
Refer-To is the target; attended, the REFER's Refer-To is the consultation call's far end with a
Replaces header naming that call (§7), so the target swaps it for the transferee. The NOTIFYs of the
implicit subscription report how the new call goes (``sip/refer.py``'s ``ReferProgress``). A 2xx
report ends the transferee's call (and, attended, the target ends the consultation call, or the
device does); a failure keeps the calls, a blind one is taken off hold again. The line's "Transfer
Timeout" (0 = none) bounds the wait for the final report; past it the transfer counts as failed.

Transferee (``on_refer``): a REFER in a talking or held call is accepted with 202, the device calls
the Refer-To target (with its Replaces and the REFER's Referred-By), reports "100 Trying", the
provisional and the final status in NOTIFYs, and ends the original call once the new one talks.
``Refer-Sub: false`` (RFC 4488) is honoured: no NOTIFYs then.

Target (``find_replaced``/``replace``): an INVITE with Replaces that names a call of the device is
answered at once and the named call ends with BYE (or CANCEL while it was still ringing out).

Each transfer ends with one ``CallTransferred`` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from portier.events import CallTransferred
from portier.phone.call import Call, CallState, respond_to
from portier.sip import refer as wire
from portier.sip.agent import IncomingRequest, RequestFailed
from portier.sip.dialog import DialogId, DialogState, dialog_id_of_request
from portier.sip.errors import SipParseError
from portier.sip.ids import new_tag
from portier.sip.message import SipRequest, SipResponse
from portier.sip.uri import SipUri
from portier.sip.validate import Rejection

if TYPE_CHECKING:
    from portier.phone.calls import CallManager

log = logging.getLogger(__name__)

CONSULTATION_GRACE_S = 5.0
"""After an attended transfer succeeded, how long the target has to end the consultation call."""
AFTER_BYE_S = 10.0
"""How long reports are still awaited after the transferee hung up during a transfer."""
_STATUS = re.compile(r"([3-6]\d\d)\b\s*(.*)")


@dataclass
class _Watch:
    """One REFER the device sent, waiting for the transferee's reports."""

    call: Call
    refer_cseq: int
    progress: wire.ReferProgress = field(default_factory=wire.ReferProgress)
    settled: asyncio.Event = field(default_factory=asyncio.Event)


class Transfers:
    def __init__(self, manager: CallManager) -> None:
        self.manager = manager
        self._watching: dict[DialogId, _Watch] = {}

    # --- transferor ---------------------------------------------------------------------------------

    async def blind(self, call: Call, target: str, timeout: float) -> CallTransferred:
        """Send ``call``'s party to ``target`` (a SIP URI), holding it meanwhile."""
        self._check_transferable(call)
        held_here = False
        if call.state is CallState.TALKING:
            try:
                await self.manager.hold(call.call_id)
                held_here = True
            except ValueError as exc:  # a party that refuses hold can still be transferred
                log.info("call %s: not held before the transfer: %s", call.call_id, exc)
        watch = await self._refer(call, wire.refer_to(target), timeout)
        if watch.progress.outcome is wire.Outcome.SUCCEEDED:
            await call.hangup(f"transferred to {target}")
        elif held_here and call.state is CallState.HELD:
            with contextlib.suppress(ValueError):
                await self.manager.hold(call.call_id, resume=True)
        return self._report(call, target, "blind", watch.progress)

    async def attended(self, call: Call, consultation: Call, timeout: float) -> CallTransferred:
        """Send ``call``'s party to the far end of ``consultation``, replacing that call."""
        self._check_transferable(call)
        dialog = consultation.dialog
        if dialog is None or dialog.state is not DialogState.CONFIRMED:
            raise ValueError(f"the consultation call {consultation.call_id} is not answered yet")
        replaces = wire.Replaces(dialog.call_id, to_tag=dialog.remote_tag, from_tag=dialog.local_tag)
        target = str(dialog.remote_target)
        watch = await self._refer(call, wire.refer_to(dialog.remote_target, replaces), timeout)
        if watch.progress.outcome is wire.Outcome.SUCCEEDED:
            await call.hangup(f"transferred to {consultation.remote}")
            with contextlib.suppress(TimeoutError):  # the target BYEs the replaced call (RFC 3891 §3)
                await asyncio.wait_for(consultation.ended.wait(), CONSULTATION_GRACE_S)
            await consultation.hangup("transferred")
        return self._report(call, target, "attended", watch.progress, new_call_id=consultation.call_id)

    def _check_transferable(self, call: Call) -> None:
        dialog = call.dialog
        if dialog is None or dialog.state is not DialogState.CONFIRMED:
            raise ValueError(f"call {call.call_id} is not answered, so it cannot be transferred")
        if dialog.id in self._watching:
            raise ValueError(f"call {call.call_id} is already being transferred")

    async def _refer(self, call: Call, refer_to: str, timeout: float) -> _Watch:
        dialog = call.dialog
        assert dialog is not None
        headers = (("Refer-To", refer_to), ("Referred-By", wire.referred_by(dialog.local_uri.uri)))
        request, _ = dialog.create_request(
            "REFER",
            via=call.agent.make_via(call.destination),
            contact=call.contact,
            headers=headers,
            user_agent=self.manager.user_agent,
        )
        watch = _Watch(call, request.cseq().seq)
        self._watching[dialog.id] = watch  # before sending: a NOTIFY may overtake the 202 (§2.4.6)
        try:
            result = await call.agent.request(request, call.destination)
            if isinstance(result, RequestFailed):
                watch.progress.give_up(f"the REFER got no answer: {result.reason}")
            else:
                dialog.receive_response(result)
                watch.progress.on_response(
                    result.status, result.reason, refer_sub_false=wire.no_subscription(result)
                )
            await self._await_outcome(watch, timeout)
        finally:
            self._watching.pop(dialog.id, None)
        return watch

    async def _await_outcome(self, watch: _Watch, timeout: float) -> None:
        """Until the final report, the Transfer Timeout, or the transferee's hang-up plus a grace."""
        if watch.progress.outcome is not wire.Outcome.PENDING:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout > 0 else None
        while watch.progress.outcome is wire.Outcome.PENDING:
            waits: list[float] = [] if deadline is None else [deadline - loop.time()]
            if watch.call.ended.is_set():
                waits.append(AFTER_BYE_S)
            limit = min(waits) if waits else None
            if limit is not None and limit <= 0:
                break
            settled = asyncio.ensure_future(watch.settled.wait())
            ended = asyncio.ensure_future(watch.call.ended.wait())
            pending = {settled} if watch.call.ended.is_set() else {settled, ended}
            done, _ = await asyncio.wait(pending, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
            settled.cancel()
            ended.cancel()
            if not done:
                break
        if deadline is not None and loop.time() >= deadline:
            watch.progress.give_up(f"no final report within {timeout:g} s (Transfer Timeout)")
        else:
            watch.progress.give_up("the transferee hung up before it reported how the transfer went")

    def on_notify(self, incoming: IncomingRequest) -> SipResponse:
        """A NOTIFY of the implicit subscription of a REFER the device sent."""
        request = incoming.request
        found = dialog_id_of_request(request)
        watch = self._watching.get(found) if found is not None else None
        tag = request.to().tag or new_tag()
        if watch is None:
            return respond_to(request, 481, "Subscription Does Not Exist", to_tag=tag)
        _, event_id = wire.parse_event(request.get("Event") or "refer")
        if event_id is not None and event_id != str(watch.refer_cseq):
            return respond_to(request, 481, "Subscription Does Not Exist", to_tag=tag)
        dialog = watch.call.dialog
        if dialog is not None and dialog.state is not DialogState.TERMINATED:
            rejection = dialog.receive_request(request)
            if rejection is not None:
                return respond_to(request, rejection.status, rejection.reason, to_tag=tag)
        try:
            status, reason = wire.parse_sipfrag(request.body)
        except SipParseError as exc:
            log.info("call %s: unreadable transfer report: %s", watch.call.call_id, exc)
            status, reason = None, ""
        terminated = wire.is_terminated(request.get("Subscription-State"))
        outcome = watch.progress.on_notify(status, reason, terminated=terminated)
        log.info("call %s: transfer report %s %s -> %s", watch.call.call_id, status, reason, outcome.value)
        if outcome is not wire.Outcome.PENDING:
            watch.settled.set()
        return respond_to(request, 200, "OK", to_tag=tag, user_agent=self.manager.user_agent)

    def _report(
        self, call: Call, target: str, kind: str, progress: wire.ReferProgress, new_call_id: str = ""
    ) -> CallTransferred:
        event = CallTransferred(
            call.call_id,
            target,
            kind,
            "succeeded" if progress.outcome is wire.Outcome.SUCCEEDED else "failed",
            role="transferor",
            reason=progress.reason,
            new_call_id=new_call_id,
        )
        log.info("call %s: %s transfer to %s %s: %s", call.call_id, kind, target, event.result, event.reason)
        self.manager.publish(event)
        return event

    # --- transferee ---------------------------------------------------------------------------------

    def on_refer(self, incoming: IncomingRequest) -> SipResponse | None:
        """A REFER in one of the device's calls: 202 and a new call, or the reason it cannot be."""
        request = incoming.request
        if not request.to().tag:
            warning = ("Warning", '399 portier "REFER is accepted only inside a call"')
            return respond_to(request, 403, "Forbidden", to_tag=new_tag(), extra=(warning,))
        call = self.manager.call_of(request)
        if call is None or call.dialog is None:
            return respond_to(request, 481, "Call/Transaction Does Not Exist", to_tag=new_tag())
        tag = call.dialog.local_tag
        rejection = call.dialog.receive_request(request)
        if rejection is None:
            rejection = check_refer(request, call)
        if rejection is not None:
            extra = (("Warning", f'399 portier "{rejection.detail}"'),) if rejection.detail else ()
            return respond_to(request, rejection.status, rejection.reason, to_tag=tag, extra=extra)
        target = wire.parse_refer_to(request.get("Refer-To") or "")
        silent = wire.no_subscription(request)
        granted: tuple[tuple[str, str], ...] = (("Refer-Sub", "false"), ("Supported", "norefersub"))
        assert incoming.key is not None
        accepted = respond_to(
            request,
            202,
            "Accepted",
            to_tag=tag,
            user_agent=self.manager.user_agent,
            contact=call.contact,
            extra=granted if silent else (),
        )
        call.agent.respond(incoming.key, accepted)  # the 202 before the first NOTIFY
        self.manager.spawn(self._follow(call, request, target, silent))
        return None

    async def _follow(
        self, original: Call, refer: SipRequest, target: wire.ReferTarget, silent: bool
    ) -> None:
        """Place the call the REFER asked for and report it to the transferor."""
        uri = str(target.uri)

        async def notify(status: int, reason: str, final: bool) -> None:
            if not silent:
                await self._notify(original, refer, status, reason, final)

        await notify(100, "Trying", False)
        headers: tuple[tuple[str, str], ...] = ()
        if target.replaces is not None:
            headers += (("Replaces", str(target.replaces)),)
        if (by := refer.get("Referred-By")) is not None:
            headers += (("Referred-By", by),)
        kind = "attended" if target.replaces is not None else "blind"
        try:
            new = await self.manager.dial(
                uri, line=original.line or None, agent=original.agent, headers=headers
            )
        except ValueError as exc:
            await notify(603, "Declined", True)
            self._transferee_report(original, uri, kind, False, str(exc))
            return
        changes: asyncio.Queue[CallState] = asyncio.Queue()
        stop = new.watch(lambda state, reason: changes.put_nowait(state))
        try:
            state = new.state
            ringing_told = False
            while state not in (CallState.TALKING, CallState.ENDED):
                state = await changes.get()
                if state is CallState.ALERTING and not ringing_told:
                    ringing_told = True
                    await notify(180, "Ringing", False)
        finally:
            stop()
        if new.state is CallState.ENDED:
            status, reason = failure_status(new.reason)
            await notify(status, reason, True)
            self._transferee_report(original, uri, kind, False, new.reason, new.call_id)
            return
        await notify(200, "OK", True)
        await original.hangup(f"transferred to {uri}")
        self._transferee_report(original, uri, kind, True, "", new.call_id)

    async def _notify(self, call: Call, refer: SipRequest, status: int, reason: str, final: bool) -> None:
        """A NOTIFY in the REFER's dialog (still fine after its BYE: the subscription outlives it)."""
        dialog = call.dialog
        if dialog is None:
            return
        request, _ = dialog.create_request(
            "NOTIFY",
            via=call.agent.make_via(call.destination),
            contact=call.contact,
            headers=(("Event", wire.event(refer)), ("Subscription-State", wire.subscription_state(final))),
            body=wire.sipfrag(status, reason),
            content_type=wire.SIPFRAG,
            user_agent=self.manager.user_agent,
        )
        result = await call.agent.request(request, call.destination)
        if isinstance(result, RequestFailed) or result.status >= 300:
            log.info("call %s: the transfer report %d was not taken: %s", call.call_id, status, result)

    def _transferee_report(
        self, call: Call, target: str, kind: str, ok: bool, reason: str, new_call_id: str = ""
    ) -> None:
        self.manager.publish(
            CallTransferred(
                call.call_id,
                target,
                kind,
                "succeeded" if ok else "failed",
                role="transferee",
                reason=reason,
                new_call_id=new_call_id,
            )
        )

    # --- target of an attended transfer (RFC 3891) ----------------------------------------------------

    def find_replaced(self, request: SipRequest) -> Call | Rejection | None:
        return find_replaced(request, self.manager.calls.values())

    async def replace(self, old: Call, new: Call) -> None:
        """``new`` (an INVITE with Replaces) is answered: end ``old`` and report it."""
        if old.state in (CallState.CALLING, CallState.ALERTING):
            old.cancelled.set()
        else:
            await old.hangup(f"replaced by call {new.call_id}")
        self.manager.publish(
            CallTransferred(
                old.call_id, new.remote, "attended", "succeeded", role="target", new_call_id=new.call_id
            )
        )


def find_replaced(request: SipRequest, calls: Iterable[Call]) -> Call | Rejection | None:
    """The call an INVITE's Replaces names (None: no Replaces), or the refusal §3 prescribes."""
    values = request.get_all("Replaces")
    if not values:
        return None
    if len(values) > 1:
        return Rejection(400, "Bad Request", detail="more than one Replaces header")
    try:
        replaces = wire.parse_replaces(values[0])
    except SipParseError as exc:
        return Rejection(400, "Bad Request", detail=str(exc))
    for call in calls:
        dialog = call.dialog
        if dialog is None or dialog.call_id != replaces.call_id:
            continue
        if (dialog.local_tag, dialog.remote_tag) != (replaces.to_tag, replaces.from_tag):
            continue
        if call.state is CallState.ENDED or dialog.state is DialogState.TERMINATED:
            return Rejection(603, "Declined", detail="the call it replaces has ended")
        if replaces.early_only and dialog.state is DialogState.CONFIRMED:
            return Rejection(486, "Busy Here", detail="the call it replaces is answered (early-only)")
        if dialog.state is DialogState.EARLY and call.direction == "incoming":
            break  # an early dialog this UA did not start cannot be replaced (§3)
        return call
    return Rejection(481, "Call/Transaction Does Not Exist", detail="Replaces names no call here")


def check_refer(request: SipRequest, call: Call) -> Rejection | None:
    """Whether a REFER can be acted on: one readable SIP Refer-To, in a call that is up."""
    if call.state not in (CallState.TALKING, CallState.HELD):
        return Rejection(603, "Declined", detail=f"the call is {call.state}, not talking")
    values = request.get_all("Refer-To")
    if len(values) != 1:
        return Rejection(400, "Bad Request", detail=f"a REFER needs exactly one Refer-To, not {len(values)}")
    try:
        target = wire.parse_refer_to(values[0])
    except SipParseError as exc:
        return Rejection(400, "Bad Request", detail=f"Refer-To: {exc}")
    if not isinstance(target.uri, SipUri):
        return Rejection(416, "Unsupported URI Scheme", detail=f"cannot call {target.uri} (only sip/sips)")
    return None


def failure_status(reason: str) -> tuple[int, str]:
    """The status to report for a new call that ended before talking, from the call's reason."""
    match = _STATUS.match(reason)
    if match is not None:
        return int(match.group(1)), match.group(2) or "Failed"
    if "timer" in reason or "no response" in reason:
        return 408, "Request Timeout"
    if reason == "local hangup":
        return 487, "Request Terminated"
    return 503, "Service Unavailable"
