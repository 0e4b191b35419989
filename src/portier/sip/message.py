"""SIP requests and responses: datagram parsing and serialisation (RFC 3261 §7, §18.3, §25).

Why header values are kept as (unfolded) text and typed on demand: a UA must forward and echo
headers it does not understand byte-for-byte in meaning, and order matters for Via, Route and
Record-Route. The headers the transaction and dialog layers depend on (Via, From, To, Contact,
Route, Record-Route, CSeq, Call-ID, Max-Forwards, Content-Length) are nevertheless checked during
``parse`` so that a malformed one is rejected at the edge with a precise 400 instead of failing
deep inside a dialog.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from portier.sip.errors import SipParseError
from portier.sip.headers import (
    LIST_HEADERS,
    TOKEN,
    canonical_name,
    is_token,
    parse_content_length,
    parse_max_forwards,
    split_values,
)
from portier.sip.nameaddr import NameAddr, is_star, parse_name_addr, parse_name_addr_list
from portier.sip.uri import Uri, parse_uri
from portier.sip.via import CSeq, Via, parse_via_list

_VERSION = re.compile(r"(?i)SIP/(\d{1,4})\.(\d{1,4})")
_CALL_ID = frozenset(TOKEN | frozenset('()<>:\\"/[]?{}@'))
_CALL_ID_RE = re.compile("[" + re.escape("".join(sorted(_CALL_ID))) + "]+")
_TOKEN_CLASS = "[" + re.escape("".join(sorted(TOKEN))) + "]"
_HEADER_LINE = re.compile(f"({_TOKEN_CLASS}+)[ \t]*:[ \t]*([^\n]*)")
_HEADER_BLOCK = re.compile(f"{_TOKEN_CLASS}+[ \t]*:[^\n]*(?:\n{_TOKEN_CLASS}+[ \t]*:[^\n]*)*")
_CONTROL_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


class Header(NamedTuple):
    """One header field line: canonical name, value with folding replaced by a single space.

    A named tuple rather than a dataclass: a message holds a dozen or more, and creating them is a
    measurable share of parsing (bench/sip_parse.py).
    """

    name: str
    value: str


@dataclass(kw_only=True)
class SipMessage:
    """What requests and responses share: version, ordered header lines, opaque body bytes."""

    headers: list[Header] = field(default_factory=list)
    body: bytes = b""
    version: str = "SIP/2.0"

    def get_all(self, name: str) -> list[str]:
        key = _lookup_key(name)
        return [h.value for h in self.headers if _lookup_key(h.name) == key]

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None

    def values(self, name: str) -> list[str]:
        """Every element of a list header across all its lines (``Allow: A, B`` + ``Allow: C``)."""
        return [item for line in self.get_all(name) for item in split_values(line) if item]

    def _one(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise SipParseError(f"missing {name} header")
        return value

    def vias(self) -> list[Via]:
        return [via for line in self.get_all("Via") for via in parse_via_list(line)]

    def from_(self) -> NameAddr:
        return parse_name_addr(self._one("From"), "From")

    def to(self) -> NameAddr:
        return parse_name_addr(self._one("To"), "To")

    def call_id(self) -> str:
        return self._one("Call-ID")

    def cseq(self) -> CSeq:
        return CSeq.parse(self._one("CSeq"))

    def contacts(self) -> list[NameAddr]:
        return [c for line in self.get_all("Contact") for c in parse_name_addr_list(line, "Contact")]

    def route(self, name: str = "Route") -> list[NameAddr]:
        return [r for line in self.get_all(name) for r in parse_name_addr_list(line, name)]

    def _start_line(self) -> str:
        raise NotImplementedError

    def __bytes__(self) -> bytes:
        """Wire form: CRLF line ends, long header names, Content-Length matching the body."""
        lines = [self._start_line()]
        length = len(self.body)
        for name, value in self.headers:
            if name == "Content-Length" and value != str(length) and not _states_length(value, length):
                value = str(length)
            lines.append(f"{name}: {value}")
        head = "\r\n".join(lines)
        if head.count("\n") != len(lines) - 1 or head.count("\r") != len(lines) - 1:
            bad = next(h.name for h in self.headers if any(c in h.name + h.value for c in "\r\n"))
            raise ValueError(f"header {bad!r} contains CR or LF")
        return (head + "\r\n\r\n").encode("utf-8", "surrogateescape") + self.body


@lru_cache(maxsize=512)
def _lookup_key(name: str) -> str:
    """Header names compare by their long form, case-insensitively (``i`` is ``Call-ID``)."""
    return canonical_name(name).lower()


def _states_length(value: str, length: int) -> bool:
    try:
        return parse_content_length(value) == length
    except SipParseError:
        return False


@dataclass(kw_only=True)
class SipRequest(SipMessage):
    method: str
    uri: Uri

    def _start_line(self) -> str:
        return f"{self.method} {self.uri} {self.version}"


@dataclass(kw_only=True)
class SipResponse(SipMessage):
    status: int
    reason: str = ""

    def _start_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}"


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """(header section, rest) at the first empty line, or None if there is none yet."""
    ends = [(i, n) for i, n in ((data.find(b"\r\n\r\n"), 4), (data.find(b"\n\n"), 2)) if i >= 0]
    if not ends:
        return None
    i, n = min(ends)
    return data[:i], data[i + n :]


def header_lines(head: str) -> list[Header]:
    """Unfold (RFC 3261 §7.3.1) and split ``name HCOLON value`` lines after the start line."""
    text = head.replace("\r\n", "\n")
    if "\r" in text or "\n " in text or "\n\t" in text or text[:1] in (" ", "\t"):
        return _header_lines_folded(head)
    if _HEADER_BLOCK.fullmatch(text) is None:  # the general reader names the bad line
        return _header_lines_folded(head)
    return [Header(_canonical(name), value.rstrip(" \t")) for name, value in _HEADER_LINE.findall(text)]


@lru_cache(maxsize=512)
def _canonical(name: str) -> str:
    return canonical_name(name)


def _header_lines_folded(head: str) -> list[Header]:
    """The general case: continuation lines, and the error for a bare CR with its line number."""
    headers: list[Header] = []
    for number, line in enumerate(re.split(r"\r?\n", head), start=2):
        if "\r" in line:
            raise SipParseError(f"line {number}: bare CR in the header section")
        if line[:1] in (" ", "\t"):
            if not headers:
                raise SipParseError(f"line {number}: continuation line before any header")
            last = headers.pop()
            folded = line.strip(" \t")
            headers.append(Header(last.name, f"{last.value} {folded}".strip(" \t")))
            continue
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not is_token(name):
            raise SipParseError(f"line {number}: expected 'Name: value', got {line[:60]!r}")
        headers.append(Header(canonical_name(name), value.strip(" \t")))
    return headers


def _parse_start(line: str) -> SipRequest | SipResponse:
    bad = _CONTROL_RE.search(line)
    if bad is not None:
        raise SipParseError(f"control character {bad.group()!r} in the start line")
    if line[:4].upper() == "SIP/":
        version, _, rest = line.partition(" ")
        code, _, reason = rest.partition(" ")
        if not _VERSION.fullmatch(version):
            raise SipParseError(f"malformed SIP-Version {version!r} in status line", None)
        if len(code) != 3 or not code.isascii() or not code.isdigit() or not 100 <= int(code) <= 699:
            raise SipParseError(f"status code must be 3 digits in 100-699, got {code[:20]!r}", None)
        return SipResponse(status=int(code), reason=reason, version=version.upper())
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        raise SipParseError(
            f"request line must be 'Method SP Request-URI SP SIP-Version', single spaces; got {line[:80]!r}"
        )
    method, uri_text, version = parts
    if not is_token(method):
        raise SipParseError(f"method {method[:40]!r} is not a token")
    if uri_text.startswith("<"):
        raise SipParseError("Request-URI must not be enclosed in <> (RFC 3261 §25.1)")
    if not _VERSION.fullmatch(version):
        raise SipParseError(f"malformed SIP-Version {version[:20]!r} in request line")
    return SipRequest(method=method, uri=parse_uri(uri_text), version=version.upper())


_TYPED: dict[str, Callable[[str], object]] = {
    "via": parse_via_list,
    "from": lambda v: parse_name_addr(v, "From"),
    "to": lambda v: parse_name_addr(v, "To"),
    "contact": lambda v: parse_name_addr_list(v, "Contact"),
    "route": lambda v: parse_name_addr_list(v, "Route"),
    "record-route": lambda v: parse_name_addr_list(v, "Record-Route"),
    "cseq": CSeq.parse,
    "max-forwards": parse_max_forwards,
}


def _check_headers(headers: list[Header]) -> None:
    for h in headers:
        key = _lookup_key(h.name)
        if key == "call-id" and _CALL_ID_RE.fullmatch(h.value) is None:
            raise SipParseError(f"Call-ID {h.value[:60]!r} is empty or has invalid characters")
        if key == "contact" and is_star(h.value):
            continue
        check = _TYPED.get(key)
        if check is not None:
            check(h.value)


def parse(data: bytes) -> SipRequest | SipResponse:
    """Parse one datagram (or one framed stream message); raises only ``SipParseError``.

    Content-Length per RFC 3261 §18.3: octets beyond it are discarded, fewer is a 400; without it
    the body runs to the end of the datagram (RFC 2543 peers, RFC 4475 §3.4.1).
    """
    data = data.lstrip(b"\r\n")
    if not data:
        raise SipParseError("empty message", None)
    parts = split_head(data)
    if parts is None:
        if not data.endswith(b"\n"):
            raise SipParseError("no empty line ends the header section")
        parts = (data.rstrip(b"\r\n"), b"")
    head_bytes, rest = parts
    head = head_bytes.decode("utf-8", "surrogateescape")
    start, _, header_text = head.partition("\n")
    start = start.removesuffix("\r")
    msg: SipRequest | SipResponse | None = None
    headers: list[Header] = []
    try:
        msg = _parse_start(start)
        headers = header_lines(header_text) if header_text else []
        lengths = [h.value for h in headers if h.name == "Content-Length"]
        if len(lengths) > 1:
            raise SipParseError(f"{len(lengths)} Content-Length header fields; exactly one allowed")
        body = rest
        if lengths:
            length = parse_content_length(lengths[0])
            if length > len(rest):
                raise SipParseError(f"Content-Length {length} exceeds the {len(rest)} body octets received")
            body = rest[:length]
        _check_headers(headers)
    except SipParseError as exc:
        pairs = tuple((h.name, h.value) for h in headers)
        status = None if isinstance(msg, SipResponse) or exc.status is None else exc.status
        raise SipParseError(exc.message, status, headers=pairs) from None
    msg.headers = headers
    msg.body = body
    return msg


def is_list_header(name: str) -> bool:
    return canonical_name(name).lower() in LIST_HEADERS
