"""Server transactions: INVITE (RFC 3261 §17.2.1 + RFC 6026 §7.1) and non-INVITE (§17.2.2).

Why the server transaction remembers the last response: the peer's retransmitted request is its
only way of saying "I did not hear you", and the answer must be the exact response already sent
(§17.2.1, §17.2.2), produced here without bothering the TU. Why "Accepted": after a 2xx the TU (the
dialog) retransmits the 2xx itself until the ACK arrives (§13.3.1.4); RFC 6026 keeps the
transaction for Timer L so those retransmissions go out through it and retransmitted INVITEs are
absorbed instead of looking like new calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from portier.sip.message import Header, SipRequest, SipResponse
from portier.sip.timers import (
    Machine,
    Output,
    RequestReceived,
    TimerConfig,
    Transition,
    TxKey,
    is_reliable,
    response_class,
)

# §8.2.6.2: the headers a response copies from its request.
_COPIED = ("Via", "From", "To", "Call-ID", "CSeq")


class InviteServerState(Enum):
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class NonInviteServerState(Enum):
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


def make_response(request: SipRequest, status: int, reason: str) -> SipResponse:
    """A response copying Via (all), From, To, Call-ID, CSeq (§8.2.6.2) and Timestamp (§8.2.6.1).

    Used here only for the transaction's own 100 Trying; the TU builds the others with its tags.
    """
    headers = [Header(h.name, h.value) for h in request.headers if h.name in _COPIED]
    headers += [Header("Timestamp", v) for v in request.get_all("Timestamp")]
    headers.append(Header("Content-Length", "0"))
    return SipResponse(status=status, reason=reason, headers=headers, version=request.version)


@dataclass(kw_only=True)
class ServerTransaction(Machine):
    """What both server machines share: the request and the last response sent (and its bytes)."""

    request: SipRequest
    last_response: SipResponse | None = None
    _last_data: bytes = b""
    _pending: SipResponse | None = None
    _received: SipRequest | None = None
    _interval: float = 0.0

    INITIAL: ClassVar[Enum]

    @classmethod
    def create(
        cls, request: SipRequest, key: TxKey, config: TimerConfig | None = None, reliable: bool | None = None
    ) -> ServerTransaction:
        """The right machine for ``request``; ``reliable`` defaults from the top Via's transport."""
        via = request.vias()[0]
        kind: type[ServerTransaction] = InviteServer if request.method == "INVITE" else NonInviteServer
        return kind(
            key=key,
            reliable=is_reliable(via.transport) if reliable is None else reliable,
            config=config or TimerConfig(),
            state=kind.INITIAL,
            request=request,
        )

    def start(self, now: float) -> list[Output]:
        """Announce the request to the TU and arm the first timers."""
        return self._input("start", now)

    def receive(self, request: SipRequest, now: float) -> list[Output]:
        """A retransmission of the request, or (INVITE only) the ACK for a non-2xx response."""
        self._received = request
        return self._input("ACK" if request.method == "ACK" else "request", now)

    def respond(self, response: SipResponse, now: float) -> list[Output]:
        """The TU's response; ignored once a final response has been sent (except 2xx in Accepted)."""
        self._pending = response
        return self._input("tu-" + response_class(response.status), now)

    def _act_pass_request(self) -> None:
        self._out.append(RequestReceived(self.key, self._received or self.request))

    def _act_send_response(self) -> None:
        assert self._pending is not None
        self.last_response, self._last_data = self._pending, bytes(self._pending)
        self._send(self.last_response, self._last_data)

    def _act_resend_last(self) -> None:
        if self.last_response is not None:
            self._send(self.last_response, self._last_data)


_IS = InviteServerState


