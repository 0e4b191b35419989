"""Alarm inputs and the tamper switch (Table 27, 9.31): trigger levels, watching, alarm edges."""

from __future__ import annotations

import pytest

from portier.door.inputs import TAMPER, InputConfig, InputEdge, Inputs, input_configs
from portier.settings.document import find, with_values
from portier.settings.schema import Settings
from portier.settings.values import from_text

RESTING = {1: True, 2: True, TAMPER: False}


def test_settings_are_read_and_the_tamper_switch_alarms_at_its_wiring_level() -> None:
    values = {"Input1 Detect": "1", "Input1 Send SMS": "1", "Input2 Trigger Mode": "HIGH_LEVEL",
              "Enable Tamper": "1"}  # fmt: skip
    settings = with_values(Settings(), {find(k): from_text(find(k), v) for k, v in values.items()})
    assert input_configs(settings.door, True) == [
        InputConfig(1, detect=True, trigger_high=False, send_alarm=True),
        InputConfig(2, detect=False, trigger_high=True, send_alarm=False),
        InputConfig(TAMPER, detect=True, trigger_high=True, send_alarm=True),
    ]


def test_low_level_input_triggers_when_the_contact_closes_and_alarms_once() -> None:
    inputs = Inputs([InputConfig(1, detect=True, send_alarm=True)], RESTING)
    assert not inputs.triggered(1)
    assert inputs.on_level(1, False) == [InputEdge(1, True, alarm=True)]
    assert inputs.on_level(1, False) == []
    assert inputs.on_level(1, True) == [InputEdge(1, False)]
    assert inputs.triggered(1) is False and inputs.level(1) is True


def test_high_level_input_and_one_without_send_sms() -> None:
    inputs = Inputs([InputConfig(2, detect=True, trigger_high=True)], {2: False})
    assert inputs.on_level(2, True) == [InputEdge(2, True, alarm=False)]


def test_an_unwatched_input_never_triggers_but_its_level_is_kept() -> None:
    inputs = Inputs([InputConfig(1), InputConfig(TAMPER, trigger_high=True, send_alarm=True)], RESTING)
    assert inputs.on_level(1, False) == [] and inputs.on_level(TAMPER, True) == []
    assert inputs.level(1) is False and not inputs.triggered(TAMPER)
    assert inputs.numbers == [1, TAMPER]


def test_watching_an_input_already_at_its_trigger_level_alarms() -> None:
    inputs = Inputs([InputConfig(TAMPER, trigger_high=True, send_alarm=True)], {TAMPER: True})
    edges = inputs.configure([InputConfig(TAMPER, detect=True, trigger_high=True, send_alarm=True)])
    assert edges == [InputEdge(TAMPER, True, alarm=True)]


def test_an_unknown_input_is_refused() -> None:
    with pytest.raises(ValueError, match="1, 2 and 0"):
        Inputs([InputConfig(1)], RESTING).on_level(3, True)
