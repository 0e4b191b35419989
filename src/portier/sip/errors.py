"""The one exception the SIP message layer raises.

Why one type: the transport edge must be able to catch exactly what a hostile or broken peer can
provoke (``except SipParseError``) and nothing else; any other exception escaping the parser is a
bug in portier, and the fuzz tests treat it as one.
"""

from __future__ import annotations


class SipParseError(ValueError):
    """A message (or one of its elements) that does not follow the RFC 3261 grammar.

    ``status`` is the response a UAS should send when it can answer (400 for malformed requests,
    413/513 for oversized ones); it is ``None`` for responses and for input that cannot be answered
    at all, which the receiver simply drops (RFC 3261 §16.7, RFC 4475 §3.1.2.5/§3.1.2.19).

    ``headers`` holds the (name, value) pairs that were readable before the error, so the edge can
    still build a stateless 400 that copies Via/From/To/Call-ID/CSeq (RFC 3261 §8.2.6.2).
    """

    def __init__(
        self,
        message: str,
        status: int | None = 400,
        *,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.headers = headers

    def with_status(self, status: int | None) -> SipParseError:
        """Same error with another status (a response's errors are never answered)."""
        return SipParseError(self.message, status, headers=self.headers)

    def __repr__(self) -> str:
        return f"SipParseError({self.message!r}, status={self.status!r})"
