"""The one place that decides what happens to a call (manual 7.5, 8.1, 9.15; Tables 15 and 17).

Calls ask, policy answers: an incoming INVITE becomes a :class:`Reject`, a :class:`Redirect`
(call forward, sent as 302) or a :class:`Ring` (with when to answer, when to give up and
where to forward if nobody answers); a number to dial becomes a :class:`Dial` or a
:class:`Refuse`. Pure functions of the settings, the restricted lists and what the device is
doing now, so every rule is a unit test and the call code stays free of ``if dnd:`` ladders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portier.settings.records import RestrictedIncoming, RestrictedOutgoing
from portier.settings.schema import Settings
from portier.settings.sip_line import SipLine
from portier.sip.errors import SipParseError
from portier.sip.uri import SipUri, unescape

_REASONS = {
    403: "Forbidden",
    433: "Anonymity Disallowed",
    480: "Temporarily Unavailable",
    486: "Busy Here",
    600: "Busy Everywhere",
    603: "Decline",
}


def reason_phrase(code: int) -> str:
    return _REASONS.get(code, "Declined" if code >= 600 else "Busy Here")


@dataclass(frozen=True)
class Reject:
    code: int
    why: str
    """Shown in logs, the call log and a Warning header: why the call was refused."""

    @property
    def reason(self) -> str:
        return reason_phrase(self.code)


@dataclass(frozen=True)
class Redirect:
    """Call forward: answer with 302 and this target in the Contact."""

    target: str
    why: str


@dataclass(frozen=True)
class Ring:
    answer_after: float | None
    """Seconds until the device answers by itself; None waits for a person (or the API)."""
    hangup_after: float
    """No Answer Auto HangUp Timeout."""
    forward: Redirect | None = None
    forward_after: float = 0.0
    """Call forward on no answer: redirect after this many seconds of ringing."""
    waiting: bool = False
    """A second call during a call (call waiting): ring with 182 when ``use_182``."""
    use_182: bool = False
    intercom: bool = False
    barge: bool = False
    """An intercom call that is answered although another call is up (Intercom Barge)."""
    silent: bool = False
    """Silent Mode: no ringtone."""


Verdict = Reject | Redirect | Ring


@dataclass(frozen=True)
class Incoming:
    """What policy needs to know about an incoming call and the device's state."""

    caller: str
    """The caller's user part (number), as presented."""
    anonymous: bool
    line: int
    """1-2 for a SIP line, 0 for a direct IP (P2P) call."""
    intercom_delay: float | None = None
    """The delay an intercom header asked for (intercom.py), None for an ordinary call."""
    busy: bool = False
    """Another call is up (ringing, calling or talking)."""
    busy_with_intercom: bool = False
    """A call that is up is itself an intercom call."""
    waiting_already: bool = False
    """A second call is already up or ringing: a third caller is busy (one waiting call at a time)."""


def is_anonymous(user: str, host: str, display: str, privacy: str) -> bool:
    """RFC 3323/3325 and the usual PBX habits: ``anonymous@anonymous.invalid``, Privacy: id."""
    privacy_values = {p.strip().lower() for p in privacy.split(";")}
    return (
        user.lower() in ("anonymous", "")
        or host.lower() == "anonymous.invalid"
        or display.strip().strip('"').lower() == "anonymous"
        or bool(privacy_values & {"id", "user", "header"})
    )


def line_settings(settings: Settings, line: int) -> SipLine | None:
    """SIP1/SIP2's settings, None for P2P (line 0)."""
    if line == 0:
        return None
    return settings.lines.sip1 if line == 1 else settings.lines.sip2


def server_handles(line: SipLine | None) -> bool:
    """ "Use Feature Code": the server, not the device, does DND, call forward, anonymous-call
    blocking and Send Anonymous for this line (``feature_codes.py`` dials the codes)."""
    return line is not None and line.use_feature_code


_CODE_NAMES = tuple(
    f"{name}_{state}_code"
    for name in ("dnd", "cfu", "cfb", "cfn", "anc", "cw", "send_anonymous")
    for state in ("on", "off")
)
_CODES_WITH_TARGET = ("cfu_on_code", "cfb_on_code", "cfn_on_code")


def is_feature_code(number: str, line: SipLine | None) -> bool:
    """Whether ``number`` is one of the line's feature codes (a forward code may carry the target
    after it). Only with "Use Feature Code" on: otherwise ``*78`` is a number like any other."""
    if not server_handles(line):
        return False
    assert line is not None
    for name in _CODE_NAMES:
        code = str(getattr(line, name)).strip()
        if code and (number == code or (name in _CODES_WITH_TARGET and number.startswith(code))):
            return True
    return False


def _line_name(line: int) -> str:
    return f"SIP{line}" if line else "P2P"


def _listed(number: str, line: int, rows: Sequence[RestrictedIncoming]) -> RestrictedIncoming | None:
    for row in rows:
        if row.line.upper() not in ("AUTO", "", _line_name(line)):
            continue
        if number == row.number or (row.prefix and number.startswith(row.number)):
            return row
    return None


