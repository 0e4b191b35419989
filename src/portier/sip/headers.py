"""Header-field grammar shared by every typed header (RFC 3261 §7.3, §20, §25.1).

Why a hand-written scanner instead of regexes per header: LWS may appear around every separator
(``Via  : SIP  /  2.0 / UDP host ; branch = x``), quoted strings may hide commas and semicolons,
and the errors must say exactly which element is wrong so a 400 reason is actionable.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from functools import lru_cache

from portier.sip.errors import SipParseError
from portier.sip.uri import Param

TOKEN = frozenset(string.ascii_letters + string.digits + "-.!%*_+`'~")
# gen-value = token / host / quoted-string; host adds ':' '[' ']' for IPv6 literals.
_VALUE = TOKEN | frozenset(":[]")
WS = " \t"
_TOKEN_RE = re.compile("[" + re.escape("".join(sorted(TOKEN))) + "]+")

_COMPACT = {
    "a": "Accept-Contact", "b": "Referred-By", "c": "Content-Type", "d": "Request-Disposition",
    "e": "Content-Encoding", "f": "From", "i": "Call-ID", "j": "Reject-Contact", "k": "Supported",
    "l": "Content-Length", "m": "Contact", "n": "Identity-Info", "o": "Event", "r": "Refer-To",
    "s": "Subject", "t": "To", "u": "Allow-Events", "v": "Via", "x": "Session-Expires",
    "y": "Identity",
}  # fmt: skip
_KNOWN = [
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Authentication-Info",
    "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition", "Content-Encoding",
    "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date", "Error-Info", "Expires",
    "From", "In-Reply-To", "Max-Forwards", "MIME-Version", "Min-Expires", "Organization",
    "Priority", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route",
    "Reply-To", "Require", "Retry-After", "Route", "Server", "Subject", "Supported", "Timestamp",
    "To", "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate", "RAck", "RSeq",
    "Event", "Allow-Events", "Subscription-State", "Refer-To", "Referred-By", "Replaces",
    "Session-Expires", "Min-SE", "Path", "Service-Route", "P-Asserted-Identity",
    "P-Preferred-Identity", "Privacy", "Reason", "Identity", "Identity-Info", "Accept-Contact",
    "Reject-Contact", "Request-Disposition", "Flow-Timer", "SIP-ETag", "SIP-If-Match",
]  # fmt: skip
_CANONICAL = {name.lower(): name for name in _KNOWN} | _COMPACT

# Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1); the others may carry commas
# inside a single value (Date, Authorization, WWW-Authenticate, Subject ...).
LIST_HEADERS = frozenset(
    name.lower()
    for name in (
        "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
        "Call-Info", "Contact", "Content-Encoding", "Content-Language", "Error-Info", "In-Reply-To",
        "Path", "Proxy-Require", "Record-Route", "Require", "Route", "Service-Route", "Supported",
        "Unsupported", "Via", "Warning", "P-Asserted-Identity", "Reason",
    )
)  # fmt: skip


def canonical_name(name: str) -> str:
    """Long, conventionally capitalised form (``i`` -> ``Call-ID``); unknown names stay as sent."""
    return _CANONICAL.get(name.lower(), name)


def is_token(text: str) -> bool:
    return _TOKEN_RE.fullmatch(text) is not None


def skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in WS:
        pos += 1
    return pos


_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPED_RE = re.compile(r"\\(.)", re.DOTALL)


def scan_quoted(text: str, pos: int) -> tuple[str, str, int]:
    """Read a quoted-string at ``text[pos] == '"'``: (raw incl. quotes, decoded, end position)."""
    match = _QUOTED_RE.match(text, pos)
    if match is None:
        raise SipParseError(f"unterminated quoted string {text[pos:]!r}")
    inner = match.group(1)
    decoded = _ESCAPED_RE.sub(r"\1", inner) if "\\" in inner else inner
    return match.group(0), decoded, match.end()


def quote(text: str) -> str:
    """Quote a display name, escaping what qdtext cannot carry (RFC 3261 §25.1 quoted-pair)."""
    if "\r" in text or "\n" in text:
        raise SipParseError("a quoted string cannot contain CR or LF")
    body = "".join(
        "\\" + ch if ch in '"\\' or (ch < " " and ch != "\t") or ch == "\x7f" else ch for ch in text
    )
    return f'"{body}"'


def split_values(value: str) -> list[str]:
    """Split at commas outside quoted strings and <...> (RFC 3261 §7.3.1); items are stripped."""
    if "," not in value:  # most header lines hold one value: no scan needed
        return [value.strip(WS)]
    if '"' not in value and "<" not in value:
        return [item.strip(WS) for item in value.split(",")]
    items: list[str] = []
    start, i, angle = 0, 0, False
    while i < len(value):
        ch = value[i]
        if ch == '"':
            i = scan_quoted(value, i)[2]
            continue
        if ch == "<":
            angle = True
        elif ch == ">":
            angle = False
        elif ch == "," and not angle:
            items.append(value[start:i].strip(WS))
            start = i + 1
        i += 1
    items.append(value[start:].strip(WS))
    return items


def _charset(chars: frozenset[str]) -> str:
    return "[" + re.escape("".join(sorted(chars))) + "]"


_PARAM_RE = re.compile(
    rf"""[ \t]*;[ \t]*({_charset(TOKEN)}++)"""
    rf"""(?:[ \t]*=[ \t]*(?:("(?:[^"\\]|\\.)*")|({_charset(_VALUE)}+))|(?![ \t]*=))"""
)


