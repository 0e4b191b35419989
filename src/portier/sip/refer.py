"""Call transfer on the wire: REFER (RFC 3515), Replaces (RFC 3891), Referred-By (RFC 3892), norefersub
(RFC 4488), and the sipfrag bodies of the implicit subscription's NOTIFYs (RFC 3420).

Why sans-IO and here: what a Refer-To means (a target, maybe with a Replaces header escaped inside
its URI), what a NOTIFY reports and when a transfer has succeeded or failed are pure functions of the
messages, and every peer spells them slightly differently (an ``id`` on the Event or not, a
Subscription-State that terminates without a final status). ``ReferProgress`` turns the REFER's
response and the NOTIFYs that follow into one outcome, so the call code above only acts on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote

from portier.sip.errors import SipParseError
from portier.sip.headers import find_param, scan_params
from portier.sip.message import SipMessage, SipRequest
from portier.sip.nameaddr import parse_name_addr
from portier.sip.uri import SipUri, Uri, unescape

SIPFRAG = "message/sipfrag;version=2.0"
NOTIFY_EXPIRES = 60
"""Seconds the implicit subscription is said to last while a transfer is in progress (§2.4.4)."""

_URI_HEADER_SAFE = "-_.!~*'()[]/?:+$"
"""Characters a URI header value may carry unescaped (RFC 3261 §25.1 hnv-unreserved + unreserved)."""
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6]\d\d)(?: ([^\r\n]*))?")


# --- Replaces (RFC 3891 §6.1) --------------------------------------------------------------------


@dataclass(frozen=True)
class Replaces:
    """The dialog an INVITE replaces. ``to_tag`` is the tag of the UA that receives the INVITE (its
    local tag), ``from_tag`` the other end's: seen from the transferor, the consultation dialog's
    remote and local tags."""

    call_id: str
    to_tag: str
    from_tag: str
    early_only: bool = False

    def __str__(self) -> str:
        text = f"{self.call_id};to-tag={self.to_tag};from-tag={self.from_tag}"
        return text + (";early-only" if self.early_only else "")


def parse_replaces(value: str) -> Replaces:
    """``callid;to-tag=x;from-tag=y[;early-only]``; both tags are required (§6.1)."""
    text = value.strip()
    end = text.find(";")
    call_id = (text if end < 0 else text[:end]).strip()
    if not call_id:
        raise SipParseError(f"Replaces {value!r} names no Call-ID")
    params, pos = scan_params(text, len(call_id) if end < 0 else end, "Replaces")
    if pos != len(text):
        raise SipParseError(f"Replaces {value!r}: unexpected {text[pos:]!r}")
    to_tag, from_tag = find_param(params, "to-tag")[1], find_param(params, "from-tag")[1]
    if not to_tag or not from_tag:
        raise SipParseError(f"Replaces {value!r} needs both to-tag and from-tag (RFC 3891 §6.1)")
    return Replaces(call_id, to_tag, from_tag, find_param(params, "early-only")[0])


# --- Refer-To (RFC 3515 §2.1) --------------------------------------------------------------------


@dataclass(frozen=True)
class ReferTarget:
    """Where a REFER sends the transferee: ``uri`` (without its embedded headers) for the new INVITE,
    the ``replaces`` it must carry (attended transfer), and any other embedded headers, unescaped."""

    uri: Uri
    replaces: Replaces | None = None
    headers: tuple[tuple[str, str], ...] = ()


def parse_refer_to(value: str) -> ReferTarget:
    """The Refer-To header value; a SIP URI may embed ``?Replaces=...`` (escaped, §19.1.1)."""
    address = parse_name_addr(value, "Refer-To")
    uri = address.uri
    if not isinstance(uri, SipUri):
        return ReferTarget(uri)
    replaces: Replaces | None = None
    others: list[tuple[str, str]] = []
    for name, raw in uri.headers:
        if unescape(name).lower() == "replaces":
            replaces = parse_replaces(unescape(raw))
        else:
            others.append((unescape(name), unescape(raw)))
    bare = SipUri(uri.host, uri.scheme, uri.user, uri.password, uri.port, uri.params, ())
    return ReferTarget(bare, replaces, tuple(others))


def refer_to(target: Uri | str, replaces: Replaces | None = None) -> str:
    """A Refer-To value for ``target``; with ``replaces`` (attended transfer) embedded, escaped."""
    uri = SipUri.parse(target) if isinstance(target, str) else target
    if replaces is None:
        return f"<{uri}>"
    if not isinstance(uri, SipUri):
        raise ValueError(f"a Replaces header can only ride on a SIP URI, not {uri}")
    embedded = ("Replaces", quote(str(replaces), safe=_URI_HEADER_SAFE))
    with_header = SipUri(uri.host, uri.scheme, uri.user, uri.password, uri.port, uri.params, (embedded,))
    return f"<{with_header}>"


# --- the implicit subscription (RFC 3515 §2.4.4-2.4.6, RFC 6665) -------------------------------------


def sipfrag(status: int, reason: str) -> bytes:
    """A NOTIFY body: the status line of the new call's latest response (RFC 3420)."""
    return f"SIP/2.0 {status} {reason}\r\n".encode()


