"""The door station's GPIO pins through gpiozero: real pins on a Raspberry Pi, virtual ones elsewhere.

Why gpiozero: one API over lgpio on the Pi and its own mock pins everywhere else, so the relay,
input and LED logic above runs the same code path on a bench, in CI and on the wall. Real GPIO
is touched only when asked for (GPIO Backend LGPIO, or ``PORTIER_GPIO=lgpio``); otherwise, and
always in tests, every pin is virtual: the virtual panel and the tests "press" buttons and move
inputs by driving those virtual pins, and read the relay and LED pins back.

The BCM numbers and levels are settings (``door.hardware``); :func:`pin_map` turns them into a
:class:`PinMap`. gpiozero calls back from its own threads on real pins: every callback is handed
to the asyncio loop with ``call_soon_threadsafe``, so the service sees pins in one thread, in order.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gpiozero import LED, DigitalInputDevice, DigitalOutputDevice  # type: ignore[import-untyped]
from gpiozero.pins.mock import MockFactory, MockPin  # type: ignore[import-untyped]

from portier.settings.door import DoorHardware, GpioBackend

log = logging.getLogger(__name__)

GPIO_ENV = "PORTIER_GPIO"
"""Environment variable naming the pin backend: ``virtual`` (default) or ``lgpio`` (a Raspberry Pi)."""

TAMPER = 0
"""Input number of the tamper switch (inputs 1 and 2 are the alarm inputs)."""

BLINK = {"fast": (0.1, 0.1), "slow": (0.5, 0.5)}
"""(on, off) seconds of the manual's "Fast Flashing" and "Slow Flashing" (Table 2)."""


@dataclass(frozen=True)
class PinMap:
    """BCM numbers and electrical sense of every pin (Table 4 wiring, a Pi 40-pin header).

    The defaults keep clear of I2C (2, 3), SPI (7-11), the UART (14, 15) and I2S (18-21, sound
    card hats). Buttons and inputs are dry contacts to ground with the internal pull-up, so they
    rest high; the tamper switch is held closed (low) while the device is on the wall and opens
    (high) when it is pulled off.
    """

    buttons: tuple[int, ...] = (5, 6, 13, 16, 26)
    relays: tuple[int, ...] = (17, 27)
    inputs: tuple[int, ...] = (22, 23)
    tamper: int = 24
    leds: tuple[tuple[str, int], ...] = (("net", 25), ("sip", 12), ("output", 4))
    relay_active_high: bool = True
    led_active_high: bool = True
    tamper_alarm_level: bool = True
    """Level of the tamper pin when the device has been removed."""


DEFAULT_PINS = PinMap()


def pin_map(hardware: DoorHardware) -> PinMap:
    """The pins the settings ask for."""
    return PinMap(
        buttons=(hardware.button1, hardware.button2, hardware.button3, hardware.button4, hardware.button5),
        relays=(hardware.relay1, hardware.relay2),
        inputs=(hardware.input1, hardware.input2),
        tamper=hardware.tamper,
        leds=(("net", hardware.led_network), ("sip", hardware.led_sip), ("output", hardware.led_output)),
        relay_active_high=hardware.relay_active_high,
        led_active_high=hardware.led_active_high,
        tamper_alarm_level=hardware.tamper_alarm_high,
    )


def backend_name(hardware: DoorHardware) -> str:
    """``PORTIER_GPIO`` (a test rig's override) or the GPIO Backend setting."""
    return os.environ.get(GPIO_ENV) or ("lgpio" if hardware.backend == GpioBackend.LGPIO else "virtual")


class NotVirtual(RuntimeError):
    """Driving an input pin from software is possible only on virtual pins."""


class _VirtualPin(MockPin):  # type: ignore[misc]
    """gpiozero's mock pin with a bounded change history: an LED blinking for weeks on a bench
    must not grow a list without end (MockPin keeps every change for its own tests)."""

    states: deque[Any]

    def clear_states(self) -> None:
        super().clear_states()
        self.states = deque(self.states, maxlen=64)


def _factory(backend: str) -> tuple[Any, str]:
    """The gpiozero pin factory for ``backend`` and what it is called; virtual when lgpio is absent."""
    if backend == "lgpio":
        try:
            from gpiozero.pins.lgpio import LGPIOFactory  # type: ignore[import-untyped]

            return LGPIOFactory(), "lgpio"
        except Exception as exc:
            log.error("%s=lgpio but the GPIO cannot be opened (%s); using virtual pins", GPIO_ENV, exc)
    elif backend not in ("", "virtual", "mock"):
        log.error("%s=%r is not 'virtual' or 'lgpio'; using virtual pins", GPIO_ENV, backend)
    return MockFactory(pin_class=_VirtualPin), "virtual"


