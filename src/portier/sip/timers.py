"""Timer values, transaction outputs and the table-driven engine the four §17 machines share.

Why one engine: RFC 3261 §17 draws every transaction as a state table ("in state S, on event E,
do actions X and go to state T"). Keeping each machine a literal table of that shape lets a reader
hold the code against Figures 5-8 (and RFC 6026 Figures 5 and 7) line by line; the engine below
runs any such table, owns the timers (as deadlines, never as a clock) and collects outputs.

Why timers are data: a sans-IO machine never reads a clock. Inputs carry ``now``; a started timer
is just a deadline, ``next_deadline()`` tells the edge when to call ``handle_timer(now)``. A timer
of zero length (Timer D/I/J/K on reliable transports) fires within the same call that started it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar

from portier.sip.message import SipMessage, SipRequest, SipResponse

RELIABLE_TRANSPORTS = frozenset({"TCP", "TLS", "SCTP", "TLS-SCTP", "WS", "WSS"})


def is_reliable(transport: str) -> bool:
    """§17: TCP, TLS, SCTP (and WebSocket, RFC 7118) need no retransmissions of their own."""
    return transport.upper() in RELIABLE_TRANSPORTS


@dataclass(frozen=True)
class TimerConfig:
    """T1/T2/T4 of RFC 3261 §17.1.1.1 and Table 4; ``trying`` is the §17.2.1 200 ms for 100 Trying."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    trying: float = 0.2
    timer_d: float = 32.0  # "at least 32 s" on unreliable transports, independent of T1 (§17.1.1.2)

    @property
    def timeout(self) -> float:
        """64*T1: Timers B, F, H, J (unreliable), L and M."""
        return 64 * self.t1


@dataclass(frozen=True)
class TxKey:
    """Identifies one transaction; ``sent_by`` is empty for client transactions (§17.1.3)."""

    branch: str
    method: str
    sent_by: str = ""


# --- outputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transmit:
    """Send ``data`` (``bytes(message)``) to the peer; choosing the destination is the edge's job."""

    key: TxKey
    message: SipMessage
    data: bytes


@dataclass(frozen=True)
class ResponseReceived:
    key: TxKey
    response: SipResponse


@dataclass(frozen=True)
class RequestReceived:
    """A new request for the TU; ``key`` is None for an ACK that matched no transaction (2xx ACK)."""

    key: TxKey | None
    request: SipRequest


@dataclass(frozen=True)
class TimedOut:
    """Timer B, F or H fired: the peer never answered (B, F) or never acknowledged (H)."""

    key: TxKey
    timer: str


@dataclass(frozen=True)
class TransportFailed:
    key: TxKey
    reason: str


@dataclass(frozen=True)
class Terminated:
    """The transaction is gone; the layer forgets it (and the TU may too)."""

    key: TxKey


Output = Transmit | ResponseReceived | RequestReceived | TimedOut | TransportFailed | Terminated

# A transition: (next state, action names). Actions are methods ``_act_<name>`` on the machine.
Transition = tuple[Enum, tuple[str, ...]]


@dataclass(kw_only=True)
class Machine:
    """Runs a ``(state, event) -> (next state, actions)`` table; unknown pairs are absorbed.

    Subclasses set ``TABLE`` and ``TERMINATED`` and implement the actions. Events are strings:
    response classes (``"1xx"``, ``"2xx"``, ``"300-699"``), requests, TU calls and timer letters.
    """

    key: TxKey
    reliable: bool
    config: TimerConfig
    state: Enum
    deadlines: dict[str, float] = field(default_factory=dict)
    _now: float = 0.0
    _reason: str = "transport error"
    _out: list[Output] = field(default_factory=list)

    _event: str = ""

    TABLE: ClassVar[Mapping[tuple[Enum, str], Transition]] = {}
    # Timers that may run in each state; entering a state cancels the others (e.g. A and B stop
    # once a provisional response moves the INVITE client from Calling to Proceeding).
    TIMERS: ClassVar[Mapping[Enum, frozenset[str]]] = {}
    TERMINATED: ClassVar[Enum]

    @property
    def terminated(self) -> bool:
        return self.state is self.TERMINATED

    def next_deadline(self) -> float | None:
        return min(self.deadlines.values(), default=None)

    def handle_timer(self, now: float) -> list[Output]:
        """Fire every timer due at ``now``, earliest first."""
        self._now = now
        self._fire_due()
        return self._drain()

    def transport_error(self, now: float, reason: str) -> list[Output]:
        """The edge could not send what this transaction handed it (§17.1.4, §17.2.4)."""
        self._reason = reason
        return self._input("transport-error", now)

    def _input(self, event: str, now: float) -> list[Output]:
        self._now = now
        self._step(event)
        self._fire_due()
        return self._drain()

    def _step(self, event: str) -> None:
        transition = self.TABLE.get((self.state, event))
        if transition is None or self.terminated:
            return
        new_state, actions = transition
        self._event = event
        if new_state is not self.state:
            allowed = self.TIMERS.get(new_state, frozenset())
            self.deadlines = {n: t for n, t in self.deadlines.items() if n in allowed}
        self.state = new_state
        for action in actions:
            getattr(self, f"_act_{action.replace('-', '_')}")()
        if self.terminated:
            self.deadlines.clear()
            self._out.append(Terminated(self.key))

    def _fire_due(self) -> None:
        while not self.terminated:
            due = [(t, name) for name, t in self.deadlines.items() if t <= self._now]
            if not due:
                return
            _, name = min(due)
            del self.deadlines[name]
            self._step(name)

    def _drain(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _start(self, timer: str, duration: float) -> None:
        self.deadlines[timer] = self._now + duration

    def _stop(self, *timers: str) -> None:
        for timer in timers:
            self.deadlines.pop(timer, None)

    def _send(self, message: SipMessage, data: bytes | None = None) -> None:
        self._out.append(Transmit(self.key, message, bytes(message) if data is None else data))

    def _act_transport_error(self) -> None:
        self._out.append(TransportFailed(self.key, self._reason))

    def _act_timeout(self) -> None:
        self._out.append(TimedOut(self.key, self._event))


def response_class(status: int) -> str:
    """The event name a response's status maps to in the client tables."""
    if status < 200:
        return "1xx"
    return "2xx" if status < 300 else "300-699"
