"""Dialogs (RFC 3261 §12): the peer-to-peer state that in-dialog requests are built from and checked against.

Why sans-IO: a dialog is bookkeeping (tags, sequence numbers, route set, remote target) that
changes only when a request or response passes through it, so it is a plain object the agent
feeds messages to; it never sends anything and never reads a clock.

Why the state follows responses the dialog sees and not a caller's say-so: the RFC ties each
change to a message (early on a 1xx with a To tag, confirmed on a 2xx, terminated on a non-2xx
final to the INVITE, on BYE, on 481/408), and deriving it here keeps the agent from forgetting one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from portier.sip.errors import SipParseError
from portier.sip.message import Header, SipMessage, SipRequest, SipResponse
from portier.sip.nameaddr import NameAddr
from portier.sip.request import MAX_CSEQ, make_uac_request
from portier.sip.routing import plan_route
from portier.sip.uri import Uri
from portier.sip.validate import Rejection
from portier.sip.via import Via

# Requests whose Contact replaces the remote target: RFC 3261 §12.2 (re-INVITE), RFC 3311 §5.2
# (UPDATE), RFC 6665 §4.4.1 (SUBSCRIBE, NOTIFY).
TARGET_REFRESH = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY"})
# Sent with the CSeq number of the request they belong to (§13.2.2.4, §9.1), never a fresh one.
_SAME_CSEQ = frozenset({"ACK", "CANCEL"})


class DialogError(ValueError):
    """A message that cannot create or belong to this dialog; the text says which rule it breaks."""


class DialogState(Enum):
    EARLY = "Early"
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"


@dataclass(frozen=True)
class DialogId:
    """Call-ID, local tag and remote tag (§12); an empty remote tag stands for an RFC 2543 peer's none."""

    call_id: str
    local_tag: str
    remote_tag: str


def _untagged(addr: NameAddr) -> NameAddr:
    return NameAddr(addr.uri, addr.display_name, tuple(p for p in addr.params if p[0].lower() != "tag"))


def _tagged(addr: NameAddr, tag: str) -> NameAddr:
    return NameAddr(addr.uri, addr.display_name, (*_untagged(addr).params, ("tag", tag)))


def _id_of(message: SipMessage, *, local_in_from: bool) -> DialogId | None:
    """The dialog id a message carries as seen by the side whose tag is in From (or To)."""
    try:
        from_tag, to_tag = message.from_().tag, message.to().tag
        call_id = message.call_id()
    except SipParseError:
        return None
    local, remote = (from_tag, to_tag) if local_in_from else (to_tag, from_tag)
    if not local:
        return None
    return DialogId(call_id, local, remote or "")


def dialog_id_of_request(request: SipRequest) -> DialogId | None:
    """The dialog an incoming request claims (local = To tag, remote = From tag); None outside dialogs."""
    return _id_of(request, local_in_from=False)


def dialog_id_of_response(response: SipResponse) -> DialogId | None:
    """The dialog an incoming response belongs to (local = From tag, remote = To tag); None without tags."""
    found = _id_of(response, local_in_from=True)
    if found is None or not found.remote_tag:
        return None
    return found


def _first_contact(message: SipMessage) -> Uri | None:
    contacts = message.contacts()
    return contacts[0].uri if contacts else None


