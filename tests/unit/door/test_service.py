"""The door service on virtual pins: buttons, inputs, relays and LEDs through the real gpiozero mock pins.

A device runs with the door service alone (no sockets): events go over its real bus, pins are
gpiozero's mock pins, relay holds run on the loop's clock with the 1 s minimum Output Duration.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from portier import device as device_module
from portier.device import Device
from portier.door.hardware import DEFAULT_PINS
from portier.door.service import DoorService
from portier.door.status import InputStatus, RelayStatus
from portier.events import (
    ButtonChanged,
    CallStateChanged,
    DtmfReceived,
    Event,
    InputChanged,
    LedChanged,
    MessageReceived,
    RelayChanged,
)
from portier.settings.document import find
from portier.settings.values import from_text


class Running:
    def __init__(self, device: Device, events: list[Event]) -> None:
        self.device, self.events = device, events

    @property
    def door(self) -> DoorService:
        service: DoorService = self.device.service("door")
        return service

    async def wait_for(self, test: Callable[[Event], bool], what: str, timeout: float = 5.0) -> Event:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            await self.device.bus.drain()
            found = [e for e in self.events if test(e)]
            if found:
                return found[0]
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {what} within {timeout} s; events: {self.events}")

    async def settle(self) -> None:
        """Let pin callbacks (call_soon_threadsafe) run and the bus deliver what they published."""
        await asyncio.sleep(0)
        await self.device.bus.drain()

    def relay_pin(self, relay: int) -> bool:
        hardware = self.door.hardware
        assert hardware is not None
        return bool(hardware.relay_pin(relay).state)


@pytest.fixture
def door_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_module, "SERVICES", [DoorService])


async def start(tmp_path: Path, values: dict[str, Any]) -> AsyncIterator[Running]:
    device = Device(tmp_path)
    device.settings.update({find(k): from_text(find(k), str(v)) for k, v in values.items()})
    events: list[Event] = []
    device.bus.subscribe(Event, events.append)
    await device.start()
    try:
        yield Running(device, events)
    finally:
        await device.stop()


@pytest.fixture
async def dut(tmp_path: Path, door_only: None, request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    values = getattr(request, "param", {})
    async for running in start(tmp_path, values):
        yield running


async def test_starts_on_virtual_pins_at_rest(dut: Running) -> None:
    door = dut.door
    assert door.hardware is not None and door.hardware.virtual
    assert door.relays() == [RelayStatus(1, False, "Output1"), RelayStatus(2, False, "Output2")]
    resting = [InputStatus(1, False, True), InputStatus(2, False, True), InputStatus(0, False, False)]
    assert door.inputs() == resting
    assert door.leds()["output"] == "off" and door.leds()["sip"] == "off"
    assert not dut.relay_pin(1) and not dut.relay_pin(2)


async def test_a_press_and_release_publish_button_events(dut: Running) -> None:
    dut.door.press(2)
    await dut.settle()
    dut.door.release(2)
    await dut.settle()
    assert [e for e in dut.events if isinstance(e, ButtonChanged)] == [
        ButtonChanged(2, True),
        ButtonChanged(2, False),
    ]
    with pytest.raises(ValueError, match="buttons are 1-5"):
        dut.door.press(6)


@pytest.mark.parametrize("dut", [{"Command Mode Press Time": 1}], indirect=True)
async def test_holding_a_button_is_a_long_press(dut: Running) -> None:
    dut.door.press(1)
    await dut.wait_for(lambda e: e == ButtonChanged(1, True, long=True), "a long press")
    dut.door.release(1)
    await dut.wait_for(lambda e: e == ButtonChanged(1, False), "the release")


@pytest.mark.parametrize("dut", [{"Output1 DTMF Trigger": 1, "Output1 Duration": 1}], indirect=True)
async def test_dtmf_code_closes_relay_1_and_the_duration_opens_it(dut: Running) -> None:
    for digit in "1234":
        dut.device.bus.publish(DtmfReceived("c1", digit, "rfc4733"))
    await dut.wait_for(lambda e: e == RelayChanged(1, True, "dtmf"), "relay 1 triggered")
    assert dut.relay_pin(1) and dut.door.relays()[0].active
    assert dut.door.leds()["output"] == "on"
    await dut.wait_for(lambda e: e == RelayChanged(1, False, "duration"), "relay 1 reset")
    assert not dut.relay_pin(1)
    leds = [e for e in dut.events if isinstance(e, LedChanged) and e.led == "output"]
    assert [e.pattern for e in leds] == ["off", "on", "off"]


@pytest.mark.parametrize(
    "dut", [{"Output2 SMS Trigger": 1, "Output2 SMS Trigger Msg": "open", "Output2 Standard Status": "NC"}],
    indirect=True,
)
async def test_sms_text_switches_a_normally_closed_relay_open(dut: Running) -> None:
    assert dut.relay_pin(2)  # NC rests energised
    dut.device.bus.publish(MessageReceived(0, "sip:desk@127.0.0.1", "open"))
    await dut.wait_for(lambda e: e == RelayChanged(2, True, "sms"), "relay 2 triggered")
    assert not dut.relay_pin(2)


@pytest.mark.parametrize("dut", [{"Output1 Reset Mode": "STATE", "Output1 Duration": 1}], indirect=True)
async def test_switch_in_a_call_with_reset_by_state_holds_until_hang_up(dut: Running) -> None:
    bus = dut.device.bus
    bus.publish(CallStateChanged("c1", 0, "incoming", "Talking", "sip:bob@127.0.0.1"))
    await dut.settle()
    await dut.door.switch(1, "trigger", "http")
    assert dut.relay_pin(1) and dut.door.leds()["sip"] == "slow"
    await asyncio.sleep(1.2)  # longer than Output Duration: the call holds it
    assert dut.relay_pin(1)
    bus.publish(CallStateChanged("c1", 0, "incoming", "Ended", "sip:bob@127.0.0.1", "bye"))
    await dut.wait_for(lambda e: e == RelayChanged(1, False, "call"), "relay 1 reset by the hang-up")
    assert not dut.relay_pin(1) and dut.door.leds()["sip"] == "off"


@pytest.mark.parametrize(
    "dut", [{"Input1 Detect": 1, "Output2 Input Trigger": "INPUT1", "Output2 Duration": 1}], indirect=True
)
async def test_an_input_closing_publishes_and_triggers_its_output(dut: Running) -> None:
    dut.door.set_input(1, False)
    await dut.wait_for(lambda e: e == InputChanged(1, True), "input 1 triggered")
    await dut.wait_for(lambda e: e == RelayChanged(2, True, "input"), "relay 2 triggered by input 1")
    assert dut.door.inputs()[0] == InputStatus(1, True, False)
    dut.door.set_input(1, True)
    await dut.wait_for(lambda e: e == InputChanged(1, False), "input 1 back to rest")
    await dut.wait_for(lambda e: e == RelayChanged(2, False, "duration"), "relay 2 reset")


@pytest.mark.parametrize("dut", [{"Enable Tamper": 1}], indirect=True)
async def test_tamper_is_input_0_and_an_unwatched_input_stays_quiet(dut: Running) -> None:
    dut.door.set_input(2, False)  # Input2 Detect is off
    dut.door.set_input(0, True)
    await dut.wait_for(lambda e: e == InputChanged(0, True), "the tamper alarm")
    assert not [e for e in dut.events if isinstance(e, InputChanged) and e.input == 2]
    assert dut.door.inputs()[1] == InputStatus(2, False, False)


async def test_settings_change_applies_without_restart(dut: Running) -> None:
    changes = {find("Output1 SMS Trigger"): True, find("Output1 SMS Trigger Msg"): "go"}
    await dut.device.apply_settings(changes)
    dut.device.bus.publish(MessageReceived(0, "sip:x@127.0.0.1", "go"))
    await dut.wait_for(lambda e: e == RelayChanged(1, True, "sms"), "relay 1 triggered by the new text")


async def test_a_changed_standard_status_moves_the_resting_relay(dut: Running) -> None:
    assert not dut.relay_pin(1)
    leaf = find("Output1 Standard Status")
    await dut.device.apply_settings({leaf: from_text(leaf, "NC")})
    assert dut.relay_pin(1) and not dut.door.relays()[0].active


async def test_registration_failure_flashes_the_sip_led_fast(dut: Running) -> None:
    from portier.events import LineStatusChanged

    dut.device.bus.publish(LineStatusChanged(1, "Failed", "403 Forbidden", "127.0.0.1:5060"))
    await dut.wait_for(lambda e: e == LedChanged("sip", "fast"), "the fast flash")
    hardware = dut.door.hardware
    assert hardware is not None and hardware.led_blinking("sip") and not hardware.led_blinking("net")


async def test_pins_are_released_on_stop_and_free_for_the_next_start(tmp_path: Path, door_only: None) -> None:
    for _ in range(2):
        async for running in start(tmp_path, {}):
            assert running.door.hardware is not None
            assert running.door.hardware.pins == DEFAULT_PINS
