"""What the UAS core answers on its own: OPTIONS capabilities (§11.2), rejections decided by
``validate.check_request`` (§8.2), and stateless 400s for requests that do not even parse (§8.2.6).

Why the stateless error salvages headers from raw bytes: a peer can only match a response to its
request through Via (branch), Call-ID and CSeq, and those are usually intact when some other part
of the message is broken (RFC 4475 §3.1.2 wants a 400 for most of its invalid requests). Whatever
is copied must parse again, so broken values are either cut down to what the peer can still match
on (Via sent-by and branch, From/To URI and tag) or left out. Why the stateless To tag is a hash
of the request: a retransmission must get the same tag (§8.2.7, §16.11), without keeping state.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from portier.sip.errors import SipParseError
from portier.sip.headers import TOKEN, canonical_name, is_token, quote, split_values
from portier.sip.message import Header, SipRequest, SipResponse, parse, split_head
from portier.sip.nameaddr import NameAddr, parse_name_addr
from portier.sip.uri import parse_uri
from portier.sip.validate import Rejection
from portier.sip.via import CSeq, Via, parse_via, parse_via_list

REASONS = {
    400: "Bad Request",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    416: "Unsupported URI Scheme",
    500: "Server Internal Error",
    505: "Version Not Supported",
    513: "Message Too Large",
}
_CALL_ID = TOKEN | frozenset('()<>:\\"/[]?{}@')  # RFC 3261 §25.1 word, as message.parse checks it
_VIA_HEAD = re.compile(r"\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s:;,]+)")
_VIA_PORT = re.compile(r"\s*:\s*(\d{1,5})")
_BRANCH = re.compile(r";\s*branch\s*=\s*([A-Za-z0-9.!%*_+`'~-]+)", re.IGNORECASE)
_ANGLE_URI = re.compile(r"<\s*([^<>\s]+)\s*>")
_BARE_URI = re.compile(r"(?i)(?:^|\s)(sips?:[^\s;<>,\"]+)")
_TAG = re.compile(r"(?i);\s*tag\s*=\s*([A-Za-z0-9.!%*_+`'~-]+)")
_MAX_WARNING = 160


@dataclass(frozen=True)
class Capabilities:
    """What an OPTIONS 200 advertises (RFC 3261 §11.2); defaults describe portier's door station."""

    allow: tuple[str, ...] = (
        "INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "MESSAGE", "NOTIFY", "REFER", "UPDATE", "PRACK",
    )  # fmt: skip
    accept: tuple[str, ...] = ("application/sdp", "application/dtmf-relay", "message/sipfrag", "text/plain")
    supported: tuple[str, ...] = ("replaces", "timer", "100rel")
    accept_encoding: tuple[str, ...] = ("identity",)
    accept_language: tuple[str, ...] = ("en",)
    user_agent: str = ""


def _to_with_tag(value: str, to_tag: str | None) -> str:
    """The request's To value with ``to_tag`` appended unless it already has a tag (§8.2.6.2)."""
    if to_tag is None or parse_name_addr(value, "To").tag is not None:
        return value
    return f"{value};tag={to_tag}"


def stateless_tag(request: bytes | SipRequest) -> str:
    """A To tag that is the same for every retransmission of a request (§8.2.7): a hash of it."""
    data = request if isinstance(request, bytes) else bytes(request)
    return hashlib.blake2b(data, digest_size=6).hexdigest()


def _response(
    request: SipRequest,
    status: int,
    reason: str,
    to_tag: str | None,
    extra: Iterable[tuple[str, str]] = (),
    server: str = "",
    *,
    contact: str | None = None,
) -> SipResponse:
    """A response copying Via, From, To (+tag), Call-ID, CSeq (§8.2.6.2) and, on a 1xx/2xx that can
    make a dialog, Record-Route (§12.1.1); then Contact, Server and ``extra`` headers."""
    tag = stateless_tag(request) if to_tag is None and status != 100 else to_tag
    dialog = 100 < status < 300
    headers: list[Header] = []
    for h in request.headers:
        if h.name in ("Via", "From", "Call-ID", "CSeq") or (dialog and h.name == "Record-Route"):
            headers.append(h)
        elif h.name == "To":
            headers.append(Header("To", _to_with_tag(h.value, tag)))
    if contact and (dialog or 300 <= status < 400):  # a 3xx names its targets in Contact (§21.3)
        headers.append(Header("Contact", contact))
    if server:
        headers.append(Header("Server", server))
    headers += [Header(canonical_name(n), v) for n, v in extra]
    return SipResponse(status=status, reason=reason, headers=headers, version="SIP/2.0")


