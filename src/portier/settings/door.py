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


class GpioBackend(IntEnum):
    VIRTUAL = 0
    LGPIO = 1


def _pin(default: int, key: str, label: str, what: str) -> int:
    result: int = setting(default, key=key, label=label, ge=0, le=27,
                          help=f"BCM number of the GPIO pin {what}.")
    return result


class DoorHardware(Page):
    """Which GPIO pins the buttons, relays, inputs, tamper switch and LEDs use (portier, not Fanvil).

    A Fanvil A12 has its wiring in hardware; a Raspberry Pi with a HAT needs to be told. The keys
    are portier's own. Defaults keep clear of I2C, SPI, the UART and I2S (sound-card HATs).
    """

    backend: GpioBackend = setting(GpioBackend.VIRTUAL, key="GPIO Backend", label="GPIO Backend",
                                   help="VIRTUAL: simulated pins (the virtual panel drives them); LGPIO: "
                                        "the Raspberry Pi's real pins through lgpio.")
    button1: int = _pin(5, "GPIO Button1", "Call Button1 GPIO", "of call button 1 (to ground, pulled up)")
    button2: int = _pin(6, "GPIO Button2", "Call Button2 GPIO", "of call button 2")
    button3: int = _pin(13, "GPIO Button3", "Call Button3 GPIO", "of call button 3")
    button4: int = _pin(16, "GPIO Button4", "Call Button4 GPIO", "of call button 4")
    button5: int = _pin(26, "GPIO Button5", "Call Button5 GPIO", "of call button 5")
    relay1: int = _pin(17, "GPIO Relay1", "Output1 GPIO", "driving relay 1")
    relay2: int = _pin(27, "GPIO Relay2", "Output2 GPIO", "driving relay 2")
    input1: int = _pin(22, "GPIO Input1", "Input1 GPIO", "of alarm input 1 (to ground, pulled up)")
    input2: int = _pin(23, "GPIO Input2", "Input2 GPIO", "of alarm input 2")
    tamper: int = _pin(24, "GPIO Tamper", "Tamper GPIO", "of the tamper switch")
    led_network: int = _pin(25, "GPIO LED Net", "SIP/NET LED GPIO", "of the network LED")
    led_sip: int = _pin(12, "GPIO LED SIP", "Registration LED GPIO", "of the red registration/call LED")
    led_output: int = _pin(4, "GPIO LED Output", "Output LED GPIO", "of the output (door open) LED")
    relay_active_high: bool = setting(True, key="GPIO Relay Active High", label="Relays Active High",
                                      help="On: a high pin energises the relay; off for active-low relay "
                                           "boards.")
    led_active_high: bool = setting(True, key="GPIO LED Active High", label="LEDs Active High",
                                    help="On: a high pin lights the LED.")
    tamper_alarm_high: bool = setting(True, key="GPIO Tamper Alarm High", label="Tamper Alarm Level High",
                                      help="On: the tamper pin reads high when the device is pulled off "
                                           "the wall (the switch opens).")

    def pins(self) -> dict[str, int]:
        """Every pin by its setting name, for the one-pin-one-use check."""
        return {name: int(getattr(self, name)) for name in type(self).model_fields
                if name not in ("backend", "relay_active_high", "led_active_high", "tamper_alarm_high")}


class DoorSettings(Page):
    """The Security Settings menu (manual 9.31): inputs, outputs, tamper."""

    fanvil_module = "ALARM CONFIG MODULE"

    basic: AlarmBasic = group(AlarmBasic, help="Basic Settings")
    input1: AlarmInput = group(AlarmInput, help="Input1")
    input2: AlarmInput = group(AlarmInput, help="Input2")
    output1: AlarmOutput = group(AlarmOutput, help="Output1")
    output2: AlarmOutput = group(AlarmOutput, help="Output2")
    hardware: DoorHardware = group(DoorHardware, help="GPIO pins (portier)")
