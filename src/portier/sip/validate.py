"""Checks a UAS makes after parsing and before any dialog logic (RFC 3261 §8.2, §16.3 step 3).

Why data, not exceptions: each failed check maps to one response (status, reason, extra headers)
that the transaction layer sends as is; ``None`` means "go on". The order follows §8.2 (version,
then request syntax, method, header inspection, content processing), which is also how RFC 4475
§3.1.2.18 wants an unknown method with a mismatched CSeq answered: 501, not 400.
Responses cannot be answered; ``check_response`` returns why one must be discarded.
"""

from __future__ import annotations

from dataclasses import dataclass

from portier.sip.errors import SipParseError
from portier.sip.headers import parse_max_forwards
from portier.sip.message import SipMessage, SipRequest, SipResponse
from portier.sip.uri import SipUri
from portier.sip.via import MAGIC_COOKIE

SUPPORTED_METHODS = frozenset(
    [
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "OPTIONS",
        "REGISTER",
        "INFO",
        "MESSAGE",
        "NOTIFY",
        "SUBSCRIBE",
        "REFER",
        "PRACK",
        "UPDATE",
    ]
)
DEFAULT_CONTENT_TYPES = frozenset(
    {
        "application/sdp",
        "application/dtmf-relay",
        "application/dtmf",
        "text/plain",
        "message/sipfrag",
        "multipart/mixed",
        "multipart/alternative",
        "application/simple-message-summary",
    }
)
_MANDATORY = ("Via", "To", "From", "Call-ID", "CSeq")
_SINGLE = ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Type", "Content-Length")