def respond(
    request: SipRequest,
    status: int,
    reason: str,
    *,
    to_tag: str | None = None,
    contact: str | None = None,
    server: str = "",
    body: bytes = b"",
    content_type: str | None = None,
    extra: Iterable[tuple[str, str]] = (),
) -> SipResponse:
    """A complete response of the UAS core: the §8.2.6.2 copies, our To tag (a stable hash of the
    request when none is given), Contact on dialog-making responses, the body and Content-Length."""
    response = _response(request, status, reason, to_tag, extra, server, contact=contact)
    if body:
        response.headers.append(Header("Content-Type", content_type or "application/sdp"))
        response.body = body
    response.headers.append(Header("Content-Length", str(len(body))))
    return response


def answer_options(
    request: SipRequest,
    caps: Capabilities,
    *,
    to_tag: str,
    sdp: bytes | None = None,
    contact: NameAddr | str | None = None,
) -> SipResponse:
    """The 200 to an OPTIONS (§11.2): Allow, Accept, Accept-Encoding, Accept-Language, Supported,
    and the session description ``sdp`` when the request accepts application/sdp (or names nothing)."""
    extra: list[tuple[str, str]] = []
    if contact is not None:
        extra.append(("Contact", str(contact)))
    extra += [
        ("Allow", ", ".join(caps.allow)),
        ("Accept", ", ".join(caps.accept)),
        ("Accept-Encoding", ", ".join(caps.accept_encoding)),
        ("Accept-Language", ", ".join(caps.accept_language)),
        ("Supported", ", ".join(caps.supported)),
    ]
    extra = [(name, value) for name, value in extra if value]  # an empty list header says nothing
    response = _response(request, 200, "OK", to_tag, extra, caps.user_agent)
    if sdp is not None and _accepts_sdp(request):
        response.headers.append(Header("Content-Type", "application/sdp"))
        response.body = sdp
    response.headers.append(Header("Content-Length", str(len(response.body))))
    return response


def _accepts_sdp(request: SipRequest) -> bool:
    ranges = {item.split(";", 1)[0].strip().lower() for item in request.values("Accept")}
    return not ranges or bool(ranges & {"application/sdp", "application/*", "*/*"})


def reject(request: SipRequest, rejection: Rejection, *, to_tag: str | None, server: str = "") -> SipResponse:
    """The response ``rejection`` (from ``validate.check_request`` or ``Dialog.receive_request``)
    stands for, with its extra headers (Allow, Unsupported, Accept, Warning ...).

    ``to_tag`` None means "answering statelessly": the tag is then derived from the request, so
    its retransmissions get the same one. A To that already has a tag keeps it. Never answer an
    ACK: the caller must drop it instead.
    """
    response = _response(request, rejection.status, rejection.reason, to_tag, rejection.headers, server)
    response.headers.append(Header("Content-Length", "0"))
    return response


def _raw_headers(data: bytes) -> tuple[str, list[Header]]:
    """Start line and unfolded ``name: value`` lines, skipping any line that is not one."""
    parts = split_head(data.lstrip(b"\r\n"))
    head = (parts[0] if parts else data).decode("utf-8", "surrogateescape")
    lines = re.split(r"\r?\n", head)
    headers: list[Header] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            if headers:
                last = headers.pop()
                headers.append(Header(last.name, f"{last.value} {line.strip()}"))
            continue
        name, colon, value = line.partition(":")
        name = name.strip(" \t")
        if colon and is_token(name):
            headers.append(Header(canonical_name(name), value.strip(" \t")))
    return lines[0], headers


def _salvage_via(value: str) -> Via | None:
    """The transport, sent-by and branch of a broken via-parm, which is all a peer matches on."""
    m = _VIA_HEAD.match(value)
    if m is None:
        return None
    transport, host = m.group(1), m.group(2)
    port_match = _VIA_PORT.match(value, m.end())
    branch = _BRANCH.search(value, m.end())
    candidate = Via(
        transport.upper(),
        host,
        int(port_match.group(1)) if port_match else None,
        (("branch", branch.group(1)),) if branch else (),
    )
    try:
        return parse_via(str(candidate))
    except SipParseError:
        return None


