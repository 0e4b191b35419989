"""Security Settings menu (manual 9.31, Table 27; Table 2 output LED, Table 4 wiring).

The two inputs (door contacts, exit buttons, sensors), the two relay outputs (door lock,
alarm) and the tamper alarm. No public Fanvil file holds these keys, so they are named
in Fanvil's style under an ``<ALARM CONFIG MODULE>``.
"""

from __future__ import annotations

from enum import IntEnum

from .declare import Page, group, setting

DTMF_CODE = r"^[0-9*#A-D]{1,16}$"


class InputLevel(IntEnum):
    LOW_LEVEL = 0
    HIGH_LEVEL = 1


class CallButtonChoice(IntEnum):
    NONE = 0
    CALL_BUTTON1 = 1
    CALL_BUTTON2 = 2
    CALL_BUTTON3 = 3
    CALL_BUTTON4 = 4
    CALL_BUTTON5 = 5


class StandardStatus(IntEnum):
    NO = 0
    NC = 1


class ResetMode(IntEnum):
    DURATION = 0
    STATE = 1


class InputChoice(IntEnum):
    NONE = 0
    INPUT1 = 1
    INPUT2 = 2


class CallStateTrigger(IntEnum):
    NONE = 0
    TALKING = 1
    RINGING = 2
    CALLING = 3


class AlarmBasic(Page):
    """Basic Settings of Table 27, with the tamper alarm (manual 9.31)."""

    ringtone_duration: int = setting(5, key="Alarm Ring Duration", label="Ringtone Duration", unit="s",
                                     ge=1, le=600, help="How long a triggered ringtone plays.")
    server_address: str = setting("", key="Alarm Server Addr", label="Input & Tamper Server Address",
                                  help="Server that gets an Alarm_Info message when an input or the tamper "
                                       "alarm triggers; empty sends nothing.")
    tamper: bool = setting(False, key="Enable Tamper", label="Enable Tamper",
                           help="Raise an alarm (server message and ring) when the device is removed by "
                                "force.")
    tamper_ringtone: str = setting("Type 1", key="Tamper Ring Type", label="Tamper Alarm Ringtone",
                                   help="Ringtone played when the tamper alarm triggers; empty plays none.")


class AlarmInput(Page):
    """One input port (Table 27 Input settings; wiring in Table 4)."""

    fanvil_section = "--Input Config--"

    detect: bool = setting(False, key="Input{n} Detect", label="Input Detect",
                           help="Watch this input port for its trigger level.")
    triggered_by: InputLevel = setting(InputLevel.LOW_LEVEL, key="Input{n} Trigger Mode",
                                       label="Triggered by",
                                       help="LOW_LEVEL triggers when the contact closes, HIGH_LEVEL when it "
                                            "opens.")
    send_sms: bool = setting(False, key="Input{n} Send SMS", label="Send SMS",
                             help="Send an alert message to the Input & Tamper server when triggered.")
    call_button: CallButtonChoice = setting(CallButtonChoice.NONE, key="Input{n} Call Button",
                                            label="Call Button",
                                            help="Call button whose function runs when the input triggers.")
    ringtone: str = setting("", key="Input{n} Ring Type", label="Triggered Ringtone",
                            help="Ringtone played when the input triggers; empty plays none.")