def scan_params(text: str, pos: int, context: str) -> tuple[tuple[Param, ...], int]:
    """Read ``*( SEMI name [EQUAL gen-value] )`` with LWS around each separator.

    Well-formed parameters are read by one regular expression; the character-by-character reader
    takes over at the first one it does not match, to give the precise error.
    """
    params: list[Param] = []
    while (match := _PARAM_RE.match(text, pos)) is not None:
        name, quoted, plain = match.groups()
        params.append((name, quoted if quoted is not None else plain))
        pos = match.end()
    rest, pos = _scan_params_slowly(text, pos, context)
    return (*params, *rest), pos


def _scan_params_slowly(text: str, pos: int, context: str) -> tuple[tuple[Param, ...], int]:
    params: list[Param] = []
    while True:
        pos = skip_ws(text, pos)
        if pos >= len(text) or text[pos] != ";":
            return tuple(params), pos
        start = pos = skip_ws(text, pos + 1)
        while pos < len(text) and text[pos] in TOKEN:
            pos += 1
        name = text[start:pos]
        if not name:
            raise SipParseError(f"{context}: empty parameter at {text[start - 1 :]!r}")
        pos = skip_ws(text, pos)
        if pos < len(text) and text[pos] == "=":
            pos = skip_ws(text, pos + 1)
            if pos < len(text) and text[pos] == '"':
                raw, _, pos = scan_quoted(text, pos)
                params.append((name, raw))
                continue
            vstart = pos
            while pos < len(text) and text[pos] in _VALUE:
                pos += 1
            if vstart == pos:
                raise SipParseError(f"{context}: parameter {name!r} has '=' but no value")
            params.append((name, text[vstart:pos]))
        else:
            params.append((name, None))


def find_param(params: tuple[Param, ...], name: str) -> tuple[bool, str | None]:
    """(present, value) of a case-insensitively named parameter."""
    key = name.lower()
    for n, v in params:
        if n.lower() == key:
            return True, v
    return False, None


def format_params(params: tuple[Param, ...]) -> str:
    return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)


def parse_uint(value: str, name: str, maximum: int) -> int:
    """``1*DIGIT`` within ``maximum``; the digit-count guard avoids huge int conversions."""
    text = value.strip(WS)
    if not text.isascii() or not text.isdigit():
        raise SipParseError(f"{name} must be a non-negative decimal integer, got {value!r}")
    if len(text.lstrip("0")) > len(str(maximum)) or int(text) > maximum:
        raise SipParseError(f"{name} {text} exceeds the maximum {maximum}")
    return int(text)


@lru_cache(maxsize=256)
def parse_content_length(value: str) -> int:
    return parse_uint(value, "Content-Length", 2**32 - 1)


@lru_cache(maxsize=256)
def parse_max_forwards(value: str) -> int:
    return parse_uint(value, "Max-Forwards", 255)


_DATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d{4}) (\d{2}):(\d{2}):(\d{2}) (\S+)"
)
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def parse_date(value: str) -> datetime:
    """RFC 3261 §20.17 Date (rfc1123-date, GMT only) - needed only where the clock is taken from it."""
    m = _DATE.fullmatch(value.strip(WS))
    if m is None:
        raise SipParseError(f"Date must look like 'Sat, 13 Nov 2010 23:29:00 GMT', got {value!r}")
    if m.group(8) != "GMT":
        raise SipParseError(f"Date must be in GMT (RFC 3261 §20.17), got time zone {m.group(8)!r}")
    day, year, hh, mm, ss = (int(m.group(i)) for i in (2, 4, 5, 6, 7))
    try:
        return datetime(year, _MONTHS.index(m.group(3)) + 1, day, hh, mm, ss, tzinfo=UTC)
    except ValueError as exc:
        raise SipParseError(f"Date {value!r} is not a real time: {exc}") from None