class Hardware:
    """Every pin of the door station, opened on one pin factory and closed together.

    ``on_button(number, pressed)`` and ``on_input(number, level)`` are called on ``loop``
    whenever a button or input pin changes (input 0 is the tamper switch).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_button: Callable[[int, bool], None],
        on_input: Callable[[int, bool], None],
        *,
        pins: PinMap = DEFAULT_PINS,
        backend: str | None = None,
    ) -> None:
        self.pins = pins
        self._loop = loop
        self._on_button = on_button
        self._on_input = on_input
        self.factory, self.kind = _factory(os.environ.get(GPIO_ENV, "") if backend is None else backend)
        self.virtual = self.kind == "virtual"
        self._devices: list[Any] = []
        try:
            self._buttons = {n: self._button(n, pin) for n, pin in enumerate(pins.buttons, 1)}
            inputs = {n: pin for n, pin in enumerate(pins.inputs, 1)} | {TAMPER: pins.tamper}
            self._inputs = {n: self._input(n, pin) for n, pin in inputs.items()}
            self._relays = {
                n: self._open(DigitalOutputDevice(pin, active_high=pins.relay_active_high,
                                                  pin_factory=self.factory))
                for n, pin in enumerate(pins.relays, 1)
            }  # fmt: skip
            self._leds = {
                name: self._open(LED(pin, active_high=pins.led_active_high, pin_factory=self.factory))
                for name, pin in pins.leds
            }
        except BaseException:
            self.close()
            raise
        log.info("door pins: %s (buttons %s, relays %s, inputs %s, tamper %d)", self.kind,
                 pins.buttons, pins.relays, pins.inputs, pins.tamper)  # fmt: skip

    # --- opening ----------------------------------------------------------------------------------

    def _open(self, device: Any) -> Any:
        self._devices.append(device)
        return device

    def _button(self, number: int, pin: int) -> Any:
        # Not gpiozero's Button: its hold thread takes 0.1 s to stop per button, and long presses
        # are timed by the service on the loop anyway.
        button = self._open(DigitalInputDevice(pin, pull_up=True, pin_factory=self.factory))
        button.when_activated = lambda: self._later(self._on_button, number, True)
        button.when_deactivated = lambda: self._later(self._on_button, number, False)
        return button

    def _input(self, number: int, pin: int) -> Any:
        device = self._open(DigitalInputDevice(pin, pull_up=True, pin_factory=self.factory))
        if number == TAMPER and self.virtual:  # a virtual device starts on the wall, not torn off
            self._drive(device, high=not self.pins.tamper_alarm_level)
        # pull_up: "active" is the contact pulling the pin low.
        device.when_activated = lambda: self._later(self._on_input, number, False)
        device.when_deactivated = lambda: self._later(self._on_input, number, True)
        return device

    def _later(self, callback: Callable[[int, bool], None], number: int, value: bool) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, number, value)

    # --- what the service reads and drives ----------------------------------------------------------

    @property
    def relay_numbers(self) -> list[int]:
        return sorted(self._relays)

    @property
    def led_names(self) -> list[str]:
        return [name for name, _ in self.pins.leds]

    def relay_level(self, number: int) -> bool:
        """Whether relay ``number``'s coil is energised (its NO contact closed)."""
        return bool(self._relays[number].value)

    def relay_pin(self, number: int) -> Any:
        """The gpiozero pin of relay ``number`` (its ``state`` is the electrical level)."""
        return self._relays[number].pin

    def set_relay(self, number: int, energised: bool) -> None:
        device = self._relays[number]
        if energised:
            device.on()
        else:
            device.off()

    def input_level(self, number: int) -> bool:
        return bool(self._inputs[number].pin.state)

    def button_pressed(self, number: int) -> bool:
        return bool(self._buttons[number].is_active)

    def set_led(self, name: str, pattern: str) -> None:
        """Show ``pattern`` (on, off, fast, slow) on LED ``name``."""
        led = self._leds[name]
        if pattern in BLINK:
            on_time, off_time = BLINK[pattern]
            led.blink(on_time=on_time, off_time=off_time, background=True)
        elif pattern == "on":
            led.on()
        else:
            led.off()

    def led_blinking(self, name: str) -> bool:
        """Whether LED ``name`` is blinking now (gpiozero runs a blink thread for it)."""
        return getattr(self._leds[name], "_blink_thread", None) is not None

    # --- virtual pins -----------------------------------------------------------------------------

    def drive_button(self, number: int, pressed: bool) -> None:
        """Move a virtual button pin as a finger would (pressed pulls it low)."""
        self._drive(self._buttons[number], high=not pressed)

    def drive_input(self, number: int, level: bool) -> None:
        """Move a virtual input pin (0 = tamper) to ``level``."""
        self._drive(self._inputs[number], high=level)

    def _drive(self, device: Any, *, high: bool) -> None:
        if not self.virtual:
            raise NotVirtual(f"the door pins are real ({self.kind}); only virtual pins can be driven")
        pin = device.pin
        if high:
            pin.drive_high()
        else:
            pin.drive_low()

    def close(self) -> None:
        """Release every pin (relays and LEDs fall back to off) and the factory."""
        for device in reversed(self._devices):
            try:
                device.close()
            except Exception:
                log.exception("closing %r failed", device)
        self._devices.clear()
        try:
            self.factory.close()
        except Exception:
            log.exception("closing the pin factory failed")