class AlarmOutput(Page):
    """One relay output (Table 27 Output Settings; NO/COM/NC contacts in Table 4, LED in Table 2)."""

    fanvil_section = "--Output Config--"

    response: bool = setting(True, key="Output{n} Response", label="Output Response",
                             help="Let the triggers below switch this output.")
    dtmf_ringtone: str = setting("", key="Output{n} DTMF Ring Type", label="Triggered by DTMF Ring tone",
                                 help="Ringtone played when DTMF triggers the output; empty plays none.")
    uri_ringtone: str = setting("", key="Output{n} URI Ring Type", label="Triggered by URI Ringtone",
                                help="Ringtone played when a URI command triggers the output; empty plays "
                                     "none.")
    sms_ringtone: str = setting("", key="Output{n} SMS Ring Type", label="Triggered By SMS Ringtone",
                                help="Ringtone played when an SMS triggers the output; empty plays none.")
    dsskey_ringtone: str = setting("", key="Output{n} Dsskey Ring Type", label="Triggered By Dsskey Ringtone",
                                   help="Ringtone played when a call button triggers the output; empty plays "
                                        "none.")
    standard_status: StandardStatus = setting(StandardStatus.NO, key="Output{n} Standard Status",
                                              label="Standard Status",
                                              help="Resting state of the relay: NO (normally open) or NC "
                                                   "(normally closed); a trigger switches it.")
    duration: int = setting(5, key="Output{n} Duration", label="Output Duration", unit="s", ge=1, le=600,
                            help="How long the output stays switched when reset by duration.")
    trigger_by_dtmf: bool = setting(False, key="Output{n} DTMF Trigger", label="Trigger by DTMF",
                                    help="Switch the output when the far end of a call sends the trigger "
                                         "code; change the code before enabling it.")
    dtmf_trigger_code: str = setting("1234", key="Output{n} DTMF Trigger Code", label="DTMF Trigger Code",
                                     pattern=DTMF_CODE, help="DTMF digits that switch the output.")
    dtmf_reset_code: str = setting("4321", key="Output{n} DTMF Reset Code", label="DTMF Reset Code",
                                   pattern=DTMF_CODE, help="DTMF digits that switch the output back.")
    reset_by: ResetMode = setting(ResetMode.DURATION, key="Output{n} Reset Mode", label="Reset By",
                                  help="DURATION resets after Output Duration; STATE resets when the call "
                                       "state changes.")
    trigger_by_uri: bool = setting(False, key="Output{n} URI Trigger", label="Trigger by URI",
                                   help="Switch the output on a remote URI command carrying the trigger "
                                        "message.")
    uri_trigger_message: str = setting("", key="Output{n} URI Trigger Msg", label="Trigger Message",
                                       help="Message of the URI command that switches the output.")
    uri_reset_message: str = setting("", key="Output{n} URI Reset Msg", label="Reset Message",
                                     help="Message of the URI command that switches the output back.")
    trigger_by_sms: bool = setting(False, key="Output{n} SMS Trigger", label="Trigger by SMS",
                                   help="Switch the output on a SIP MESSAGE (ALERT command) with the "
                                        "trigger text.")
    trigger_sms: str = setting("", key="Output{n} SMS Trigger Msg", label="Trigger SMS",
                               help="SMS text that switches the output.")
    reset_sms: str = setting("", key="Output{n} SMS Reset Msg", label="Reset SMS",
                             help="SMS text that switches the output back.")
    trigger_by_input: InputChoice = setting(InputChoice.NONE, key="Output{n} Input Trigger",
                                            label="Trigger by Input",
                                            help="Input port whose trigger switches the output for Output "
                                                 "Duration.")
    trigger_by_call_state: CallStateTrigger = setting(CallStateTrigger.NONE,
                                                      key="Output{n} Call State Trigger",
                                                      label="Trigger By Call state",
                                                      help="Call state whose change switches the output.")
    trigger_by_dsskey: CallButtonChoice = setting(CallButtonChoice.NONE, key="Output{n} Dsskey Trigger",
                                                  label="Trigger By DssKey",
                                                  help="Call button whose use switches the output.")


class DoorSettings(Page):
    """The Security Settings menu (manual 9.31): inputs, outputs, tamper."""

    fanvil_module = "ALARM CONFIG MODULE"

    basic: AlarmBasic = group(AlarmBasic, help="Basic Settings")
    input1: AlarmInput = group(AlarmInput, help="Input1")
    input2: AlarmInput = group(AlarmInput, help="Input2")
    output1: AlarmOutput = group(AlarmOutput, help="Output1")
    output2: AlarmOutput = group(AlarmOutput, help="Output2")
