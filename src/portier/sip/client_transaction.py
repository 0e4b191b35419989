"""Client transactions: INVITE (RFC 3261 §17.1.1 + RFC 6026 §7.2) and non-INVITE (§17.1.2).

Why the INVITE client builds the ACK itself: for a non-2xx final response the ACK belongs to the
transaction (same branch, §17.1.1.3) and must be re-sent for every retransmitted final response,
long after the TU has moved on. A 2xx is different: its ACK is a new transaction owned by the
dialog, so the 2xx goes up to the TU, and the RFC 6026 "Accepted" state keeps the transaction
alive for Timer M so that retransmitted (or forked) 2xx responses still reach the TU instead of
being dropped as strays.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from portier.sip.message import Header, SipRequest, SipResponse
from portier.sip.timers import (
    Machine,
    Output,
    ResponseReceived,
    TimerConfig,
    Transition,
    TxKey,
    is_reliable,
    response_class,
)


class InviteClientState(Enum):
    CALLING = "Calling"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class NonInviteClientState(Enum):
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


def client_key(request: SipRequest) -> TxKey:
    """§17.1.3: a response matches by its top Via branch and its CSeq method."""
    via = request.vias()[0]
    return TxKey(via.branch or "", request.cseq().method)


def build_ack(invite: SipRequest, response: SipResponse) -> SipRequest:
    """The ACK for a non-2xx final response (§17.1.1.3).

    Request-URI, Call-ID, From, the top Via (so the branch) and Route come from the INVITE, To from
    the response (it carries the UAS's tag), CSeq keeps the number with method ACK.
    """
    headers = [Header("Via", str(invite.vias()[0]))]
    headers.append(Header("Max-Forwards", invite.get("Max-Forwards") or "70"))
    headers += [Header("Route", value) for value in invite.get_all("Route")]
    headers += [
        Header("From", invite.get("From") or ""),
        Header("To", response.get("To") or ""),
        Header("Call-ID", invite.call_id()),
        Header("CSeq", f"{invite.cseq().seq} ACK"),
        Header("Content-Length", "0"),
    ]
    return SipRequest(method="ACK", uri=invite.uri, headers=headers, version=invite.version)


@dataclass(kw_only=True)
class ClientTransaction(Machine):
    """What both client machines share: the request (serialised once) and the retransmit interval."""

    request: SipRequest
    _data: bytes = b""
    _interval: float = 0.0
    _response: SipResponse | None = None

    INITIAL: ClassVar[Enum]

    @classmethod
    def create(
        cls, request: SipRequest, config: TimerConfig | None = None, reliable: bool | None = None
    ) -> ClientTransaction:
        """The right machine for ``request``; ``reliable`` defaults from the top Via's transport."""
        via = request.vias()[0]
        kind: type[ClientTransaction] = InviteClient if request.method == "INVITE" else NonInviteClient
        return kind(
            key=client_key(request),
            reliable=is_reliable(via.transport) if reliable is None else reliable,
            config=config or TimerConfig(),
            state=kind.INITIAL,
            request=request,
        )

    def start(self, now: float) -> list[Output]:
        """Hand the request to the transport and arm the first timers."""
        self._data = bytes(self.request)
        return self._input("start", now)

    def receive(self, response: SipResponse, now: float) -> list[Output]:
        self._response = response
        return self._input(response_class(response.status), now)

    def _act_send_request(self) -> None:
        self._send(self.request, self._data)

    def _act_pass(self) -> None:
        assert self._response is not None
        self._out.append(ResponseReceived(self.key, self._response))

    def _retransmit(self, interval: float, timer: str) -> None:
        self._send(self.request, self._data)
        self._interval = interval
        self._start(timer, interval)


_IC = InviteClientState


@dataclass(kw_only=True)
class InviteClient(ClientTransaction):
    """RFC 3261 Figure 5 with RFC 6026 Figure 5's Accepted state."""

    INITIAL = _IC.CALLING
    TERMINATED = _IC.TERMINATED
    TIMERS: ClassVar[dict[Enum, frozenset[str]]] = {
        _IC.CALLING: frozenset("AB"),
        _IC.COMPLETED: frozenset("D"),
        _IC.ACCEPTED: frozenset("M"),
    }
    TABLE: ClassVar[dict[tuple[Enum, str], Transition]] = {
        (_IC.CALLING, "start"): (_IC.CALLING, ("send_request", "start_a", "start_b")),
        (_IC.CALLING, "A"): (_IC.CALLING, ("retransmit_a",)),
        (_IC.CALLING, "B"): (_IC.TERMINATED, ("timeout",)),
        (_IC.CALLING, "1xx"): (_IC.PROCEEDING, ("pass",)),
        (_IC.CALLING, "2xx"): (_IC.ACCEPTED, ("pass", "start_m")),
        (_IC.CALLING, "300-699"): (_IC.COMPLETED, ("send_ack", "pass", "start_d")),
        (_IC.CALLING, "transport-error"): (_IC.TERMINATED, ("transport_error",)),
        (_IC.PROCEEDING, "1xx"): (_IC.PROCEEDING, ("pass",)),
        (_IC.PROCEEDING, "2xx"): (_IC.ACCEPTED, ("pass", "start_m")),
        (_IC.PROCEEDING, "300-699"): (_IC.COMPLETED, ("send_ack", "pass", "start_d")),
        (_IC.COMPLETED, "300-699"): (_IC.COMPLETED, ("send_ack",)),
        (_IC.COMPLETED, "transport-error"): (_IC.TERMINATED, ("transport_error",)),
        (_IC.COMPLETED, "D"): (_IC.TERMINATED, ()),
        (_IC.ACCEPTED, "2xx"): (_IC.ACCEPTED, ("pass",)),
        (_IC.ACCEPTED, "M"): (_IC.TERMINATED, ()),
    }

    def _act_start_a(self) -> None:
        if not self.reliable:
            self._interval = self.config.t1
            self._start("A", self._interval)

    def _act_retransmit_a(self) -> None:
        self._retransmit(2 * self._interval, "A")

    def _act_start_b(self) -> None:
        self._start("B", self.config.timeout)

    def _act_start_d(self) -> None:
        self._start("D", 0.0 if self.reliable else self.config.timer_d)

    def _act_start_m(self) -> None:
        self._start("M", self.config.timeout)

    def _act_send_ack(self) -> None:
        assert self._response is not None
        self._send(build_ack(self.request, self._response))


_NC = NonInviteClientState


@dataclass(kw_only=True)
class NonInviteClient(ClientTransaction):
    """RFC 3261 Figure 6: Timer E doubles up to T2 in Trying and stays at T2 in Proceeding."""

    INITIAL = _NC.TRYING
    TERMINATED = _NC.TERMINATED
    TIMERS: ClassVar[dict[Enum, frozenset[str]]] = {
        _NC.TRYING: frozenset("EF"),
        _NC.PROCEEDING: frozenset("EF"),
        _NC.COMPLETED: frozenset("K"),
    }
    TABLE: ClassVar[dict[tuple[Enum, str], Transition]] = {
        (_NC.TRYING, "start"): (_NC.TRYING, ("send_request", "start_e", "start_f")),
        (_NC.TRYING, "E"): (_NC.TRYING, ("retransmit_e",)),
        (_NC.TRYING, "F"): (_NC.TERMINATED, ("timeout",)),
        (_NC.TRYING, "1xx"): (_NC.PROCEEDING, ("pass",)),
        (_NC.TRYING, "2xx"): (_NC.COMPLETED, ("pass", "start_k")),
        (_NC.TRYING, "300-699"): (_NC.COMPLETED, ("pass", "start_k")),
        (_NC.TRYING, "transport-error"): (_NC.TERMINATED, ("transport_error",)),
        (_NC.PROCEEDING, "E"): (_NC.PROCEEDING, ("retransmit_e_t2",)),
        (_NC.PROCEEDING, "F"): (_NC.TERMINATED, ("timeout",)),
        (_NC.PROCEEDING, "1xx"): (_NC.PROCEEDING, ("pass",)),
        (_NC.PROCEEDING, "2xx"): (_NC.COMPLETED, ("pass", "start_k")),
        (_NC.PROCEEDING, "300-699"): (_NC.COMPLETED, ("pass", "start_k")),
        (_NC.PROCEEDING, "transport-error"): (_NC.TERMINATED, ("transport_error",)),
        (_NC.COMPLETED, "K"): (_NC.TERMINATED, ()),
    }

    def _act_start_e(self) -> None:
        if not self.reliable:
            self._interval = self.config.t1
            self._start("E", self._interval)

    def _act_retransmit_e(self) -> None:
        self._retransmit(min(2 * self._interval, self.config.t2), "E")

    def _act_retransmit_e_t2(self) -> None:
        self._retransmit(self.config.t2, "E")

    def _act_start_f(self) -> None:
        self._start("F", self.config.timeout)

    def _act_start_k(self) -> None:
        self._start("K", 0.0 if self.reliable else self.config.t4)