def parse_sipfrag(body: bytes) -> tuple[int, str]:
    """(status, reason) from a sipfrag body's first line."""
    first = body.decode("utf-8", "replace").lstrip().split("\n", 1)[0].rstrip("\r")
    match = _STATUS_LINE.fullmatch(first)
    if match is None:
        raise SipParseError(f"the NOTIFY body {first[:60]!r} is not a SIP status line (message/sipfrag)")
    return int(match.group(1)), match.group(2) or ""


def parse_event(value: str) -> tuple[str, str | None]:
    """(package, id) of an Event header, e.g. ``refer;id=93809824`` -> ("refer", "93809824")."""
    text = value.strip()
    end = text.find(";")
    package = (text if end < 0 else text[:end]).strip().lower()
    if not package:
        raise SipParseError(f"Event {value!r} names no event package")
    params, _ = scan_params(text, len(text) if end < 0 else end, "Event")
    return package, find_param(params, "id")[1]


def is_terminated(subscription_state: str | None) -> bool:
    """Whether a Subscription-State value ends the subscription (``terminated;reason=...``)."""
    return (subscription_state or "").split(";", 1)[0].strip().lower() == "terminated"


def subscription_state(final: bool, expires: int = NOTIFY_EXPIRES) -> str:
    """The Subscription-State of a NOTIFY we send: active while the new call is set up, terminated
    (reason noresource, §2.4.7) with its final status."""
    return "terminated;reason=noresource" if final else f"active;expires={expires}"


def event(refer: SipRequest) -> str:
    """The Event header of NOTIFYs about ``refer``: the id is its CSeq number (§2.4.6)."""
    return f"refer;id={refer.cseq().seq}"


def no_subscription(message: SipMessage) -> bool:
    """RFC 4488: ``Refer-Sub: false`` in a REFER asks for no NOTIFYs; in a 2xx to it, grants that."""
    return (message.get("Refer-Sub") or "").split(";", 1)[0].strip().lower() == "false"


def referred_by(uri: Uri | str) -> str:
    return f"<{uri}>"


# --- the transferor's view: how did it go? ------------------------------------------------------------


class Outcome(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass
class ReferProgress:
    """Follows one REFER to its end. ``reason`` says why, for logs and the CallTransferred event.

    Success is the first 2xx sipfrag; failure a final non-2xx REFER response, a final non-2xx
    sipfrag, or a subscription that terminates without any final status. A 2xx to the REFER that
    grants ``Refer-Sub: false`` is success at once: no NOTIFY will tell more (RFC 4488 §4).
    """

    outcome: Outcome = Outcome.PENDING
    reason: str = ""
    last_status: int | None = None

    def on_response(self, status: int, reason: str, *, refer_sub_false: bool = False) -> Outcome:
        if self.outcome is not Outcome.PENDING or status < 200:
            return self.outcome
        if status >= 300:
            return self._end(Outcome.FAILED, f"the REFER was refused: {status} {reason}".rstrip())
        if refer_sub_false:
            return self._end(Outcome.SUCCEEDED, "accepted without progress reports (Refer-Sub: false)")
        return self.outcome

    def on_notify(self, status: int | None, reason: str, *, terminated: bool) -> Outcome:
        """A NOTIFY with the sipfrag ``status`` (None when it had no readable body)."""
        if self.outcome is not Outcome.PENDING:
            return self.outcome
        if status is not None:
            self.last_status = status
            if 200 <= status < 300:
                return self._end(Outcome.SUCCEEDED, f"{status} {reason}".rstrip())
            if status >= 300:
                return self._end(Outcome.FAILED, f"the transfer target answered {status} {reason}".rstrip())
        if terminated:
            return self._end(Outcome.FAILED, "the transferee ended its reports without a final status")
        return self.outcome

    def give_up(self, reason: str) -> Outcome:
        if self.outcome is Outcome.PENDING:
            self._end(Outcome.FAILED, reason)
        return self.outcome

    def _end(self, outcome: Outcome, reason: str) -> Outcome:
        self.outcome, self.reason = outcome, reason
        return outcome
