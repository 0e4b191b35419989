"""Message framing on stream transports (TCP/TLS): RFC 3261 §18.3, RFC 5626 §3.5.1 keep-alives.

Why separate from ``parse``: on a stream the Content-Length is the only message boundary, so a bad
one loses sync and the connection must be closed (an exception), whereas a well-framed message that
is merely malformed can be answered with a 400 while the connection lives on (returned as a value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from portier.sip.errors import SipParseError
from portier.sip.headers import parse_content_length
from portier.sip.message import SipRequest, SipResponse, header_lines, parse, split_head

_CL_LINE = re.compile(r"(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)")
DEFAULT_MAX_HEAD = 16 * 1024
DEFAULT_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class KeepAlive:
    """RFC 5626 keep-alive seen between messages: ``ping`` is CRLFCRLF, ``pong`` a single CRLF."""

    kind: Literal["ping", "pong"]


Framed = SipRequest | SipResponse | KeepAlive | SipParseError


class StreamFramer:
    """Feed received bytes; get back complete messages, keep-alives and answerable parse errors.

    ``feed`` raises ``SipParseError`` only when framing is lost (bad or multiple Content-Length,
    oversized header section or body); the caller then answers if it can and closes the connection.
    A lone CRLF at the end of the buffered data is reported as a pong at once rather than waiting
    to see whether a second CRLF (a ping) follows: a UA that sent a ping needs the pong promptly.
    A message without Content-Length is taken to have no body.
    """

    def __init__(self, max_head: int = DEFAULT_MAX_HEAD, max_body: int = DEFAULT_MAX_BODY) -> None:
        self._buffer = bytearray()
        self._max_head = max_head
        self._max_body = max_body

    @property
    def pending(self) -> int:
        """Octets received but not yet part of a complete message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Framed]:
        self._buffer += data
        out: list[Framed] = []
        while self._buffer:
            buf = self._buffer
            if buf.startswith(b"\r\n\r\n"):
                out.append(KeepAlive("ping"))
                del buf[:4]
                continue
            if buf.startswith(b"\r\n"):
                if buf == b"\r\n\r":
                    break
                out.append(KeepAlive("pong"))
                del buf[:2]
                continue
            if buf == b"\r":
                break
            item = self._next_message()
            if item is None:
                break
            out.append(item)
        return out

    def _next_message(self) -> SipRequest | SipResponse | SipParseError | None:
        buf = self._buffer
        parts = split_head(bytes(buf[: self._max_head + 4]))
        if parts is None:
            if len(buf) > self._max_head:
                raise SipParseError(f"header section exceeds {self._max_head} octets", 513)
            return None
        head, _ = parts
        head_len = len(head) + (4 if buf[len(head) : len(head) + 4] == b"\r\n\r\n" else 2)
        is_request = not head[:4].upper().startswith(b"SIP/")
        length = self._content_length(head, is_request)
        total = head_len + length
        if len(buf) < total:
            return None
        chunk = bytes(buf[:total])
        del buf[:total]
        try:
            return parse(chunk)
        except SipParseError as exc:
            return exc

    def _content_length(self, head: bytes, is_request: bool) -> int:
        status = 400 if is_request else None
        text = head.decode("utf-8", "surrogateescape").partition("\n")[2]
        try:
            lengths = [h.value for h in header_lines(text) if h.name == "Content-Length"]
        except SipParseError:  # malformed elsewhere: still frame it, parse() reports the error
            lengths = _CL_LINE.findall(text)
        if len(lengths) > 1:
            raise SipParseError("multiple Content-Length header fields on a stream", status)
        if not lengths:
            return 0
        try:
            length = parse_content_length(lengths[0])
        except SipParseError as exc:
            raise exc.with_status(status) from None
        if length > self._max_body:
            raise SipParseError(
                f"body of {length} octets exceeds {self._max_body}", 413 if is_request else None
            )
        return length
