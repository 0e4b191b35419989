"""PRACK on the device's calls (RFC 3262), per the line's "Enable PRACK"; the rules are in ``sip.reliable``.

As UAS: when the line allows it and the INVITE supports or requires 100rel, the 180 (or 182) goes out
reliably and is repeated until its PRACK; with no PRACK after 64*T1 the INVITE is refused with a 500.
An INVITE that requires 100rel on a line without PRACK is refused 420 (``unsupported``).
As UAC: the INVITE says ``Supported: 100rel`` and every reliable provisional response is PRACKed
once, in RSeq order, inside its early dialog; the 2xx then confirms that same dialog, so the CSeq
numbers the PRACKs used are not reused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from portier.settings.sip_line import SipLine
from portier.sip.agent import RequestFailed, UserAgent
from portier.sip.dialog import Dialog, DialogError
from portier.sip.message import SipRequest, SipResponse
from portier.sip.reliable import OPTION_TAG, RAck, ReliableError, ReliableReceiver, ReliableSender, rseq_of
from portier.sip.transaction import TxKey
from portier.sip.transport import Endpoint

log = logging.getLogger(__name__)


def enabled(line: SipLine | None) -> bool:
    """The line's "Enable PRACK"; direct IP calls have no such setting (Table 16) and go without."""
    return bool(line and line.prack)


def unsupported() -> tuple[tuple[str, str], ...]:
    """The header of the 420 to an INVITE requiring 100rel on a line without PRACK (RFC 3261 §8.2.2.3)."""
    return (("Unsupported", OPTION_TAG),)


def offer_headers(line: SipLine | None) -> tuple[tuple[str, str], ...]:
    return (("Supported", OPTION_TAG),) if enabled(line) else ()


class ReliableProvisionals:
    """The UAS core's repeats of one INVITE's reliable provisional response (the 2xx-like loop of §3)."""

    def __init__(self, agent: UserAgent, key: TxKey, t1: float) -> None:
        self.agent = agent
        self.key = key
        self.sender = ReliableSender(t1)
        self.gave_up = asyncio.Event()
        """Set when 64*T1 passed without a PRACK: the INVITE gets a 5xx."""
        self._wake = asyncio.Event()

    def send(self, response: SipResponse) -> SipResponse:
        reliable = self.sender.send(response, asyncio.get_running_loop().time())
        self.agent.respond(self.key, reliable)
        self._wake.set()
        return reliable

    def on_prack(self, request: SipRequest) -> bool:
        """Whether the PRACK acknowledges our response (200) or matches nothing (481)."""
        try:
            rack = RAck.parse(request.get("RAck") or "")
        except ReliableError as exc:
            log.info("PRACK with a bad RAck: %s", exc)
            return False
        matched = self.sender.on_prack(rack)
        self._wake.set()
        return matched

    def finish(self) -> None:
        self.sender.finish()
        self._wake.set()

    async def run(self) -> None:
        """Repeat the unacknowledged response at its deadlines until PRACK, final response or 64*T1."""
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.sender.next_deadline()
            self._wake.clear()
            if deadline is None:
                await self._wake.wait()
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), max(0.0, deadline - loop.time()))
                continue  # acknowledged, finished or a new response: look again
            except TimeoutError:
                pass
            outcome = self.sender.on_timer(max(loop.time(), deadline))
            if isinstance(outcome, SipResponse):
                self.agent.respond(self.key, outcome)
            elif outcome is not None:
                log.info("no PRACK for RSeq %d within 64*T1", outcome.rseq)
                self.gave_up.set()
                return


class PrackSender:
    """The UAC's PRACKs for one outgoing INVITE; one early dialog per answering UAS (To tag)."""

    def __init__(
        self,
        invite: SipRequest,
        agent: UserAgent,
        destination: Endpoint,
        spawn: Callable[[object], None],
        user_agent: str,
    ) -> None:
        self.invite = invite
        self.agent = agent
        self.destination = destination
        self.spawn = spawn
        self.user_agent = user_agent
        self.receiver = ReliableReceiver()
        self.early: dict[str, Dialog] = {}

    def on_provisional(self, response: SipResponse) -> bool:
        """PRACK ``response`` if it is a new reliable one; False when it must not be looked at again
        (a retransmission or out of order, §4), True otherwise."""
        rack = self.receiver.accept(response)
        if rack is None:
            return rseq_of(response) is None
        tag = response.to().tag or ""
        dialog = self.early.get(tag)
        try:
            if dialog is None:
                dialog = self.early[tag] = Dialog.as_uac(self.invite, response)
            else:
                dialog.receive_response(response)
            prack, _ = dialog.create_request(
                "PRACK",
                via=self.agent.make_via(self.destination),
                contact=None,
                headers=(("RAck", str(rack)),),
                user_agent=self.user_agent,
            )
        except DialogError as exc:
            log.info("cannot PRACK %d %s: %s", response.status, response.reason, exc)
            return True
        self.spawn(self._send(prack, rack))
        return True

    async def _send(self, prack: SipRequest, rack: RAck) -> None:
        result = await self.agent.request(prack, self.destination)
        if isinstance(result, RequestFailed) or result.status >= 300:
            log.info("PRACK for RSeq %d was not accepted: %s", rack.rseq, result)

    def confirm(self, final: SipResponse) -> Dialog | None:
        """The early dialog a 2xx confirms (it keeps the CSeq numbers the PRACKs used), if there is one."""
        dialog = self.early.get(final.to().tag or "")
        if dialog is None:
            return None
        dialog.receive_response(final)
        return dialog
