"""Call Button menu (manual 7.1, 9.25, Tables 1, 23, 24, 25, Pictures 37-40).

Five call buttons (what each does), the programmable key table (what a press means in each
call state) and the advanced settings (which of two numbers a hot key dials, command mode).
Keys follow Fanvil's ``<DSSKEY CONFIG MODULE>``: ``Fkey{n} Type/Value/Title`` and the hot-key
dial keys are real Fanvil names; subtype, line, media and the per-state actions are not in any
public file and are named in the same style.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from .declare import Page, group, setting

TIME_OF_DAY = r"^([01]\d|2[0-3]):[0-5]\d$"


class ButtonType(IntEnum):
    """Function of a call button (Table 23). Codes 0, 1, 3, 4, 14 and 20 are Fanvil's Fkey Type codes."""

    NONE = 0
    MEMORY = 1
    KEY_EVENT = 3
    DTMF = 4
    MULTICAST = 14
    MCAST_LISTENING = 15
    PTT = 16
    ACTION_URL = 20


class ButtonSubtype(IntEnum):
    """Subtype of a call button; which ones apply depends on the type (Tables 23, 24, 25)."""

    NONE = 0
    # MEMORY and PTT
    SPEED_DIAL = 1
    INTERCOM = 2
    # PTT only
    MULTICAST = 3
    # MULTICAST: the voice codec of the paging stream
    G711A = 10
    G711U = 11
    G729AB = 12
    ILBC = 13
    OPUS = 14
    G722 = 15
    # KEY_EVENT: the event the button triggers
    HANDFREE = 20
    RELEASE = 21


class ButtonLine(IntEnum):
    AUTO = 0
    SIP1 = 1
    SIP2 = 2


class ButtonMedia(IntEnum):
    DEFAULT = 0
    AUDIO = 1


class ButtonAction(IntEnum):
    """What a press of a button does in one call state (Table 23, Programmable Key Settings)."""

    NONE = 0
    CALL_BUTTON1 = 1
    CALL_BUTTON2 = 2
    CALL_BUTTON3 = 3
    CALL_BUTTON4 = 4
    CALL_BUTTON5 = 5
    ANSWER = 6
    END = 7
    VOLUME_UP = 8
    VOLUME_DOWN = 9
    MAIN_MENU = 10
    INVALID = 11


class DialMode(IntEnum):
    MAIN_SECONDARY = 0
    DAY_NIGHT = 1


def _button_type(default: ButtonType) -> Any:
    return setting(default, key="Fkey{n} Type", label="Type",
                   help="Function of the button: memory (speed dial/intercom), key event, DTMF, multicast "
                        "paging, action URL, multicast listening or push-to-talk.")


def _subtype(default: ButtonSubtype) -> Any:
    return setting(default, key="Fkey{n} Subtype", label="Subtype",
                   help="Speed dial or intercom for MEMORY and PTT (PTT also multicast), the codec for "
                        "MULTICAST, the event for KEY_EVENT.")


class CallButton(Page):
    """One call button (Table 23 Function key settings, Tables 24 and 25, Picture 40)."""

    fanvil_section = "--Dsskey Config1--"

    type: ButtonType = _button_type(ButtonType.NONE)
    name: str = setting("", key="Fkey{n} Title", label="Name", help="Name of the button, shown in lists.")
    value: str = setting("", key="Fkey{n} Value", label="Value",
                         help="What the button uses: a number, SIP account or IP address (MEMORY, PTT), "
                              "host:port of the multicast group (MULTICAST, MCAST_LISTENING), DTMF digits "
                              "(DTMF) or the URL (ACTION_URL).")
    secondary: str = setting("", key="Fkey{n} Value2", label="Number 2",
                             help="Second number of a MEMORY or PTT button: called when number 1 does not "
                                  "answer in time (MAIN_SECONDARY) or at night (DAY_NIGHT); empty: only "
                                  "number 1.")
    subtype: ButtonSubtype = _subtype(ButtonSubtype.NONE)
    line: ButtonLine = setting(ButtonLine.AUTO, key="Fkey{n} Line", label="Line",
                               help="SIP line the call goes out on; AUTO uses the first registered line.")
    media: ButtonMedia = setting(ButtonMedia.DEFAULT, key="Fkey{n} Media", label="Media",
                                 help="Media offered in the call; DEFAULT follows the line's settings.")


class FirstCallButton(CallButton):
    """Call button 1: a fresh device ships it as a speed dial whose number is still to be set."""

    type: ButtonType = _button_type(ButtonType.MEMORY)
    subtype: ButtonSubtype = _subtype(ButtonSubtype.SPEED_DIAL)


def _desktop(default: ButtonAction) -> Any:
    return setting(default, key="Fkey{n} Desktop Action", label="Desktop",
                   help="Action of a press in standby: NONE or one of the call buttons.")


def _dialer(default: ButtonAction) -> Any:
    return setting(default, key="Fkey{n} Dialer Action", label="Dialer",
                   help="Action of a press while dialling: NONE or one of the call buttons.")


def _long_press(default: ButtonAction) -> Any:
    return setting(default, key="Fkey{n} Long Press Action", label="Desktop Long Pressed",
                   help="Action of a long press in standby: MAIN_MENU enters command mode (Table 1), "
                        "NONE or INVALID ignore it.")


