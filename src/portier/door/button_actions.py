"""What a call-button press means (manual 9.25, Tables 23-25): pure decisions, no I/O.

A press is read in two steps, as the Call Button page is laid out: the programmable key
table says what the press does in the device's current state (answer, end, a call button's
function, volume...), and the call button's own settings say what its function is (speed
dial, intercom, DTMF, PTT...) and which of its two numbers to call (Hot Key Dial Mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum

from portier.settings.buttons import ButtonAction, ButtonAdvanced, CallButton, DialMode
from portier.settings.schema import Settings


class PhoneState(StrEnum):
    """The columns of the programmable key table."""

    DESKTOP = "Desktop"
    DIALER = "Dialer"
    RINGING = "Ringing"
    ALERTING = "Alerting"
    TALKING = "Talking"


def action_for(button: int, state: PhoneState, long: bool, settings: Settings) -> ButtonAction:
    """The programmable-key action of ``button`` (1-5) pressed in ``state``."""
    row = getattr(settings.buttons.programmable, f"button{button}")
    if long:
        return row.long_press if state is PhoneState.DESKTOP else ButtonAction.NONE
    column = {
        PhoneState.DESKTOP: row.desktop,
        PhoneState.DIALER: row.dialer,
        PhoneState.RINGING: row.ringing,
        PhoneState.ALERTING: row.alerting,
        PhoneState.TALKING: row.talking,
    }
    return ButtonAction(column[state])


def call_button_of(action: ButtonAction) -> int | None:
    """1-5 when the action runs a call button's function."""
    if ButtonAction.CALL_BUTTON1 <= action <= ButtonAction.CALL_BUTTON5:
        return int(action)
    return None


def call_button(settings: Settings, number: int) -> CallButton:
    button: CallButton = getattr(settings.buttons, f"button{number}")
    return button


@dataclass(frozen=True)
class Numbers:
    """Which number to call now, and which one to switch to if it is not answered in time."""

    first: str
    then: str | None = None
    switch_after: float = 0.0


def _parse(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def is_day(now: time, advanced: ButtonAdvanced) -> bool:
    """Day window [start, end); a window that crosses midnight (22:00-06:00) works too."""
    start, end = _parse(advanced.day_start), _parse(advanced.day_end)
    if start <= end:
        return start <= now < end
    return now >= start or now < end


def numbers(button: CallButton, advanced: ButtonAdvanced, now: time) -> Numbers:
    """Hot Key Dial Mode: Main/Secondary calls number 2 after Call Switched Time; Day/Night picks."""
    first, second = button.value.strip(), button.secondary.strip()
    if not second:
        return Numbers(first)
    if advanced.dial_mode == DialMode.DAY_NIGHT:
        return Numbers(first if is_day(now, advanced) else second)
    return Numbers(first, second, float(advanced.call_switched_time))
