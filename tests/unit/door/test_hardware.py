"""The pins on gpiozero's mock factory: directions, resting levels, callbacks on the loop, LEDs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from portier.door.hardware import TAMPER, Hardware


async def open_pins(backend: str = "virtual") -> tuple[Hardware, list[tuple[str, int, bool]]]:
    seen: list[tuple[str, int, bool]] = []
    hardware = Hardware(
        asyncio.get_running_loop(),
        lambda n, pressed: seen.append(("button", n, pressed)),
        lambda n, level: seen.append(("input", n, level)),
        backend=backend,
    )
    return hardware, seen


async def test_resting_levels_and_callbacks_arrive_on_the_loop() -> None:
    hardware, seen = await open_pins()
    try:
        assert hardware.virtual and hardware.kind == "virtual"
        assert [hardware.input_level(n) for n in (1, 2, TAMPER)] == [True, True, False]
        assert not hardware.button_pressed(3)
        hardware.drive_button(3, True)
        hardware.drive_input(TAMPER, True)
        assert seen == []  # handed to the loop, not run inside gpiozero's callback
        await asyncio.sleep(0)
        assert seen == [("button", 3, True), ("input", TAMPER, True)]
        assert hardware.button_pressed(3) and hardware.input_level(TAMPER)
    finally:
        hardware.close()


async def test_relays_and_leds_drive_their_pins() -> None:
    hardware, _ = await open_pins()
    try:
        assert hardware.relay_numbers == [1, 2] and hardware.led_names == ["net", "sip", "output"]
        hardware.set_relay(2, True)
        assert hardware.relay_pin(2).state and hardware.relay_level(2) and not hardware.relay_pin(1).state
        hardware.set_led("sip", "fast")
        assert hardware.led_blinking("sip")
        hardware.set_led("sip", "on")
        assert not hardware.led_blinking("sip")
    finally:
        hardware.close()


async def test_an_unknown_backend_falls_back_to_virtual_pins(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="portier.door.hardware"):
        hardware, _ = await open_pins("spidev")
    hardware.close()
    assert hardware.virtual
    assert "PORTIER_GPIO='spidev' is not 'virtual' or 'lgpio'" in caplog.text
