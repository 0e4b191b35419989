"""Programmable key table and Hot Key Dial Mode (manual 9.25, Picture 37)."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from portier.door.button_actions import (
    Numbers,
    PhoneState,
    action_for,
    call_button,
    call_button_of,
    is_day,
    numbers,
)
from portier.settings import document
from portier.settings.buttons import ButtonAction
from portier.settings.schema import Settings


def settings(**values: Any) -> Settings:
    return document.with_values(Settings(), {document.find(k): v for k, v in values.items()})


@pytest.mark.parametrize(
    ("button", "state", "long", "expected"),
    [
        (1, PhoneState.DESKTOP, False, ButtonAction.CALL_BUTTON1),
        (3, PhoneState.DESKTOP, False, ButtonAction.CALL_BUTTON3),
        (2, PhoneState.RINGING, False, ButtonAction.ANSWER),
        (2, PhoneState.ALERTING, False, ButtonAction.END),
        (5, PhoneState.TALKING, False, ButtonAction.END),
        (1, PhoneState.DESKTOP, True, ButtonAction.MAIN_MENU),
        (4, PhoneState.DESKTOP, True, ButtonAction.INVALID),
        (1, PhoneState.TALKING, True, ButtonAction.NONE),
    ],
)
def test_picture_37_defaults(button: int, state: PhoneState, long: bool, expected: ButtonAction) -> None:
    assert action_for(button, state, long, Settings()) == expected


def test_a_configured_talking_action() -> None:
    configured = settings(**{"Fkey2 Talking Action": ButtonAction.VOLUME_UP})
    assert action_for(2, PhoneState.TALKING, False, configured) == ButtonAction.VOLUME_UP


def test_call_button_of() -> None:
    assert call_button_of(ButtonAction.CALL_BUTTON4) == 4
    assert call_button_of(ButtonAction.ANSWER) is None
    assert call_button(Settings(), 1).type == 1


@pytest.mark.parametrize(
    ("now", "start", "end", "day"),
    [
        (time(6, 0), "06:00", "18:00", True),
        (time(17, 59), "06:00", "18:00", True),
        (time(18, 0), "06:00", "18:00", False),
        (time(2, 0), "06:00", "18:00", False),
        (time(23, 0), "22:00", "06:00", True),
        (time(5, 0), "22:00", "06:00", True),
        (time(12, 0), "22:00", "06:00", False),
    ],
)
def test_day_window(now: time, start: str, end: str, day: bool) -> None:
    advanced = settings(**{"Hotkey Day Start Time": start, "Hotkey Day End Time": end}).buttons.advanced
    assert is_day(now, advanced) is day


def test_main_secondary_switches_after_call_switched_time() -> None:
    configured = settings(**{"Fkey1 Value": "101", "Fkey1 Value2": "102", "First Call Wait Time": 20})
    picked = numbers(configured.buttons.button1, configured.buttons.advanced, time(12, 0))
    assert picked == Numbers("101", "102", 20.0)


def test_day_night_picks_by_time() -> None:
    configured = settings(**{"Fkey1 Value": "101", "Fkey1 Value2": "102", "DSS DIAL Switch Mode": 1})
    advanced = configured.buttons.advanced
    assert numbers(configured.buttons.button1, advanced, time(12, 0)) == Numbers("101")
    assert numbers(configured.buttons.button1, advanced, time(22, 0)) == Numbers("102")


def test_one_number_only() -> None:
    configured = settings(**{"Fkey1 Value": "101"})
    assert numbers(configured.buttons.button1, configured.buttons.advanced, time(22, 0)) == Numbers("101")