class ProgrammableButton(Page):
    """What a press of one button does in each call state (Table 23 Programmable Key Settings, Picture 37).

    Subclasses set the defaults Picture 37 shows for each button.
    """

    fanvil_section = "--Programmable Key--"

    desktop: ButtonAction = _desktop(ButtonAction.CALL_BUTTON1)
    dialer: ButtonAction = _dialer(ButtonAction.CALL_BUTTON1)
    ringing: ButtonAction = setting(ButtonAction.ANSWER, key="Fkey{n} Ringing Action", label="Ringing",
                                    help="Action of a press on an incoming call: ANSWER or END (reject).")
    alerting: ButtonAction = setting(ButtonAction.END, key="Fkey{n} Alerting Action", label="Alerting",
                                     help="Action of a press while an outgoing call rings: END cancels it.")
    talking: ButtonAction = setting(ButtonAction.END, key="Fkey{n} Talking Action", label="Talking",
                                    help="Action of a press in a call: END, VOLUME_UP, VOLUME_DOWN or a "
                                         "call button.")
    long_press: ButtonAction = _long_press(ButtonAction.MAIN_MENU)


class ProgrammableButton1(ProgrammableButton):
    """Button1 row of Picture 37."""


class ProgrammableButton2(ProgrammableButton):
    """Button2 row of Picture 37."""

    desktop: ButtonAction = _desktop(ButtonAction.CALL_BUTTON2)
    dialer: ButtonAction = _dialer(ButtonAction.CALL_BUTTON2)


class ProgrammableButton3(ProgrammableButton):
    """Button3 row of Picture 37."""

    desktop: ButtonAction = _desktop(ButtonAction.CALL_BUTTON3)
    dialer: ButtonAction = _dialer(ButtonAction.CALL_BUTTON3)


class ProgrammableButton4(ProgrammableButton):
    """Button4 row of Picture 37."""

    desktop: ButtonAction = _desktop(ButtonAction.CALL_BUTTON4)
    dialer: ButtonAction = _dialer(ButtonAction.CALL_BUTTON4)
    long_press: ButtonAction = _long_press(ButtonAction.INVALID)


class ProgrammableButton5(ProgrammableButton):
    """Button5 row of Picture 37."""

    desktop: ButtonAction = _desktop(ButtonAction.CALL_BUTTON5)
    dialer: ButtonAction = _dialer(ButtonAction.CALL_BUTTON5)
    long_press: ButtonAction = _long_press(ButtonAction.INVALID)


class ProgrammableButtons(Page):
    """Programmable Button Settings (Picture 37)."""

    button1: ProgrammableButton1 = group(ProgrammableButton1, help="Button1")
    button2: ProgrammableButton2 = group(ProgrammableButton2, help="Button2")
    button3: ProgrammableButton3 = group(ProgrammableButton3, help="Button3")
    button4: ProgrammableButton4 = group(ProgrammableButton4, help="Button4")
    button5: ProgrammableButton5 = group(ProgrammableButton5, help="Button5")


class ButtonAdvanced(Page):
    """Advanced Settings (Table 23, Picture 37) and the command mode timing (Table 1).

    The day window is HH:MM text under invented keys: Fanvil's own keys for it (``First Num
    Start Time`` / ``First Num End Time``) hold minutes after midnight (360, 1080), so reading
    them as HH:MM would reject every real export; unknown keys are only warned about.
    """

    dial_mode: DialMode = setting(DialMode.MAIN_SECONDARY, key="DSS DIAL Switch Mode",
                                  label="Hot Key Dial Mode Select",
                                  help="How a hot key with two numbers chooses: MAIN_SECONDARY calls "
                                       "number 2 when number 1 does not answer in time; DAY_NIGHT calls "
                                       "number 1 by day and number 2 by night.")
    call_switched_time: int = setting(16, key="First Call Wait Time", label="Call Switched Time", unit="s",
                                      ge=5, le=50,
                                      help="How long number 1 rings before number 2 is called "
                                           "(MAIN_SECONDARY).")
    day_start: str = setting("06:00", key="Hotkey Day Start Time", label="Day Start Time",
                             pattern=TIME_OF_DAY,
                             help="Start of the day for DAY_NIGHT mode (web: First Number Start Time).")
    day_end: str = setting("18:00", key="Hotkey Day End Time", label="Day End Time", pattern=TIME_OF_DAY,
                           help="End of the day for DAY_NIGHT mode (web: First Number End Time).")
    command_press_time: int = setting(3, key="Command Mode Press Time", label="Command Mode Long Press Time",
                                      unit="s", ge=1, le=10,
                                      help="How long a call button is held in standby to enter command mode.")
    command_window: int = setting(5, key="Command Mode Window", label="Command Mode Window", unit="s",
                                  ge=1, le=30,
                                  help="How long command mode waits for the presses that report the IP "
                                       "address (one press) or switch the network mode (three presses).")


class ButtonSettings(Page):
    """The Call Button menu (manual 9.25)."""

    fanvil_module = "DSSKEY CONFIG MODULE"

    # Advanced first: its keys are module-level and must come before the sub-sections in the file.
    advanced: ButtonAdvanced = group(ButtonAdvanced, help="Advanced Settings")
    button1: FirstCallButton = group(FirstCallButton, help="Call Button1")
    button2: CallButton = group(CallButton, help="Call Button2")
    button3: CallButton = group(CallButton, help="Call Button3")
    button4: CallButton = group(CallButton, help="Call Button4")
    button5: CallButton = group(CallButton, help="Call Button5")
    programmable: ProgrammableButtons = group(ProgrammableButtons, help="Programmable Button Settings")
