"""DTMF in SIP INFO bodies: ``application/dtmf-relay`` and ``application/dtmf``. Pure functions.

Why two spellings of ``*`` and ``#``: the manual's "DTMF SIP INFO Mode" sends either the characters
or their RFC 4733 event codes ``10``/``11``; peers differ too, so parsing accepts both (and 12-15 for
A-D, 16 for flash) whatever the mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from .dtmf import DIGITS, FLASH, DtmfError, event_code, event_digit

DTMF_RELAY = "application/dtmf-relay"
DTMF = "application/dtmf"


class DtmfInfoError(ValueError):
    """An INFO body that carries no usable digit; the text says why."""


@dataclass(frozen=True, slots=True)
class DtmfInfo:
    digit: str
    duration_ms: int | None = None


def make_dtmf_relay(digit: str, duration_ms: int = 160, *, numeric_star_pound: bool = False) -> bytes:
    """The ``application/dtmf-relay`` body for one digit, e.g. ``b"Signal=5\\r\\nDuration=160\\r\\n"``.

    ``numeric_star_pound`` is the manual's "Send 10/11" mode: ``*`` and ``#`` go as ``10`` and ``11``.
    """
    try:
        code = event_code(digit)
    except DtmfError as exc:
        raise DtmfInfoError(str(exc)) from None
    if duration_ms <= 0:
        raise DtmfInfoError(f"DTMF duration must be a positive number of milliseconds, got {duration_ms}")
    signal = str(code) if (numeric_star_pound and code in (10, 11)) or code == 16 else digit.upper()
    return f"Signal={signal}\r\nDuration={duration_ms}\r\n".encode()


def _digit(value: str) -> str:
    text = value.strip()
    if text.isdigit() and len(text) <= 3:
        code = int(text)
        digit = event_digit(code) if code <= 16 else None
        if digit is not None:
            return digit
    elif len(text) == 1 and (text.upper() in DIGITS or text == FLASH):
        return text.upper()
    raise DtmfInfoError(f"{value.strip()!r} is not a DTMF signal (0-9, *, #, A-D, 10-16)")


def parse_dtmf_info(content_type: str, body: bytes) -> DtmfInfo:
    """The digit an INFO request carries. ``content_type`` may have parameters; case is ignored."""
    mime = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise DtmfInfoError("DTMF INFO body is not UTF-8 text") from None
    if mime == DTMF:
        return DtmfInfo(_digit(text))
    if mime != DTMF_RELAY:
        raise DtmfInfoError(f"INFO content type {content_type!r} carries no DTMF "
                            f"(expected {DTMF_RELAY} or {DTMF})")
    fields: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise DtmfInfoError(f"dtmf-relay line {line.strip()!r} is not Name=Value")
        fields[name.strip().lower()] = value.strip()
    if "signal" not in fields:
        raise DtmfInfoError("dtmf-relay body has no Signal= line")
    duration = None
    if "duration" in fields:
        raw = fields["duration"]
        if not raw.isdigit():
            raise DtmfInfoError(f"dtmf-relay Duration={raw!r} is not a whole number of milliseconds")
        duration = int(raw)
    return DtmfInfo(_digit(fields["signal"]), duration)
