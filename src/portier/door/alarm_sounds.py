"""Triggered ringtones (Table 27): what the speaker plays when an output or an alarm goes off.

An output triggered by DTMF, a URI (HTTP), an SMS (SIP MESSAGE) or a call button plays that
trigger's ringtone; an input plays its Triggered Ringtone; the tamper alarm plays the Tamper
Alarm Ringtone. Each for Ringtone Duration, through the tones service (ring volume, mixed over
a call). Listening to the bus keeps the door logic free of audio.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from portier.events import InputChanged, RelayChanged
from portier.settings.declare import Leaf
from portier.settings.door import AlarmOutput, DoorSettings

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

TAMPER = 0


def relay_ringtone(door: DoorSettings, relay: int, cause: str) -> str:
    """The ringtone an output plays for ``cause`` (RelayChanged.cause); empty plays none."""
    output: AlarmOutput = getattr(door, f"output{relay}", None) or AlarmOutput()
    by_cause = {
        "dtmf": output.dtmf_ringtone,
        "http": output.uri_ringtone,
        "sms": output.sms_ringtone,
        "button": output.dsskey_ringtone,
    }
    return by_cause.get(cause, "").strip()


def input_ringtone(door: DoorSettings, number: int) -> str:
    """The ringtone an input (1-2) or the tamper switch (0) plays when it triggers; empty plays none."""
    if number == TAMPER:
        return door.basic.tamper_ringtone.strip() if door.basic.tamper else ""
    port = getattr(door, f"input{number}", None)
    return port.ringtone.strip() if port is not None and port.detect else ""


class AlarmSounds:
    name = "alarm-sounds"
    watches: tuple[str, ...] = ()

    def __init__(self, device: Device) -> None:
        self._device = device
        self._unsubscribe: list[Callable[[], None]] = []

    async def start(self) -> None:
        bus = self._device.bus
        self._unsubscribe = [
            bus.subscribe(RelayChanged, self._on_relay),
            bus.subscribe(InputChanged, self._on_input),
        ]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    async def apply(self, changed: list[Leaf]) -> None:
        return None

    def _on_relay(self, event: RelayChanged) -> None:
        if event.active:
            self._play(relay_ringtone(self._device.settings.current.door, event.relay, event.cause))

    def _on_input(self, event: InputChanged) -> None:
        if event.triggered:
            self._play(input_ringtone(self._device.settings.current.door, event.input))

    def _play(self, ring: str) -> None:
        if not ring:
            return
        try:
            tones = self._device.service("tones")
        except LookupError:
            log.warning("alarm ringtone %r not played: the tones service is not running", ring)
            return
        tones.play_ring(ring, float(self._device.settings.current.door.basic.ringtone_duration))
