"""Via and CSeq header values (RFC 3261 §20.42, §20.16).

Why typed: the transaction layer matches on the top Via's branch and sent-by and on the CSeq
method, and responses are routed back using received/rport (RFC 3581); those must be read once,
with exact errors, instead of being re-split by every caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from portier.sip.errors import SipParseError
from portier.sip.headers import (
    TOKEN,
    find_param,
    format_params,
    is_token,
    parse_uint,
    scan_params,
    skip_ws,
    split_values,
)
from portier.sip.uri import Param, check_host, parse_port

MAGIC_COOKIE = "z9hG4bK"


@dataclass(frozen=True)
class Via:
    """One via-parm: ``SIP/2.0/UDP host:port;branch=...;received=...;rport``."""

    transport: str
    host: str
    port: int | None = None
    params: tuple[Param, ...] = ()
    protocol: str = "SIP"
    version: str = "2.0"

    @property
    def sent_by(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"

    def param(self, name: str) -> str | None:
        return find_param(self.params, name)[1]

    def has_param(self, name: str) -> bool:
        return find_param(self.params, name)[0]

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    @property
    def received(self) -> str | None:
        return self.param("received")

    @property
    def rport(self) -> int | None:
        """The rport value a server filled in; ``has_param('rport')`` tells a bare request flag."""
        value = self.param("rport")
        return None if value is None else parse_port(value, "Via rport")

    def __str__(self) -> str:
        return f"{self.protocol}/{self.version}/{self.transport} {self.sent_by}{format_params(self.params)}"


def _token(text: str, pos: int, what: str) -> tuple[str, int]:
    pos = skip_ws(text, pos)
    first = pos
    while pos < len(text) and text[pos] in TOKEN:
        pos += 1
    if first == pos:
        raise SipParseError(f"Via {text!r}: missing {what}")
    return text[first:pos], skip_ws(text, pos)


def _slash(text: str, pos: int, what: str) -> int:
    if pos >= len(text) or text[pos] != "/":
        raise SipParseError(f"Via {text!r}: expected '/' before the {what}")
    return pos + 1


_WORD = r"([A-Za-z0-9\-.!%*_+`'~]++)"
_SENT = re.compile(
    rf"{_WORD}[ \t]*/[ \t]*{_WORD}[ \t]*/[ \t]*{_WORD}"
    r"[ \t]+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?:[ \t]*:[ \t]*([0-9]{1,5}))?"
)


def parse_via(text: str) -> Via:
    """Parse one via-parm, allowing LWS around '/', ':', ';' and '=' as RFC 3261 §25.1 does."""
    sent = _SENT.match(text)
    if sent is not None:  # the usual shape, read at once; anything else goes the long way below
        protocol, version, transport, host, port_text = sent.groups()
        check_host(host)
        port = None if port_text is None else parse_port(port_text, f"Via {text!r}")
        params, pos = scan_params(text, sent.end(), f"Via {text!r}")
        if pos == len(text):
            return Via(transport.upper(), host, port, params, protocol.upper(), version)
    return _parse_via_slowly(text)


def _parse_via_slowly(text: str) -> Via:
    protocol, pos = _token(text, 0, "protocol name")
    version, pos = _token(text, _slash(text, pos, "protocol version"), "protocol version")
    transport, pos = _token(text, _slash(text, pos, "transport"), "transport")
    host_start = pos
    if pos < len(text) and text[pos] == "[":
        pos = text.find("]", pos) + 1 or len(text)
    else:
        while pos < len(text) and text[pos] not in " \t:;":
            pos += 1
    host = text[host_start:pos]
    if not host:
        raise SipParseError(f"Via {text!r}: missing sent-by host")
    check_host(host)
    port = None
    pos = skip_ws(text, pos)
    if pos < len(text) and text[pos] == ":":
        port_start = pos = skip_ws(text, pos + 1)
        while pos < len(text) and text[pos] in "0123456789":
            pos += 1
        port = parse_port(text[port_start:pos], f"Via {text!r}")
    params, pos = scan_params(text, pos, f"Via {text!r}")
    if pos != len(text):
        raise SipParseError(f"Via {text!r}: unexpected {text[pos:]!r}")
    return Via(transport.upper(), host, port, params, protocol.upper(), version)


def _parse_via_list(value: str) -> list[Via]:
    """All via-parms of one header line (``Via: a, b``); an empty element is an error."""
    items = split_values(value)
    if any(not item for item in items):
        raise SipParseError(f"Via {value!r} has an empty element")
    return [parse_via(item) for item in items]


@dataclass(frozen=True)
class CSeq:
    """``CSeq: 4711 INVITE`` - sequence number (32-bit unsigned, RFC 3261 §8.1.1.5) and method."""

    seq: int
    method: str

    @classmethod
    def parse(cls, value: str) -> CSeq:
        return _parse_cseq(value)

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"


@lru_cache(maxsize=1024)
def _parse_cseq(value: str) -> CSeq:
    """Memoised: a dialog's CSeq values repeat in every retransmission and response."""
    parts = value.split()
    if len(parts) != 2 or not is_token(parts[1]):
        raise SipParseError(f"CSeq must be 'number method', got {value!r}")
    return CSeq(parse_uint(parts[0], "CSeq sequence number", 2**32 - 1), parts[1])


@lru_cache(maxsize=1024)
def _via_list_cached(value: str) -> tuple[Via, ...]:
    return tuple(_parse_via_list(value))


def parse_via_list(value: str) -> list[Via]:
    """All via-parms of one header line; memoised, as one message's Vias are read many times
    (transaction matching, rport stamping, validation, the response) and Via is immutable."""
    return list(_via_list_cached(value))