@dataclass
class Dialog:
    """One dialog's state (§12.1.1, §12.1.2): ``local_uri``/``remote_uri`` are the From/To addresses
    without their tags (those live in ``local_tag``/``remote_tag``); ``local_seq`` 0 means "nothing
    sent yet", ``remote_seq`` None means "nothing received yet"."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: NameAddr
    remote_uri: NameAddr
    local_seq: int
    remote_seq: int | None
    remote_target: Uri
    route_set: tuple[NameAddr, ...]
    secure: bool
    state: DialogState

    @classmethod
    def as_uac(cls, request: SipRequest, response: SipResponse) -> Dialog:
        """The dialog a 101-299 response with a To tag creates for the UAC that sent ``request`` (§12.1.2).

        The route set is the response's Record-Route reversed; the remote target is its Contact
        (the Request-URI when a broken peer sends none).
        """
        remote_tag = response.to().tag
        if not 101 <= response.status <= 299 or not remote_tag:
            raise DialogError(
                f"a {response.status} response {'with' if remote_tag else 'without'} a To tag creates no "
                "dialog; only 101-299 with a To tag do (RFC 3261 §12.1)"
            )
        from_ = request.from_()
        if not from_.tag:
            raise DialogError("the request has no From tag, so it cannot be part of a dialog (§8.1.1.3)")
        return cls(
            call_id=request.call_id(),
            local_tag=from_.tag,
            remote_tag=remote_tag,
            local_uri=_untagged(from_),
            remote_uri=_untagged(request.to()),
            local_seq=request.cseq().seq,
            remote_seq=None,
            remote_target=_first_contact(response) or request.uri,
            route_set=tuple(reversed(response.route("Record-Route"))),
            secure=request.uri.scheme == "sips",
            state=DialogState.CONFIRMED if response.status >= 200 else DialogState.EARLY,
        )

    @classmethod
    def as_uas(cls, request: SipRequest, local_tag: str) -> Dialog:
        """The dialog a UAS creates by answering ``request`` with a 1xx/2xx tagged ``local_tag`` (§12.1.1).

        It starts early; ``send_response`` confirms it when the 2xx goes out. The route set is the
        request's Record-Route in order; the remote target its Contact (the From URI if none).
        ``secure`` trusts the transport edge to accept a SIPS Request-URI only over TLS.
        """
        if request.to().tag:
            raise DialogError("the request already has a To tag: it belongs to an existing dialog")
        from_ = request.from_()
        return cls(
            call_id=request.call_id(),
            local_tag=local_tag,
            remote_tag=from_.tag or "",
            local_uri=_untagged(request.to()),
            remote_uri=_untagged(from_),
            local_seq=0,
            remote_seq=request.cseq().seq,
            remote_target=_first_contact(request) or from_.uri,
            route_set=tuple(request.route("Record-Route")),
            secure=request.uri.scheme == "sips",
            state=DialogState.EARLY,
        )

    @property
    def id(self) -> DialogId:
        return DialogId(self.call_id, self.local_tag, self.remote_tag)

    def matches(self, message: SipRequest | SipResponse, *, is_local_uac: bool) -> bool:
        """Whether ``message`` belongs here; ``is_local_uac`` is True when this side sent the request
        of its transaction (a request we send, a response we receive), so our tag is in From."""
        return _id_of(message, local_in_from=is_local_uac) == self.id

    def create_request(
        self,
        method: str,
        *,
        via: Via | str,
        contact: NameAddr | str | None,
        headers: Iterable[Header | tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
        max_forwards: int = 70,
        cseq: int | None = None,
        user_agent: str | None = None,
    ) -> tuple[SipRequest, Uri]:
        """An in-dialog request (§12.2.1.1) and the URI of its next hop, for RFC 3263 resolution.

        The CSeq is the next local sequence number, except for ACK and CANCEL, which repeat the
        number of the request they belong to: ``cseq`` (default: the last number used). A ``cseq``
        given for another method (e.g. a retry after a digest challenge) moves the counter forward.
        """
        if cseq is None:
            if method not in _SAME_CSEQ:
                self.local_seq += 1
            seq = self.local_seq
        else:
            seq = cseq
            if method not in _SAME_CSEQ:
                self.local_seq = max(self.local_seq, cseq)
        if seq > MAX_CSEQ:
            raise DialogError(f"CSeq {seq} exceeds 2**32-1; this dialog cannot send more requests")
        plan = plan_route(self.route_set, self.remote_target)
        to = _tagged(self.remote_uri, self.remote_tag) if self.remote_tag else self.remote_uri
        request = make_uac_request(
            method,
            plan.request_uri,
            from_=_tagged(self.local_uri, self.local_tag),
            to=to,
            call_id=self.call_id,
            cseq=seq,
            via=via,
            contact=contact,
            route=plan.route,
            headers=headers,
            body=body,
            content_type=content_type,
            max_forwards=max_forwards,
            user_agent=user_agent,
        )
        return request, plan.next_hop

    def receive_request(self, request: SipRequest) -> Rejection | None:
        """Check and absorb an in-dialog request (§12.2.2); a Rejection is the response to send instead.

        ACK and CANCEL skip the sequence check: they carry their INVITE's number and are never
        answered with a 500. A target refresh takes the remote target from its Contact; BYE ends
        the dialog.
        """
        if self.state is DialogState.TERMINATED:
            if request.method == "ACK":
                return None
            return Rejection(481, "Call/Transaction Does Not Exist", detail="the dialog has ended")
        if request.method not in _SAME_CSEQ:
            seq = request.cseq().seq
            if self.remote_seq is not None and seq < self.remote_seq:
                return Rejection(
                    500, "CSeq out of order", detail=f"CSeq {seq} is lower than {self.remote_seq} (§12.2.2)"
                )
            self.remote_seq = seq
        if request.method in TARGET_REFRESH:
            self.remote_target = _first_contact(request) or self.remote_target
        if request.method == "BYE":
            self.state = DialogState.TERMINATED
        return None

    def send_response(self, response: SipResponse) -> None:
        """Note a response this side (as UAS) sends: a 2xx to the INVITE confirms an early dialog, a
        non-2xx final ends it (§12.1.1, §12.3)."""
        if self.state is DialogState.EARLY and response.cseq().method == "INVITE":
            if 200 <= response.status < 300:
                self.state = DialogState.CONFIRMED
            elif response.status >= 300:
                self.state = DialogState.TERMINATED

    def receive_response(self, response: SipResponse) -> None:
        """Absorb a response to a request this side sent in the dialog (§12.1.2, §12.2.1.2, §13.2.2.4).

        Early + 2xx to the INVITE: confirmed, route set recomputed from the 2xx's Record-Route.
        Early + non-2xx final to the INVITE: terminated (whatever its To tag: it ends every fork).
        2xx to a target refresh (and 1xx to the INVITE of an early dialog): new remote target.
        481 or 408, or any final response to BYE: terminated.
        """
        status, method = response.status, response.cseq().method
        if response.call_id() != self.call_id:
            raise DialogError(f"response for Call-ID {response.call_id()!r} fed to dialog {self.call_id!r}")
        if status < 300 and response.to().tag not in (None, self.remote_tag):
            raise DialogError(
                f"a {status} with To tag {response.to().tag!r} belongs to another dialog (another fork); "
                "create it with Dialog.as_uac"
            )
        if status < 101 or self.state is DialogState.TERMINATED:
            return
        if status in (408, 481) or (method == "BYE" and status >= 200):
            self.state = DialogState.TERMINATED
            return
        early = self.state is DialogState.EARLY
        if method == "INVITE" and early and status >= 300:
            self.state = DialogState.TERMINATED
            return
        if method == "INVITE" and early and status >= 200:
            self.state = DialogState.CONFIRMED
            self.route_set = tuple(reversed(response.route("Record-Route")))
        refresh = 200 <= status < 300 or (early and method == "INVITE")
        if method in TARGET_REFRESH and refresh:
            self.remote_target = _first_contact(response) or self.remote_target
