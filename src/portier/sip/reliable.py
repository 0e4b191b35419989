"""Reliable provisional responses (RFC 3262): RSeq and RAck, the UAS's retransmissions, the UAC's order.

Why a 180 or 183 needs to be reliable: gateways and PBXs put the session answer (early media) or a
"Queued" into provisional responses, and a lost one over UDP would leave the caller without the
ringback or the media. RFC 3262 makes them behave like a 2xx: the UAS core repeats the response at
T1, 2*T1, 4*T1... until a PRACK names it (``RAck: rseq cseq method``) and gives up after 64*T1 with a
5xx; the UAC acknowledges each one exactly once, in RSeq order, and drops repeats and gaps (§4).

Pure bookkeeping: responses and times in, responses to (re)send and decisions out.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace

from portier.sip.message import Header, SipMessage, SipResponse

OPTION_TAG = "100rel"
MAX_RSEQ = 2**31 - 1
"""§3: the first RSeq of a transaction lies in 1..2**31-1 (and RSeq itself is a 32-bit number)."""

_NUMBER = re.compile(r"\d{1,10}")
_RACK = re.compile(r"(\d{1,10})\s+(\d{1,10})\s+([A-Za-z!%'*+\-.`~_]+)")


class ReliableError(ValueError):
    """An RSeq or RAck value that cannot be read; the text says what was found."""


@dataclass(frozen=True)
class RAck:
    """The RAck of a PRACK (§7.2): which reliable provisional response of which request it acknowledges."""

    rseq: int
    cseq: int
    method: str

    @classmethod
    def parse(cls, text: str) -> RAck:
        found = _RACK.fullmatch(text.strip())
        if found is None:
            raise ReliableError(f"RAck must be 'response-num CSeq-num Method', got {text!r}")
        rseq, cseq = int(found.group(1)), int(found.group(2))
        if rseq > 2**32 - 1 or cseq > 2**32 - 1:
            raise ReliableError(f"RAck numbers must fit in 32 bits, got {text!r}")
        return cls(rseq, cseq, found.group(3))

    def __str__(self) -> str:
        return f"{self.rseq} {self.cseq} {self.method}"


def parse_rseq(text: str) -> int:
    value = text.strip()
    if not _NUMBER.fullmatch(value) or not 1 <= int(value) <= 2**32 - 1:
        raise ReliableError(f"RSeq must be a number in 1..2**32-1, got {text!r}")
    return int(value)


def _tags(message: SipMessage, name: str) -> set[str]:
    return {value.lower() for value in message.values(name)}


def requires_100rel(message: SipMessage) -> bool:
    return OPTION_TAG in _tags(message, "Require")


def supports_100rel(message: SipMessage) -> bool:
    """Whether the sender can take reliable provisional responses (it lists 100rel in either header)."""
    return OPTION_TAG in _tags(message, "Supported") | _tags(message, "Require")


def rseq_of(response: SipResponse) -> int | None:
    """The RSeq of a reliable provisional response; None for an ordinary one (or a 100, never reliable).

    A response that requires 100rel with a missing or unreadable RSeq is treated as unreliable:
    there is nothing a PRACK could name.
    """
    if not 101 <= response.status <= 199 or not requires_100rel(response):
        return None
    value = response.get("RSeq")
    if value is None:
        return None
    try:
        return parse_rseq(value)
    except ReliableError:
        return None


def new_rseq() -> int:
    """A first RSeq well below 2**31 - 1, so that a long run of provisional responses cannot overflow it."""
    return secrets.randbelow(2**30) + 1


@dataclass(frozen=True)
class GiveUp:
    """No PRACK came within 64*T1 (§3): reject the INVITE with a 5xx."""

    rseq: int


@dataclass
class _Unacknowledged:
    response: SipResponse
    rseq: int
    first_sent: float
    interval: float
    deadline: float


@dataclass
class ReliableSender:
    """The UAS side for one INVITE: numbers its reliable provisional responses and repeats the one
    that is not acknowledged yet. §3 allows only one unacknowledged at a time; ``send`` refuses a
    second. Once the final response is sent, ``finish`` stops the repeats."""

    t1: float
    next_rseq: int = field(default_factory=new_rseq)
    cseq: int = 0
    _pending: _Unacknowledged | None = None
    _acknowledged: set[int] = field(default_factory=set)

    @property
    def waiting(self) -> bool:
        """Whether a reliable provisional response still waits for its PRACK."""
        return self._pending is not None

    def send(self, response: SipResponse, now: float) -> SipResponse:
        """``response`` (101-199) made reliable: ``Require: 100rel`` and the next RSeq."""
        if not 101 <= response.status <= 199:
            raise ValueError(f"only 101-199 responses are sent reliably (§3), not {response.status}")
        if self._pending is not None:
            raise ValueError(
                f"RSeq {self._pending.rseq} is not acknowledged yet; §3 allows one unacknowledged "
                "reliable provisional response at a time"
            )
        rseq = self.next_rseq
        self.next_rseq += 1
        self.cseq = response.cseq().seq
        headers = [h for h in response.headers if h.name not in ("RSeq", "Content-Length")]
        if not requires_100rel(response):
            headers.append(Header("Require", OPTION_TAG))
        headers.append(Header("RSeq", str(rseq)))
        headers += [h for h in response.headers if h.name == "Content-Length"]
        reliable = replace(response, headers=headers)
        self._pending = _Unacknowledged(reliable, rseq, now, self.t1, now + self.t1)
        return reliable

    def next_deadline(self) -> float | None:
        return self._pending.deadline if self._pending is not None else None

    def on_timer(self, now: float) -> SipResponse | GiveUp | None:
        """At the deadline: the response to send again, or GiveUp once 64*T1 passed since the first send."""
        pending = self._pending
        if pending is None or now < pending.deadline:
            return None
        if now - pending.first_sent >= 64 * self.t1:
            self._pending = None
            return GiveUp(pending.rseq)
        pending.interval *= 2
        pending.deadline = min(now + pending.interval, pending.first_sent + 64 * self.t1)
        return pending.response

    def on_prack(self, rack: RAck) -> bool:
        """Whether a PRACK with ``rack`` acknowledges a response of ours (answer 200) or not (481, §3).

        A repeated PRACK for a response already acknowledged still gets its 200: the first 200 may
        have been lost, and the PRACK's own transaction absorbs exact retransmissions anyway.
        """
        if rack.method != "INVITE" or rack.cseq != self.cseq:
            return False
        pending = self._pending
        if pending is not None and rack.rseq == pending.rseq:
            self._acknowledged.add(pending.rseq)
            self._pending = None
            return True
        return rack.rseq in self._acknowledged

    def finish(self) -> None:
        """The final response went out: repeat nothing more."""
        self._pending = None


@dataclass
class ReliableReceiver:
    """The UAC side for one INVITE: which reliable provisional responses to PRACK (§4).

    Each early dialog (To tag) counts on its own: a forked INVITE gets one RSeq space per UAS.
    """

    _last: dict[str, int] = field(default_factory=dict)

    def accept(self, response: SipResponse) -> RAck | None:
        """The RAck to send for ``response``, or None: not reliable, a retransmission, or out of order."""
        rseq = rseq_of(response)
        if rseq is None:
            return None
        tag = response.to().tag or ""
        last = self._last.get(tag)
        if last is not None and rseq != last + 1:
            return None
        self._last[tag] = rseq
        cseq = response.cseq()
        return RAck(rseq, cseq.seq, cseq.method)