def _vias(lines: list[str]) -> list[str]:
    """Every via-parm that parses or can be salvaged, up to the first one that cannot."""
    out: list[str] = []
    for line in lines:
        if _has_controls(line):
            return out
        try:
            items = split_values(line)
        except SipParseError:
            items = [line]
        for item in items:
            try:
                out += [str(v) for v in parse_via_list(item)] if item else []
                continue
            except SipParseError:
                pass
            salvaged = _salvage_via(item)
            if salvaged is None:
                return out
            out.append(str(salvaged))
    return out


def _salvage_address(value: str, name: str) -> str | None:
    """The value itself when it parses, else ``<uri>;tag=t`` cut from it, else None."""
    try:
        parse_name_addr(value, name)
        return value
    except SipParseError:
        pass
    m = _ANGLE_URI.search(value) or _BARE_URI.search(value)
    if m is None:
        return None
    try:
        uri = parse_uri(m.group(1))
    except SipParseError:
        return None
    tag = _TAG.search(value[m.end() :])
    return str(NameAddr(uri, None, (("tag", tag.group(1)),) if tag else ()))


def _has_controls(value: str) -> bool:
    """E.g. a bare CR: lenient splitting lets it through, but it must not reach the wire."""
    return any((ch < " " and ch != "\t") or ch == "\x7f" for ch in value)


def _copyable(name: str, value: str) -> str | None:
    if _has_controls(value):
        return None
    if name in ("From", "To"):
        return _salvage_address(value, name)
    if name == "Call-ID":
        return value if value and all(ch in _CALL_ID for ch in value) else None
    try:
        CSeq.parse(value)
    except SipParseError:
        return None
    return value


def _warning(detail: str, agent: str) -> str:
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in detail)[:_MAX_WARNING]
    return f"399 {agent} {quote(text)}"


def stateless_error(
    data: bytes,
    error: SipParseError,
    *,
    to_tag: str | None = None,
    warn_agent: str = "portier",
) -> bytes | None:
    """A best-effort ``error.status`` response (400, 413, 513 ...) to a request that failed to parse.

    None when there is nothing to answer: a response (never answered), an ACK, a start line that
    is not a request, an error without a status, or no Via that can be recovered (the peer could not
    match the answer). Via, From, To, Call-ID and CSeq are copied when they parse or can be cut down
    to something that does; the rest is left out. ``data`` may be empty when only
    ``error.headers`` is known (the stream framer's case). The error text goes into a Warning.
    """
    if error.status is None:
        return None
    start, raw = _raw_headers(data) if data else ("", [])
    if error.headers:
        raw = [Header(canonical_name(n), v) for n, v in error.headers]
    method = start.split(" ", 1)[0]
    if (start and (start[:4].upper() == "SIP/" or not is_token(method))) or method == "ACK":
        return None
    vias = _vias([h.value for h in raw if h.name == "Via"])
    if not vias:
        return None
    headers = [Header("Via", v) for v in vias]
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = next((h.value for h in raw if h.name == name), None)
        copied = None if value is None else _copyable(name, value)
        if copied is not None:
            headers.append(Header(name, copied))
    cseq = next((h.value for h in headers if h.name == "CSeq"), None)
    if cseq is not None and CSeq.parse(cseq).method == "ACK":
        return None
    if to_tag is None:
        seen = "\n".join(f"{h.name}:{h.value}" for h in raw).encode("utf-8", "surrogateescape")
        to_tag = stateless_tag(data or seen)
    headers = [Header("To", _to_with_tag(h.value, to_tag)) if h.name == "To" else h for h in headers]
    headers.append(Header("Warning", _warning(error.message, warn_agent)))
    headers.append(Header("Content-Length", "0"))
    reason = REASONS.get(error.status, "Bad Request" if error.status < 500 else "Server Internal Error")
    try:
        out = bytes(SipResponse(status=error.status, reason=reason, headers=headers))
        parse(out)
    except ValueError:  # a salvaged value we misjudged (SipParseError is one): better silence than garbage
        return None
    return out
