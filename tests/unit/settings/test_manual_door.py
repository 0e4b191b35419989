"""Security Settings menu (inputs, outputs, tamper) against the manual (9.31, Table 27)."""

from __future__ import annotations

import pytest

from portier.settings.declare import index
from portier.settings.door import (
    CallButtonChoice,
    CallStateTrigger,
    InputChoice,
    InputLevel,
    ResetMode,
    StandardStatus,
)
from portier.settings.schema import Settings
from portier.settings.values import SettingError, from_text
from tests.unit.settings.manual import assert_row, row


def test_table_27_basic_settings() -> None:
    assert_row("door.basic.ringtone_duration", label="Ringtone Duration", default=5, unit="s",
               key="Alarm Ring Duration")
    assert_row("door.basic.server_address", label="Input & Tamper Server Address", default="",
               key="Alarm Server Addr")
    assert_row("door.basic.tamper", label="Enable Tamper", default=False, key="Enable Tamper")
    assert_row("door.basic.tamper_ringtone", key="Tamper Ring Type")


@pytest.mark.parametrize("n", [1, 2])
def test_table_27_input_settings(n: int) -> None:
    p = f"door.input{n}"
    assert_row(f"{p}.detect", label="Input Detect", default=False, key=f"Input{n} Detect")
    assert_row(f"{p}.triggered_by", label="Triggered by", default=InputLevel.LOW_LEVEL,
               key=f"Input{n} Trigger Mode")
    assert_row(f"{p}.send_sms", label="Send SMS", default=False, key=f"Input{n} Send SMS")
    assert_row(f"{p}.call_button", label="Call Button", default=CallButtonChoice.NONE,
               key=f"Input{n} Call Button")
    assert_row(f"{p}.ringtone", label="Triggered Ringtone", default="", key=f"Input{n} Ring Type")


@pytest.mark.parametrize("n", [1, 2])
def test_table_27_output_settings(n: int) -> None:
    p = f"door.output{n}"
    assert_row(f"{p}.response", label="Output Response", key=f"Output{n} Response")
    assert_row(f"{p}.dtmf_ringtone", label="Triggered by DTMF Ring tone", default="")
    assert_row(f"{p}.uri_ringtone", label="Triggered by URI Ringtone", default="")
    assert_row(f"{p}.sms_ringtone", label="Triggered By SMS Ringtone", default="")
    assert_row(f"{p}.dsskey_ringtone", label="Triggered By Dsskey Ringtone", default="")
    assert_row(f"{p}.standard_status", label="Standard Status", default=StandardStatus.NO,
               key=f"Output{n} Standard Status")
    assert_row(f"{p}.duration", label="Output Duration", default=5, unit="s", key=f"Output{n} Duration")
    assert_row(f"{p}.trigger_by_dtmf", label="Trigger by DTMF", default=False, key=f"Output{n} DTMF Trigger")
    assert_row(f"{p}.dtmf_trigger_code", label="DTMF Trigger Code", default="1234",
               key=f"Output{n} DTMF Trigger Code")
    assert_row(f"{p}.dtmf_reset_code", label="DTMF Reset Code", default="4321",
               key=f"Output{n} DTMF Reset Code")
    assert_row(f"{p}.reset_by", label="Reset By", default=ResetMode.DURATION, key=f"Output{n} Reset Mode")
    assert_row(f"{p}.trigger_by_uri", label="Trigger by URI", default=False, key=f"Output{n} URI Trigger")
    assert_row(f"{p}.uri_trigger_message", label="Trigger Message", key=f"Output{n} URI Trigger Msg")
    assert_row(f"{p}.uri_reset_message", label="Reset Message", key=f"Output{n} URI Reset Msg")
    assert_row(f"{p}.trigger_by_sms", label="Trigger by SMS", default=False, key=f"Output{n} SMS Trigger")
    assert_row(f"{p}.trigger_sms", label="Trigger SMS", key=f"Output{n} SMS Trigger Msg")
    assert_row(f"{p}.reset_sms", label="Reset SMS", key=f"Output{n} SMS Reset Msg")
    assert_row(f"{p}.trigger_by_input", label="Trigger by Input", default=InputChoice.NONE,
               key=f"Output{n} Input Trigger")
    assert_row(f"{p}.trigger_by_call_state", label="Trigger By Call state", default=CallStateTrigger.NONE,
               key=f"Output{n} Call State Trigger")
    assert_row(f"{p}.trigger_by_dsskey", label="Trigger By DssKey", default=CallButtonChoice.NONE,
               key=f"Output{n} Dsskey Trigger")


def test_table_27_choices() -> None:
    assert [m.name for m in InputLevel] == ["LOW_LEVEL", "HIGH_LEVEL"]
    assert [m.name for m in StandardStatus] == ["NO", "NC"]
    assert [m.name for m in ResetMode] == ["DURATION", "STATE"]
    assert [m.name for m in InputChoice] == ["NONE", "INPUT1", "INPUT2"]
    assert [m.name for m in CallStateTrigger] == ["NONE", "TALKING", "RINGING", "CALLING"]
    assert [m.name for m in CallButtonChoice] == ["NONE"] + [f"CALL_BUTTON{n}" for n in range(1, 6)]


def test_table_4_two_inputs_and_two_outputs() -> None:
    table = index(Settings)
    for name in ("input1.detect", "input2.detect", "output1.response", "output2.response"):
        assert f"door.{name}" in table
    assert "door.input3.detect" not in table
    assert "door.output3.response" not in table


def test_dtmf_codes_take_dtmf_characters_only() -> None:
    leaf = row("door.output1.dtmf_trigger_code")
    assert from_text(leaf, "*12#AD") == "*12#AD"
    for bad in ("", "12 34", "12E", "1" * 17):
        with pytest.raises(SettingError):
            from_text(leaf, bad)
