"""Call Button menu against the manual (7.1, 9.25, Tables 1, 23, 24, 25, Pictures 37-40)."""

from __future__ import annotations

import pytest

from portier.settings.buttons import (
    ButtonAction,
    ButtonLine,
    ButtonMedia,
    ButtonSubtype,
    ButtonType,
    DialMode,
)
from portier.settings.declare import index
from portier.settings.schema import Settings
from tests.unit.settings.manual import assert_row, row


def test_table_23_function_key_settings() -> None:
    for n in range(1, 6):
        p = f"buttons.button{n}"
        assert_row(f"{p}.type", label="Type", key=f"Fkey{n} Type",
                   default=ButtonType.MEMORY if n == 1 else ButtonType.NONE)
        assert_row(f"{p}.name", label="Name", default="", key=f"Fkey{n} Title")
        assert_row(f"{p}.value", label="Value", default="", key=f"Fkey{n} Value")
        assert_row(f"{p}.subtype", label="Subtype", key=f"Fkey{n} Subtype",
                   default=ButtonSubtype.SPEED_DIAL if n == 1 else ButtonSubtype.NONE)
        assert_row(f"{p}.line", label="Line", default=ButtonLine.AUTO, key=f"Fkey{n} Line")
        assert_row(f"{p}.media", label="Media", default=ButtonMedia.DEFAULT, key=f"Fkey{n} Media")
    # Table 23 lists these functions; codes known from Fanvil files are kept.
    assert [m.name for m in ButtonType] == [
        "NONE", "MEMORY", "KEY_EVENT", "DTMF", "MULTICAST", "MCAST_LISTENING", "PTT", "ACTION_URL"]
    assert (ButtonType.NONE, ButtonType.MEMORY, ButtonType.KEY_EVENT, ButtonType.DTMF) == (0, 1, 3, 4)
    assert (ButtonType.MULTICAST, ButtonType.ACTION_URL) == (14, 20)


def test_call_buttons_repeat_five_times() -> None:
    table = index(Settings)
    for n in range(1, 6):
        assert f"buttons.button{n}.type" in table
        assert f"buttons.programmable.button{n}.desktop" in table
    assert "buttons.button6.type" not in table
    assert "buttons.programmable.button6.desktop" not in table


def test_table_24_memory_key_subtypes() -> None:
    assert {"SPEED_DIAL", "INTERCOM"} <= {m.name for m in ButtonSubtype}
    # PTT (Picture 40 section) adds multicast; key events include Handfree (Picture 40) and Release (7.3).
    assert {"MULTICAST", "HANDFREE", "RELEASE"} <= {m.name for m in ButtonSubtype}


def test_table_25_web_multicast_codecs() -> None:
    assert {"G711A", "G711U", "G729AB", "ILBC", "OPUS", "G722"} <= {m.name for m in ButtonSubtype}


@pytest.mark.parametrize("n", range(1, 6))
def test_picture_37_programmable_button_settings(n: int) -> None:
    p = f"buttons.programmable.button{n}"
    own = ButtonAction[f"CALL_BUTTON{n}"]
    assert_row(f"{p}.desktop", label="Desktop", default=own, key=f"Fkey{n} Desktop Action")
    assert_row(f"{p}.dialer", label="Dialer", default=own, key=f"Fkey{n} Dialer Action")
    assert_row(f"{p}.ringing", label="Ringing", default=ButtonAction.ANSWER, key=f"Fkey{n} Ringing Action")
    assert_row(f"{p}.alerting", label="Alerting", default=ButtonAction.END, key=f"Fkey{n} Alerting Action")
    assert_row(f"{p}.talking", label="Talking", default=ButtonAction.END, key=f"Fkey{n} Talking Action")
    assert_row(f"{p}.long_press", label="Desktop Long Pressed", key=f"Fkey{n} Long Press Action",
               default=ButtonAction.MAIN_MENU if n <= 3 else ButtonAction.INVALID)


def test_table_23_programmable_key_choices() -> None:
    assert [m.name for m in ButtonAction] == [
        "NONE", "CALL_BUTTON1", "CALL_BUTTON2", "CALL_BUTTON3", "CALL_BUTTON4", "CALL_BUTTON5",
        "ANSWER", "END", "VOLUME_UP", "VOLUME_DOWN", "MAIN_MENU", "INVALID"]


def test_table_23_advanced_settings() -> None:
    p = "buttons.advanced"
    assert_row(f"{p}.dial_mode", label="Hot Key Dial Mode Select", default=DialMode.MAIN_SECONDARY,
               key="DSS DIAL Switch Mode")
    assert [m.name for m in DialMode] == ["MAIN_SECONDARY", "DAY_NIGHT"]
    assert_row(f"{p}.call_switched_time", label="Call Switched Time", default=16, ge=5, le=50, unit="s",
               key="First Call Wait Time")
    assert_row(f"{p}.day_start", label="Day Start Time", default="06:00", key="Hotkey Day Start Time")
    assert_row(f"{p}.day_end", label="Day End Time", default="18:00", key="Hotkey Day End Time")


def test_table_1_common_command_mode() -> None:
    assert_row("buttons.advanced.command_press_time", default=3, unit="s", key="Command Mode Press Time")
    assert_row("buttons.advanced.command_window", default=5, unit="s", key="Command Mode Window")


def test_call_button_settings_live_in_the_dsskey_module() -> None:
    assert row("buttons.button3.value").module == "DSSKEY CONFIG MODULE"
    assert row("buttons.advanced.dial_mode").section is None