@dataclass(kw_only=True)
class InviteServer(ServerTransaction):
    """RFC 3261 Figure 7 with RFC 6026 Figure 7's Accepted state; "Trying" is the 200 ms timer."""

    INITIAL = _IS.PROCEEDING
    TERMINATED = _IS.TERMINATED
    TIMERS: ClassVar[dict[Enum, frozenset[str]]] = {
        _IS.PROCEEDING: frozenset({"Trying"}),
        _IS.COMPLETED: frozenset("GH"),
        _IS.CONFIRMED: frozenset("I"),
        _IS.ACCEPTED: frozenset("L"),
    }
    TABLE: ClassVar[dict[tuple[Enum, str], Transition]] = {
        (_IS.PROCEEDING, "start"): (_IS.PROCEEDING, ("pass_request", "start_trying")),
        (_IS.PROCEEDING, "Trying"): (_IS.PROCEEDING, ("send_trying",)),
        (_IS.PROCEEDING, "request"): (_IS.PROCEEDING, ("resend_provisional",)),
        (_IS.PROCEEDING, "tu-1xx"): (_IS.PROCEEDING, ("send_response", "stop_trying")),
        (_IS.PROCEEDING, "tu-2xx"): (_IS.ACCEPTED, ("send_response", "start_l")),
        (_IS.PROCEEDING, "tu-300-699"): (_IS.COMPLETED, ("send_response", "start_g", "start_h")),
        (_IS.PROCEEDING, "transport-error"): (_IS.TERMINATED, ("transport_error",)),
        (_IS.COMPLETED, "request"): (_IS.COMPLETED, ("resend_last",)),
        (_IS.COMPLETED, "ACK"): (_IS.CONFIRMED, ("start_i",)),
        (_IS.COMPLETED, "G"): (_IS.COMPLETED, ("retransmit_g",)),
        (_IS.COMPLETED, "H"): (_IS.TERMINATED, ("timeout",)),
        (_IS.COMPLETED, "transport-error"): (_IS.TERMINATED, ("transport_error",)),
        (_IS.CONFIRMED, "I"): (_IS.TERMINATED, ()),
        (_IS.ACCEPTED, "tu-2xx"): (_IS.ACCEPTED, ("send_response",)),
        (_IS.ACCEPTED, "ACK"): (_IS.ACCEPTED, ("pass_request",)),
        (_IS.ACCEPTED, "L"): (_IS.TERMINATED, ()),
        # A failed 2xx send is reported to the TU (which owns 2xx retransmission); the transaction
        # stays so Timer L still absorbs retransmitted INVITEs. A judgment call, see the report.
        (_IS.ACCEPTED, "transport-error"): (_IS.ACCEPTED, ("transport_error",)),
    }

    def _act_start_trying(self) -> None:
        self._start("Trying", self.config.trying)

    def _act_stop_trying(self) -> None:
        self._stop("Trying")

    def _act_send_trying(self) -> None:
        self._pending = make_response(self.request, 100, "Trying")
        self._act_send_response()

    def _act_resend_provisional(self) -> None:
        """§17.2.1 re-sends the last provisional; with none yet, 100 Trying stops the peer's Timer A."""
        if self.last_response is None:
            self._act_stop_trying()
            self._act_send_trying()
        else:
            self._act_resend_last()

    def _act_start_g(self) -> None:
        if not self.reliable:
            self._interval = self.config.t1
            self._start("G", self._interval)

    def _act_retransmit_g(self) -> None:
        self._act_resend_last()
        self._interval = min(2 * self._interval, self.config.t2)
        self._start("G", self._interval)

    def _act_start_h(self) -> None:
        self._start("H", self.config.timeout)

    def _act_start_i(self) -> None:
        self._start("I", 0.0 if self.reliable else self.config.t4)

    def _act_start_l(self) -> None:
        self._start("L", self.config.timeout)


_NS = NonInviteServerState


@dataclass(kw_only=True)
class NonInviteServer(ServerTransaction):
    """RFC 3261 Figure 8: retransmissions are absorbed in Trying and answered afterwards."""

    INITIAL = _NS.TRYING
    TERMINATED = _NS.TERMINATED
    TIMERS: ClassVar[dict[Enum, frozenset[str]]] = {_NS.COMPLETED: frozenset("J")}
    TABLE: ClassVar[dict[tuple[Enum, str], Transition]] = {
        (_NS.TRYING, "start"): (_NS.TRYING, ("pass_request",)),
        (_NS.TRYING, "tu-1xx"): (_NS.PROCEEDING, ("send_response",)),
        (_NS.TRYING, "tu-2xx"): (_NS.COMPLETED, ("send_response", "start_j")),
        (_NS.TRYING, "tu-300-699"): (_NS.COMPLETED, ("send_response", "start_j")),
        (_NS.TRYING, "transport-error"): (_NS.TERMINATED, ("transport_error",)),
        (_NS.PROCEEDING, "request"): (_NS.PROCEEDING, ("resend_last",)),
        (_NS.PROCEEDING, "tu-1xx"): (_NS.PROCEEDING, ("send_response",)),
        (_NS.PROCEEDING, "tu-2xx"): (_NS.COMPLETED, ("send_response", "start_j")),
        (_NS.PROCEEDING, "tu-300-699"): (_NS.COMPLETED, ("send_response", "start_j")),
        (_NS.PROCEEDING, "transport-error"): (_NS.TERMINATED, ("transport_error",)),
        (_NS.COMPLETED, "request"): (_NS.COMPLETED, ("resend_last",)),
        (_NS.COMPLETED, "J"): (_NS.TERMINATED, ()),
        (_NS.COMPLETED, "transport-error"): (_NS.TERMINATED, ("transport_error",)),
    }

    def _act_start_j(self) -> None:
        self._start("J", 0.0 if self.reliable else self.config.timeout)
