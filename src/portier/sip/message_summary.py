"""The message-summary event package body (RFC 3842 §5): how many voice messages wait for a line.

Why lenient: voicemail servers write this body by hand (Asterisk, FreeSWITCH, hosted PBXs), so
header names come in any case, lines end in LF or CRLF, the optional urgent counts may be missing
and vendor lines (``Voicemail: 2/8``) appear. Only ``Messages-Waiting`` is required; a summary line
that is there but garbled is an error that names it, so a server's bug shows in the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from portier.sip.errors import SipParseError

CONTENT_TYPE = "application/simple-message-summary"
EVENT = "message-summary"
CLASSES = ("voice-message", "fax-message", "pager-message", "multimedia-message", "text-message", "none")
"""The message-context-class values of RFC 3458 that a summary line may count."""

_COUNTS = re.compile(r"(\d{1,9})\s*/\s*(\d{1,9})(?:\s*\(\s*(\d{1,9})\s*/\s*(\d{1,9})\s*\))?\s*")


class MessageSummaryError(SipParseError):
    """A body that is not a message summary; the text says which line is wrong."""


@dataclass(frozen=True)
class Counts:
    """new/old messages of one class, and how many of each are urgent."""

    new: int = 0
    old: int = 0
    urgent_new: int = 0
    urgent_old: int = 0

    def __str__(self) -> str:
        return f"{self.new}/{self.old} ({self.urgent_new}/{self.urgent_old})"


@dataclass(frozen=True)
class MessageSummary:
    waiting: bool
    """Messages-Waiting: whether any message (of any class) waits."""
    account: str = ""
    """Message-Account: the mailbox URI, when the server names it."""
    counts: dict[str, Counts] = field(default_factory=dict)
    """Per message-context-class (lower case), as listed."""

    @property
    def voice(self) -> Counts:
        """The voice-message counts (zero when the server lists none)."""
        return self.counts.get("voice-message", Counts())


def parse(body: bytes | str) -> MessageSummary:
    """The summary in a NOTIFY body; raises :class:`MessageSummaryError` when it is not one."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    waiting: bool | None = None
    account = ""
    counts: dict[str, Counts] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        name, colon, value = line.partition(":")
        if not colon:
            if line.strip():
                raise MessageSummaryError(f"message summary line {number} {line[:60]!r} is not 'Name: value'")
            continue
        key, value = name.strip().lower(), value.strip()
        if key == "messages-waiting":
            if value.lower() not in ("yes", "no"):
                raise MessageSummaryError(f"Messages-Waiting must be yes or no, got {value[:20]!r}")
            waiting = value.lower() == "yes"
        elif key == "message-account":
            account = value
        elif key in CLASSES:
            match = _COUNTS.fullmatch(value)
            if match is None:
                raise MessageSummaryError(
                    f"message summary line {number}: {name.strip()} must be new/old or new/old "
                    f"(urgent-new/urgent-old), got {value[:40]!r}"
                )
            new, old, urgent_new, urgent_old = (int(g) if g else 0 for g in match.groups())
            counts[key] = Counts(new, old, urgent_new, urgent_old)
        # Other lines (RFC 3842 opt-msg-headers, vendor extensions) carry nothing we show.
    if waiting is None:
        raise MessageSummaryError("the message summary has no Messages-Waiting line (RFC 3842 §5.2)")
    return MessageSummary(waiting, account, counts)


def render(summary: MessageSummary) -> bytes:
    """The body a notifier would send for ``summary`` (RFC 3842 §5.2 layout, CRLF line ends)."""
    lines = [f"Messages-Waiting: {'yes' if summary.waiting else 'no'}"]
    if summary.account:
        lines.append(f"Message-Account: {summary.account}")
    for name, counts in summary.counts.items():
        label = "-".join(part.capitalize() for part in name.split("-"))
        lines.append(f"{label}: {counts}")
    return ("\r\n".join(lines) + "\r\n").encode()