def decide_incoming(call: Incoming, settings: Settings, restricted: Sequence[RestrictedIncoming]) -> Verdict:
    """Reject, forward or ring an incoming call, in the order a person would expect.

    Refusals that are about *who* calls (IP calls off, restricted list, anonymous) come first,
    then the resident's own choices (DND, unconditional forward), then what the device is
    doing (busy: intercom barge, forward on busy, call waiting, busy code), then ringing.
    """
    features = settings.intercom.features
    basic = features.basic
    codes = features.response_codes
    line = line_settings(settings, call.line)
    if line is None and not basic.allow_ip_call:
        return Reject(403, "IP calls are not allowed")
    if basic.restricted_incoming and (row := _listed(call.caller, call.line, restricted)) is not None:
        return Reject(codes.reject, f"{call.caller} is on the restricted incoming list ({row.number})")
    own = line if not server_handles(line) else None  # the device does this line's DND, forwards...
    if own is not None and own.block_anonymous and call.anonymous:
        return Reject(433, "anonymous calls are blocked on this line")
    if own is not None and own.dnd:
        return Reject(codes.reject, "do not disturb")
    if own is not None and own.forward_unconditional and own.forward_unconditional_number:
        return Redirect(own.forward_unconditional_number, "call forward unconditional")
    intercom = call.intercom_delay is not None and features.intercom.enable
    if call.busy:
        if intercom and features.intercom.barge:
            if call.busy_with_intercom:
                return Reject(codes.busy, "busy (an intercom call is up; a second one is refused)")
            if not call.waiting_already:
                return Ring(call.intercom_delay, basic.no_answer_hangup_timeout, intercom=True, barge=True)
        if own is not None and own.forward_busy and own.forward_busy_number:
            return Redirect(own.forward_busy_number, "call forward on busy")
        if not basic.call_waiting:
            return Reject(codes.busy, "busy (call waiting is off)")
        if call.waiting_already:
            return Reject(codes.busy, "busy (a call is already waiting)")
        respond_182 = bool(line and line.respond_182)
        return Ring(None, basic.no_answer_hangup_timeout, waiting=True, use_182=respond_182,
                    intercom=intercom, silent=basic.silent_mode)
    if intercom:
        return Ring(call.intercom_delay, basic.no_answer_hangup_timeout, intercom=True,
                    silent=not features.intercom.tone)
    if line is not None:
        auto, delay = line.auto_answer, float(line.auto_answer_delay)
    else:
        auto, delay = settings.lines.p2p.auto_answer, float(settings.lines.p2p.auto_answer_delay)
    forward = None
    forward_after = 0.0
    if own is not None and own.forward_no_answer and own.forward_no_answer_number:
        forward = Redirect(own.forward_no_answer_number, "call forward on no answer")
        forward_after = float(own.forward_no_answer_delay)
        if auto and delay <= forward_after:
            forward = None  # answered before the forward would happen
    return Ring(delay if auto else None, basic.no_answer_hangup_timeout, forward=forward,
                forward_after=forward_after, silent=basic.silent_mode)


@dataclass(frozen=True)
class Dial:
    number: str
    """The number after the Call Number Filter and country/area codes."""
    anonymous: bool = False
    """Send Anonymous: hide this line's identity."""


@dataclass(frozen=True)
class Refuse:
    why: str


def decide_outgoing(
    number: str, line: int, settings: Settings, restricted: Sequence[RestrictedOutgoing]
) -> Dial | Refuse:
    """May the device dial ``number`` on ``line`` (0 = P2P), and what exactly does it dial?

    A feature code of the line is a command to its server, not a call to a person: it goes out as
    configured, whatever Ban Outgoing, the lists, the filter or the country code say, and never
    anonymously (the server must know whose feature it switches).
    """
    basic = settings.intercom.features.basic
    sip_line = line_settings(settings, line)
    if is_feature_code(number.strip(), sip_line):
        return Dial(number.strip())
    if basic.ban_outgoing:
        return Refuse("outgoing calls are banned (Ban Outgoing)")
    anonymous = sip_line is not None and sip_line.send_anonymous and not server_handles(sip_line)
    if number.strip().lower().startswith(("sip:", "sips:")):  # a whole address: only its user is checked
        user = _uri_user(number.strip())
        if basic.restricted_outgoing and user and (row := _listed(user, line, restricted)) is not None:
            return Refuse(f"{user} is on the restricted outgoing list ({row.number})")
        return Dial(number.strip(), anonymous=anonymous)
    dialled = "".join(ch for ch in number if ch not in basic.call_number_filter)
    if not dialled:
        return Refuse(f"nothing left to dial after the Call Number Filter ({basic.call_number_filter!r})")
    if basic.restricted_outgoing and (row := _listed(dialled, line, restricted)) is not None:
        return Refuse(f"{dialled} is on the restricted outgoing list ({row.number})")
    if basic.country_code_enable and dialled.isdigit() and basic.country_code:
        prefix = basic.country_code + basic.area_code
        if not dialled.startswith(prefix):
            dialled = prefix + dialled
    return Dial(dialled, anonymous=anonymous)


def _uri_user(text: str) -> str:
    """The (unescaped) user part of a SIP URI, "" when it has none or does not parse."""
    try:
        uri = SipUri.parse(text)
    except SipParseError:
        return ""
    return unescape(uri.user or "")
