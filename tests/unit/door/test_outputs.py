"""Relay decisions (Table 27) with a simulated clock: codes, texts, inputs, call states, holds."""

from __future__ import annotations

from typing import Any

import pytest

from portier.door.outputs import OutputConfig, Outputs, RelaySwitched, output_configs
from portier.settings.document import find, with_values
from portier.settings.schema import Settings
from portier.settings.values import from_text

ON1 = RelaySwitched(1, True, "dtmf")
OFF1_DURATION = RelaySwitched(1, False, "duration")


def outputs(**one: Any) -> Outputs:
    first = OutputConfig(1, **one)
    return Outputs([first, OutputConfig(2)])


def dial(machine: Outputs, call_id: str, digits: str, now: float = 0.0) -> list[RelaySwitched]:
    switched: list[RelaySwitched] = []
    for digit in digits:
        switched += machine.on_dtmf(call_id, digit, now)
    return switched


def test_settings_are_read_into_configs() -> None:
    values = {"Output1 DTMF Trigger": "1", "Output1 Duration": "2", "Output2 Standard Status": "NC",
              "Output2 Reset Mode": "STATE", "Output2 Call State Trigger": "CALLING",
              "Output2 Input Trigger": "INPUT2", "Output2 SMS Trigger Msg": " open "}  # fmt: skip
    settings = with_values(Settings(), {find(k): from_text(find(k), v) for k, v in values.items()})
    first, second = output_configs(settings.door)
    assert first == OutputConfig(1, dtmf=True, duration=2.0)
    assert second.normally_closed and second.reset_by_state and second.call_state == "calling"
    assert second.input == 2 and second.sms_trigger == "open" and not second.dtmf


def test_dtmf_code_triggers_and_the_duration_resets() -> None:
    machine = outputs(dtmf=True, duration=5.0)
    assert dial(machine, "c1", "123") == []
    assert dial(machine, "c1", "4", now=10.0) == [ON1]
    assert machine.active(1) and machine.energised(1) and not machine.active(2)
    assert machine.next_deadline() == 15.0
    assert machine.handle_timer(14.9) == []
    assert machine.handle_timer(15.0) == [OFF1_DURATION]
    assert machine.next_deadline() is None and not machine.energised(1)


def test_the_code_matches_after_other_digits_and_only_within_one_call() -> None:
    machine = outputs(dtmf=True)
    assert dial(machine, "c1", "12") == [] and dial(machine, "c2", "34") == []
    assert dial(machine, "c1", "99*1234") == [ON1]


def test_a_match_clears_the_digits_and_an_ended_call_forgets_them() -> None:
    machine = outputs(dtmf=True, dtmf_trigger="11", dtmf_reset="22")
    assert dial(machine, "c1", "11") == [RelaySwitched(1, True, "dtmf")]
    assert dial(machine, "c1", "1") == []  # "111" would match again without the clearing
    machine.on_call_state("c1", "Talking", 0.0)
    machine.on_call_state("c1", "Ended", 0.0)
    assert dial(machine, "c1", "2") == []


def test_reset_code_resets_early_and_disabled_dtmf_does_nothing() -> None:
    machine = outputs(dtmf=True)
    dial(machine, "c1", "1234")
    assert dial(machine, "c1", "4321", now=1.0) == [RelaySwitched(1, False, "dtmf")]
    assert machine.next_deadline() is None
    assert dial(outputs(dtmf=False), "c1", "1234") == []


def test_a_trigger_while_active_restarts_the_hold_without_an_event() -> None:
    machine = outputs(dtmf=True, duration=5.0)
    dial(machine, "c1", "1234", now=0.0)
    assert dial(machine, "c1", "1234", now=3.0) == []
    assert machine.handle_timer(5.0) == [] and machine.next_deadline() == 8.0


def test_reset_by_state_holds_until_the_call_leaves_talking() -> None:
    machine = outputs(dtmf=True, reset_by_state=True, duration=1.0)
    machine.on_call_state("c1", "Talking", 0.0)
    assert dial(machine, "c1", "1234") == [ON1]
    assert machine.next_deadline() is None and machine.handle_timer(100.0) == []
    assert machine.on_call_state("c1", "Held", 101.0) == []  # hold is still talking
    assert machine.on_call_state("c2", "Ringing", 102.0) == []  # another call does not matter
    assert machine.on_call_state("c1", "Ended", 103.0) == [RelaySwitched(1, False, "call")]


