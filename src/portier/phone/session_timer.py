"""Session timers (RFC 4028): calls that nobody refreshes end, so a crashed peer never holds the door.

Pure negotiation here; ``calls.py`` runs the timer. The UAS honours the caller's Session-Expires (never
below Min-SE 90 s: 422), picks the refresher (the caller when it supports ``timer``, else itself), and
answers with ``Require: timer`` when the caller supports it. The refresher re-INVITEs at half the
interval; the other side ends the call with BYE when no refresh came by the interval minus
min(32, interval/3) (§10).
"""

from __future__ import annotations

from dataclasses import dataclass

from portier.sip.message import SipMessage

MIN_SE = 90


@dataclass(frozen=True)
class SessionTimer:
    interval: int
    refresher: str
    """``uac`` or ``uas``: who sends the refreshes."""
    peer_supports: bool

    def headers(self) -> tuple[tuple[str, str], ...]:
        """What a 2xx carries (§9)."""
        out = (("Session-Expires", f"{self.interval};refresher={self.refresher}"),)
        return (*out, ("Require", "timer")) if self.peer_supports else out

    def we_refresh(self, we_are_uas: bool) -> bool:
        return self.refresher == ("uas" if we_are_uas else "uac")

    def deadline(self) -> float:
        """When the side that does not refresh gives up (§10)."""
        return self.interval - min(32, self.interval / 3)


@dataclass(frozen=True)
class TooSmall:
    """Answer 422 with Min-SE (§9)."""

    min_se: int = MIN_SE


def _expires(message: SipMessage) -> tuple[int, str | None] | None:
    value = message.get("Session-Expires")
    if value is None:
        return None
    number, *params = [part.strip() for part in value.split(";")]
    if not number.isdigit():
        return None
    refresher = None
    for param in params:
        name, _, text = param.partition("=")
        if name.strip().lower() == "refresher" and text.strip().lower() in ("uac", "uas"):
            refresher = text.strip().lower()
    return int(number), refresher


def _supports_timer(message: SipMessage) -> bool:
    return "timer" in {v.lower() for v in message.values("Supported") + message.values("Require")}


def negotiate_as_uas(request: SipMessage, enabled: bool, interval: int) -> SessionTimer | TooSmall | None:
    """The session timer of an incoming INVITE; ``enabled``/``interval`` are the line's settings."""
    asked = _expires(request)
    supports = _supports_timer(request)
    if asked is None:
        if not enabled:
            return None
        return SessionTimer(max(interval, MIN_SE), "uac" if supports else "uas", supports)
    seconds, refresher = asked
    if seconds < MIN_SE:
        return TooSmall()
    if enabled:
        seconds = max(min(seconds, interval), MIN_SE)
    if refresher is None or not supports:
        refresher = "uac" if supports else "uas"
    return SessionTimer(seconds, refresher, supports)


def offer_headers(enabled: bool, interval: int) -> tuple[tuple[str, str], ...]:
    """What an outgoing INVITE carries when the line's session timer is on."""
    if not enabled:
        return ()
    return (("Supported", "timer"), ("Session-Expires", f"{max(interval, MIN_SE)};refresher=uac"))


def from_answer(response: SipMessage) -> SessionTimer | None:
    """The session timer a 2xx to our INVITE settled on (§7.2)."""
    asked = _expires(response)
    if asked is None:
        return None
    seconds, refresher = asked
    return SessionTimer(seconds, refresher or "uac", True)
