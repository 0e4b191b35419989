"""The transaction layer: matches messages to transactions (RFC 3261 §17.1.3, §17.2.3) and runs them.

Why a layer object: the edge has one socket and one timer; it feeds every parsed message and every
timer tick here and gets back one list of outputs (bytes to send, events for the TU). Matching is
the subtle part: responses match by top Via branch + CSeq method; requests by branch + sent-by +
method, where an ACK belongs to its INVITE's transaction and a CANCEL is a transaction of its own.
Peers that predate RFC 3261 (no "z9hG4bK" branch) are matched the RFC 2543 way by Request-URI,
tags, Call-ID, CSeq and top Via. Responses that match nothing are dropped, as RFC 6026's update
of §18.1.2 asks of a UA: the Accepted state now keeps the transaction alive for 2xx retransmissions.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from portier.sip.client_transaction import (
    ClientTransaction,
    InviteClient,
    InviteClientState,
    NonInviteClient,
    NonInviteClientState,
    build_ack,
)
from portier.sip.errors import SipParseError
from portier.sip.message import SipRequest, SipResponse
from portier.sip.server_transaction import (
    InviteServer,
    InviteServerState,
    NonInviteServer,
    NonInviteServerState,
    ServerTransaction,
    make_response,
)
from portier.sip.timers import (
    Output,
    RequestReceived,
    ResponseReceived,
    Terminated,
    TimedOut,
    TimerConfig,
    Transmit,
    TransportFailed,
    TxKey,
)
from portier.sip.via import MAGIC_COOKIE, Via

__all__ = [
    "ClientTransaction",
    "InviteClient",
    "InviteClientState",
    "InviteServer",
    "InviteServerState",
    "NonInviteClient",
    "NonInviteClientState",
    "NonInviteServer",
    "NonInviteServerState",
    "Output",
    "RequestReceived",
    "ResponseReceived",
    "ServerTransaction",
    "Terminated",
    "TimedOut",
    "TimerConfig",
    "TransactionLayer",
    "Transmit",
    "TransportFailed",
    "TxKey",
    "build_ack",
    "make_response",
]


def _via_key(via: Via) -> tuple[object, ...]:
    """Top-Via identity for RFC 2543 matching: host case-insensitive, parameters as sent."""
    params = tuple((n.lower(), v) for n, v in via.params)
    return (via.protocol, via.transport, via.host.lower(), via.port, params)


def server_key(request: SipRequest) -> TxKey | None:
    """§17.2.3 key for an RFC 3261 branch (ACK maps to INVITE); None means match RFC 2543-style."""
    via = request.vias()[0]
    branch = via.branch
    if branch is None or not branch.startswith(MAGIC_COOKIE):
        return None
    method = "INVITE" if request.method == "ACK" else request.method
    return TxKey(branch, method, via.sent_by.lower())


def _same_2543(tx: ServerTransaction, request: SipRequest, *, cancel: bool = False) -> bool:
    """RFC 2543 matching of §17.2.3 (and §9.2 for CANCEL: everything but To tag and CSeq method)."""
    original = tx.request
    if server_key(original) is not None:
        return False
    if not (
        request.uri == original.uri
        and request.call_id() == original.call_id()
        and request.from_().tag == original.from_().tag
        and request.cseq().seq == original.cseq().seq
        and _via_key(request.vias()[0]) == _via_key(original.vias()[0])
    ):
        return False
    if cancel:
        return original.method == "INVITE"
    if request.method == "ACK":
        sent = tx.last_response
        return original.method == "INVITE" and sent is not None and request.to().tag == sent.to().tag
    return request.method == original.method and request.to().tag == original.to().tag


@dataclass
class TransactionLayer:
    """All live transactions of one UA; sans-IO like each transaction (inputs carry ``now``)."""

    config: TimerConfig = field(default_factory=TimerConfig)
    clients: dict[TxKey, ClientTransaction] = field(default_factory=dict)
    servers: dict[TxKey, ServerTransaction] = field(default_factory=dict)
    _legacy_count: int = 0
    _deadlines: list[tuple[float, int, ClientTransaction | ServerTransaction]] = field(default_factory=list)
    _sequence: int = 0

    def send_request(
        self, request: SipRequest, now: float, reliable: bool | None = None
    ) -> tuple[TxKey, list[Output]]:
        """Start a client transaction; the request must already carry its Via with a fresh branch."""
        if request.method == "ACK":
            raise ValueError("an ACK for a 2xx is sent by the dialog directly, not through a transaction")
        tx = ClientTransaction.create(request, self.config, reliable)
        if tx.key in self.clients:
            raise ValueError(f"a client transaction with branch {tx.key.branch!r} already exists")
        self.clients[tx.key] = tx
        return tx.key, self._reap(tx.start(now), tx)

    def receive(
        self, message: SipRequest | SipResponse, now: float, reliable: bool | None = None
    ) -> list[Output]:
        """Feed one parsed message from the transport; messages without Via/CSeq are dropped.

        ``reliable`` is how the message really arrived; a UDP request whose Via says TCP still needs
        the retransmission timers of UDP (None trusts the Via, for tests of the machines alone).
        """
        try:
            if not message.vias():
                return []
            if isinstance(message, SipResponse):
                return self._receive_response(message, now)
            return self._receive_request(message, now, reliable)
        except SipParseError:
            return []

    def respond(self, key: TxKey, response: SipResponse, now: float) -> list[Output]:
        """The TU answers the request of server transaction ``key`` (a no-op once it is gone)."""
        tx = self.servers.get(key)
        return [] if tx is None else self._reap(tx.respond(response, now), tx)

    def transport_error(self, key: TxKey, now: float, reason: str) -> list[Output]:
        tx: ClientTransaction | ServerTransaction | None = self.clients.get(key)
        if tx is None:
            tx = self.servers.get(key)
        return [] if tx is None else self._reap(tx.transport_error(now, reason), tx)

    def handle_timer(self, now: float) -> list[Output]:
        out: list[Output] = []
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, _, tx = heapq.heappop(self._deadlines)
            if self._live(tx) and tx.next_deadline() == deadline:
                out += self._reap(tx.handle_timer(now), tx)
        return out

    def next_deadline(self) -> float | None:
        """The earliest timer of any transaction: a heap with stale entries dropped lazily, so a
        busy UA with thousands of lingering transactions (Timer J, K) pays O(log n) per event."""
        heap = self._deadlines
        while heap and not (self._live(heap[0][2]) and heap[0][2].next_deadline() == heap[0][0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def _live(self, tx: ClientTransaction | ServerTransaction) -> bool:
        table: dict[TxKey, ClientTransaction] | dict[TxKey, ServerTransaction]
        table = self.clients if isinstance(tx, ClientTransaction) else self.servers
        return table.get(tx.key) is tx

    def cancel_target(self, cancel: SipRequest) -> ServerTransaction | None:
        """The INVITE server transaction a CANCEL refers to (§9.2), for the TU to answer 487."""
        key = server_key(cancel)
        if key is not None:
            return self.servers.get(TxKey(key.branch, "INVITE", key.sent_by))
        return next((tx for tx in self.servers.values() if _same_2543(tx, cancel, cancel=True)), None)

    def _receive_response(self, response: SipResponse, now: float) -> list[Output]:
        key = TxKey(response.vias()[0].branch or "", response.cseq().method)
        tx = self.clients.get(key)
        return [] if tx is None else self._reap(tx.receive(response, now), tx)

    def _receive_request(self, request: SipRequest, now: float, reliable: bool | None) -> list[Output]:
        key = server_key(request)
        if key is not None:
            tx = self.servers.get(key)
        else:
            tx = next((t for t in self.servers.values() if _same_2543(t, request)), None)
        if tx is not None:
            return self._reap(tx.receive(request, now), tx)
        if request.method == "ACK":
            return [RequestReceived(None, request)]
        if key is None:
            self._legacy_count += 1
            via = request.vias()[0]
            key = TxKey(f"rfc2543-{self._legacy_count}", request.method, via.sent_by.lower())
        tx = ServerTransaction.create(request, key, self.config, reliable)
        self.servers[key] = tx
        return self._reap(tx.start(now), tx)

    def _reap(self, outputs: Iterable[Output], tx: ClientTransaction | ServerTransaction) -> list[Output]:
        """Forget terminated transactions (§17: "destroyed immediately"); schedule the others' timers."""
        out = list(outputs)
        for item in out:
            if isinstance(item, Terminated):
                self.clients.pop(item.key, None)
                self.servers.pop(item.key, None)
        deadline = tx.next_deadline()
        if deadline is not None and self._live(tx):
            self._sequence += 1
            heapq.heappush(self._deadlines, (deadline, self._sequence, tx))
        return out