def test_reset_by_state_outside_a_call_falls_back_to_the_duration() -> None:
    machine = outputs(reset_by_state=True, duration=2.0, sms=True, sms_trigger="open")
    assert machine.on_message("open", 0.0) == [RelaySwitched(1, True, "sms")]
    assert machine.handle_timer(2.0) == [OFF1_DURATION]


def test_sms_and_uri_texts_match_exactly_after_trimming() -> None:
    machine = outputs(sms=True, sms_trigger="open door", sms_reset="close", uri=True, uri_trigger="go")
    assert machine.on_message("Open door", 0.0) == []
    assert machine.on_message(" open door\r\n", 0.0) == [RelaySwitched(1, True, "sms")]
    assert machine.on_message("close", 0.0) == [RelaySwitched(1, False, "sms")]
    assert machine.on_uri("go", 0.0) == [RelaySwitched(1, True, "http")]
    assert machine.on_message("", 0.0) == []
    assert outputs(sms=False, sms_trigger="open door").on_message("open door", 0.0) == []


def test_an_input_switches_for_the_duration_even_with_reset_by_state() -> None:
    machine = outputs(input=2, reset_by_state=True, duration=3.0)
    machine.on_call_state("c1", "Talking", 0.0)
    assert machine.on_input(1, 0.0) == []
    assert machine.on_input(2, 0.0) == [RelaySwitched(1, True, "input")]
    assert machine.handle_timer(3.0) == [OFF1_DURATION]


def test_call_state_trigger_fires_on_entering_the_family_only() -> None:
    machine = outputs(call_state="calling", reset_by_state=True)
    assert machine.on_call_state("c1", "Calling", 0.0) == [RelaySwitched(1, True, "call")]
    assert machine.on_call_state("c1", "Alerting", 1.0) == []
    assert machine.on_call_state("c1", "Talking", 2.0) == [RelaySwitched(1, False, "call")]
    talking = outputs(call_state="talking", duration=5.0)
    assert talking.on_call_state("c1", "Ringing", 0.0) == []
    assert talking.on_call_state("c1", "Talking", 1.0) == [RelaySwitched(1, True, "call")]
    assert talking.handle_timer(6.0) == [OFF1_DURATION]


def test_call_button_trigger() -> None:
    machine = outputs(button=3)
    assert machine.on_button(2, 0.0) == []
    assert machine.on_button(3, 0.0) == [RelaySwitched(1, True, "button")]


def test_normally_closed_relay_rests_energised_and_opens_when_triggered() -> None:
    machine = outputs(normally_closed=True)
    assert machine.energised(1) and not machine.active(1)
    machine.switch(1, "trigger", "http", 0.0)
    assert machine.active(1) and not machine.energised(1)


def test_output_response_off_ignores_triggers_but_not_resets() -> None:
    machine = outputs(response=False, dtmf=True)
    assert dial(machine, "c1", "1234") == [] and machine.switch(1, "on", "http", 0.0) == []
    machine.configure([OutputConfig(1, response=True)])
    machine.switch(1, "on", "http", 0.0)
    machine.configure([OutputConfig(1, response=False)])
    assert machine.switch(1, "off", "http", 0.0) == [RelaySwitched(1, False, "http")]


def test_switch_on_holds_until_off_and_trigger_holds_for_the_duration() -> None:
    machine = outputs(duration=5.0)
    assert machine.switch(2, "on", "panel", 0.0) == [RelaySwitched(2, True, "panel")]
    assert machine.next_deadline() is None
    assert machine.switch(2, "off", "panel", 1.0) == [RelaySwitched(2, False, "panel")]
    assert machine.switch(2, "off", "panel", 1.0) == []  # no change, no event
    machine.switch(1, "trigger", "http", 0.0)
    assert machine.next_deadline() == 5.0 and machine.any_active()


def test_switch_errors_name_what_exists() -> None:
    machine = outputs()
    with pytest.raises(ValueError, match="relays are 1 and 2"):
        machine.switch(3, "on", "http", 0.0)
    with pytest.raises(ValueError, match="on, off, trigger"):
        machine.switch(1, "open", "http", 0.0)
