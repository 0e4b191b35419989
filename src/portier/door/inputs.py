"""The alarm inputs and the tamper switch (manual 9.31, Table 27): when a pin level is an alarm.

Sans-IO: pin levels go in, :class:`InputEdge` values come out when an input starts or stops
being triggered. An input is triggered when it is watched ("Input Detect"; "Enable Tamper" for
the tamper switch, input 0) and its level is the trigger level: LOW_LEVEL is a contact that
closes to ground, HIGH_LEVEL one that opens. Only the start of a trigger raises the alarm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from portier.settings.door import AlarmInput, DoorSettings, InputLevel

TAMPER = 0


@dataclass(frozen=True)
class InputConfig:
    number: int
    detect: bool = False
    trigger_high: bool = False
    send_alarm: bool = False


def input_configs(door: DoorSettings, tamper_alarm_level: bool) -> list[InputConfig]:
    """Inputs 1 and 2 from their settings; the tamper switch alarms at its wiring's level."""

    def one(number: int, settings: AlarmInput) -> InputConfig:
        high = settings.triggered_by == InputLevel.HIGH_LEVEL
        return InputConfig(number, settings.detect, high, settings.send_sms)

    tamper = InputConfig(TAMPER, door.basic.tamper, tamper_alarm_level, True)
    return [one(1, door.input1), one(2, door.input2), tamper]


@dataclass(frozen=True)
class InputEdge:
    """Input ``number`` started (``triggered``) or stopped being triggered; ``alarm`` says the
    alarm message is due (a start, with Send SMS on; always for the tamper switch)."""

    number: int
    triggered: bool
    alarm: bool = False


class Inputs:
    def __init__(self, configs: Iterable[InputConfig], levels: Mapping[int, bool]) -> None:
        self._configs = {c.number: c for c in configs}
        self._levels = dict(levels)
        self._triggered = {n: self._is_triggered(n) for n in self._configs}

    @property
    def numbers(self) -> list[int]:
        """Inputs 1, 2, then the tamper switch 0."""
        return sorted(self._configs, key=lambda n: (n == TAMPER, n))

    def level(self, number: int) -> bool:
        return self._levels.get(number, True)

    def triggered(self, number: int) -> bool:
        return self._triggered.get(number, False)

    def on_level(self, number: int, level: bool) -> list[InputEdge]:
        if number not in self._configs:
            raise ValueError(f"input {number} does not exist; the inputs are 1, 2 and 0 (tamper)")
        self._levels[number] = level
        return self._update(number)

    def configure(self, configs: Iterable[InputConfig]) -> list[InputEdge]:
        """New settings; an input that starts being watched at its trigger level alarms too."""
        self._configs = {c.number: c for c in configs}
        return [edge for number in self.numbers for edge in self._update(number)]

    def _update(self, number: int) -> list[InputEdge]:
        now = self._is_triggered(number)
        if now == self._triggered.get(number, False):
            return []
        self._triggered[number] = now
        return [InputEdge(number, now, alarm=now and self._configs[number].send_alarm)]

    def _is_triggered(self, number: int) -> bool:
        config = self._configs[number]
        return config.detect and self.level(number) == config.trigger_high