@dataclass(frozen=True)
class Rejection:
    """The response to send instead of processing the request; ``detail`` is for logs."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class UasPolicy:
    """What this UAS understands and accepts; defaults fit a door station that is no registrar.

    ``forwarding`` turns on the proxy rule for Max-Forwards: 0 -> 483 except OPTIONS (§16.3).
    A UAS that consumes the request itself must not apply it (RFC 4475 §3.3.11).
    """

    methods: frozenset[str] = SUPPORTED_METHODS
    allowed: frozenset[str] = SUPPORTED_METHODS - {"REGISTER"}
    option_tags: frozenset[str] = frozenset()
    content_types: frozenset[str] = DEFAULT_CONTENT_TYPES
    content_encodings: frozenset[str] = frozenset({"identity"})
    uri_schemes: frozenset[str] = frozenset({"sip", "sips"})
    registrar: bool = False
    forwarding: bool = False
    warn_agent: str = "portier"


def _bad(detail: str) -> Rejection:
    return Rejection(400, "Bad Request", detail=detail)


def _structure(msg: SipMessage, mandatory: tuple[str, ...]) -> str | None:
    missing = [name for name in mandatory if msg.get(name) is None]
    if missing:
        return "missing " + ", ".join(missing)
    repeated = [name for name in _SINGLE if len(msg.get_all(name)) > 1]
    if repeated:
        return "more than one " + ", ".join(repeated)
    return None


def _media_type(value: str) -> str:
    media = value.split(";", 1)[0].strip(" \t").lower()
    kind, slash, sub = media.partition("/")
    if not slash or not kind or not sub:
        raise SipParseError(f"Content-Type {value!r} is not 'type/subtype'")
    return media


def _accepts_sdp(req: SipRequest) -> bool:
    ranges = {item.split(";", 1)[0].strip(" \t").lower() for item in req.values("Accept")}
    return bool(ranges & {"application/sdp", "application/*", "*/*"})


DEFAULT_POLICY = UasPolicy()


def check_request(req: SipRequest, policy: UasPolicy = DEFAULT_POLICY) -> Rejection | None:
    """The response a UAS must send instead of processing ``req``, or ``None`` if it may go on."""
    try:
        return _check_request(req, policy)
    except SipParseError as exc:
        return _bad(exc.message)


def _check_request(req: SipRequest, policy: UasPolicy) -> Rejection | None:
    if req.version != "SIP/2.0":
        return Rejection(505, "Version Not Supported", detail=f"{req.version} is not SIP/2.0")
    vias = req.vias()
    top_branch = vias[0].branch if vias else None
    # Max-Forwards is mandatory for RFC 3261 clients only; RFC 2543 ones (no magic cookie) may omit it.
    rfc3261 = top_branch is not None and top_branch.startswith(MAGIC_COOKIE)
    problem = _structure(req, (*_MANDATORY, "Max-Forwards") if rfc3261 else _MANDATORY)
    if problem:
        return _bad(problem)
    allow = (("Allow", ", ".join(sorted(policy.allowed))),)
    if req.method not in policy.methods:
        return Rejection(501, "Not Implemented", allow, f"method {req.method} is not implemented")
    if req.method not in policy.allowed and not (policy.registrar and req.method == "REGISTER"):
        return Rejection(405, "Method Not Allowed", allow, f"{req.method} is not accepted here")
    cseq = req.cseq()
    if cseq.method != req.method:
        return _bad(f"CSeq method {cseq.method} does not match request method {req.method}")
    max_forwards = req.get("Max-Forwards")
    forwarding = policy.forwarding and req.method != "OPTIONS"
    if forwarding and max_forwards is not None and parse_max_forwards(max_forwards) == 0:
        return Rejection(483, "Too Many Hops", detail="Max-Forwards is 0")
    if req.uri.scheme not in policy.uri_schemes:
        return Rejection(416, "Unsupported URI Scheme", detail=f"Request-URI scheme {req.uri.scheme!r}")
    if isinstance(req.uri, SipUri) and req.uri.headers:
        return _bad("Request-URI must not carry headers (RFC 3261 §19.1.1)")
    if top_branch == MAGIC_COOKIE:
        return _bad("Via branch is only the magic cookie; it identifies no transaction")
    if req.method not in ("ACK", "CANCEL"):
        unknown = [tag for tag in req.values("Require") if tag not in policy.option_tags]
        if unknown:
            return Rejection(420, "Bad Extension", (("Unsupported", ", ".join(unknown)),))
    return _check_content(req, policy) or _check_registrar(req, policy)


def _check_content(req: SipRequest, policy: UasPolicy) -> Rejection | None:
    content_type = req.get("Content-Type")
    if req.body:
        if content_type is None:
            return _bad("a body without Content-Type")
        media = _media_type(content_type)
        if media not in policy.content_types:
            accept = (("Accept", ", ".join(sorted(policy.content_types))),)
            return Rejection(415, "Unsupported Media Type", accept, f"Content-Type {media}")
        encodings = [e.lower() for e in req.values("Content-Encoding")]
        if any(e not in policy.content_encodings for e in encodings):
            accept = (("Accept-Encoding", ", ".join(sorted(policy.content_encodings))),)
            return Rejection(415, "Unsupported Media Type", accept, f"Content-Encoding {encodings}")
    if req.method == "INVITE" and req.get("Accept") is not None and not _accepts_sdp(req):
        text = '"Cannot answer in any of the formats offered in Accept"'
        warning = (("Warning", f"399 {policy.warn_agent} {text}"),)
        return Rejection(406, "Not Acceptable", warning, "Accept excludes application/sdp")
    return None


def _check_registrar(req: SipRequest, policy: UasPolicy) -> Rejection | None:
    if policy.registrar and req.method == "REGISTER":
        for name, addr in (("To", req.to()), ("From", req.from_())):
            if addr.uri.scheme not in ("sip", "sips"):
                return _bad(f"{name} URI scheme {addr.uri.scheme!r} cannot be an address-of-record")
    return None


def check_response(resp: SipResponse) -> str | None:
    """Why a received response must be discarded (RFC 3261 §8.1.3.3, §18.1.2), or ``None``."""
    if resp.version != "SIP/2.0":
        return f"{resp.version} is not SIP/2.0"
    try:
        problem = _structure(resp, _MANDATORY)
        if problem:
            return problem
        if len(resp.vias()) != 1:
            return "a response reaching a UAC must carry exactly one Via (RFC 3261 §8.1.3.3)"
    except SipParseError as exc:
        return exc.message
    return None
