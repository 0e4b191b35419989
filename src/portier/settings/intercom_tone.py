"""Intercom settings >> Tone (manual 9.22): country tone preset and custom tone cadences."""

from __future__ import annotations

from enum import IntEnum

from .declare import Page, setting

_FREQ = r"(?:0|[2-9]\d\d|[1-3]\d{3}|4000)"
_DURATION = r"(?:\d|[1-9]\d{1,3}|[12]\d{4}|30000)"
_CADENCE = rf"{_FREQ}(?:[+*]{_FREQ}){{0,3}}/{_DURATION}"
TONE_PATTERN = rf"^(?:{_CADENCE}(?:,{_CADENCE}){{0,7}})?$"
"""Manual 9.22: up to eight comma-separated cadences ``Freq1[+Freq2[+Freq3[+Freq4]]]/Duration``
(or ``Freq1*Freq2`` for modulation); frequencies 0 or 200-4000 Hz, durations 0-30000 ms."""


class ToneStandard(IntEnum):
    """Country tone presets, in the order of the Fanvil web list (``Select Your Tone``)."""

    CUSTOM = 0
    AUSTRALIA = 1
    AUSTRIA = 2
    BRAZIL = 3
    BELGIUM = 4
    CHINA = 5
    CHILE = 6
    CZECH = 7
    DENMARK = 8
    FINLAND = 9
    FRANCE = 10
    GERMANY = 11
    UK = 12
    GREECE = 13
    HUNGARY = 14
    LITHUANIA = 15
    INDIA = 16
    ITALY = 17
    JAPAN = 18
    MEXICO = 19
    NEW_ZEALAND = 20
    NETHERLANDS = 21
    NORWAY = 22
    PORTUGAL = 23
    SPAIN = 24
    SWITZERLAND = 25
    SWEDEN = 26
    RUSSIA = 27
    USA = 28


def _tone(key: str, label: str, what: str) -> str:
    """A tone cadence; empty plays the selected country's preset."""
    result: str = setting("", key=key, label=label, pattern=TONE_PATTERN,
                          help=f"Cadence of the {what}; empty uses the country preset.")
    return result


class ToneSettings(Page):
    """Intercom settings >> Tone (manual 9.22, Picture 35)."""

    fanvil_module = "MM CONFIG MODULE"

    standard: ToneStandard = setting(ToneStandard.USA, key="Select Your Tone", label="Select Your Tone",
                                     help="Country whose call progress tones are played; CUSTOM uses only "
                                          "the cadences below.")
    dial: str = _tone("Dial Tone", "Dial Tone", "dial tone")
    ringback: str = _tone("Ringback Tone", "Ringback Tone", "ringback tone heard while the far end rings")
    busy: str = _tone("Busy Tone", "Busy Tone", "busy tone")
    congestion: str = _tone("Congestion Tone", "Congestion Tone", "congestion tone")
    call_waiting: str = _tone("Call waiting Tone", "Call Waiting Tone", "call waiting tone")
    holding: str = _tone("Holding Tone", "Holding Tone", "tone played while a call is held")
    error: str = _tone("Error Tone", "Error Tone", "error tone")
    stutter: str = _tone("Stutter Tone", "Stutter Tone", "stutter dial tone")
    information: str = _tone("Information Tone", "Information Tone", "special information tone")
    dial_recall: str = _tone("Dial Recall Tone", "Dial Recall Tone", "recall dial tone")
    message: str = _tone("Message Tone", "Message Tone", "message waiting tone")
    howler: str = _tone("Howler Tone", "Howler Tone", "off-hook warning (howler) tone")
    number_unobtainable: str = _tone("Number Unobtainable", "Number Unobtainable", "number unobtainable tone")
    warning: str = _tone("Warning Tone", "Warning Tone", "warning tone")
    record: str = _tone("Record Tone", "Record Tone", "call recording tone")
    auto_answer: str = _tone("Auto Answer Tone", "Auto Answer Tone", "tone played when a call is answered "
                             "automatically")
