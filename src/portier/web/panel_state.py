"""What the virtual panel shows: the door station's buttons, LEDs, relays, inputs and calls, as plain data.

One snapshot is rendered into the page and sent again (as JSON) whenever an event changes any of
it, so the page never has to know how events combine: it shows the latest snapshot.
"""

from __future__ import annotations

from typing import Any

from portier.device import Device
from portier.door.hardware import Hardware
from portier.events import (
    ButtonChanged,
    CallStateChanged,
    Event,
    InputChanged,
    LedChanged,
    LineStatusChanged,
    RelayChanged,
    SettingsChanged,
)
from portier.phone.call import CallState

WATCHED: tuple[type[Event], ...] = (
    ButtonChanged, RelayChanged, InputChanged, LedChanged, CallStateChanged, LineStatusChanged,
    SettingsChanged,
)  # fmt: skip
"""Events after which the panel is sent again."""

LED_LABELS = {"net": "SIP/NET (green)", "sip": "SIP/NET (red)", "output": "Output"}
LEVEL_INTERVAL = 0.25
"""Seconds between audio level messages while a call has media (levels change without events)."""


def _door(device: Device) -> Any:
    try:
        return device.service("door")
    except LookupError:
        return None


def _calls(device: Device) -> list[dict[str, Any]]:
    try:
        manager = device.service("sip").calls
    except LookupError:
        return []
    if manager is None:
        return []
    return [
        {"state": str(call.state), "remote": call.remote, "direction": call.direction,
         "line": f"SIP{call.line}" if call.line else "Direct"}
        for call in list(manager.calls.values()) if call.state is not CallState.ENDED
    ]  # fmt: skip


def audio_levels(device: Device) -> dict[str, float | None] | None:
    """The first call with media: dBFS sent (microphone) and played (speaker); None when no call has media."""
    try:
        manager = device.service("sip").calls
    except LookupError:
        return None
    for call in list(getattr(manager, "calls", {}).values()):
        stream = call.stream
        if stream is not None and call.state is not CallState.ENDED:
            sent, played = stream.levels()
            return {"sent": _rounded(sent), "played": _rounded(played)}
    return None


def _rounded(level: float | None) -> float | None:
    return None if level is None else round(level, 1)


def _button_label(device: Device, number: int) -> str:
    button = getattr(device.settings.current.buttons, f"button{number}", None)
    if button is None:
        return ""
    return str(button.name or button.value)


def panel_state(device: Device) -> dict[str, Any]:
    """The panel as JSON-ready data; ``door`` is False when the door service is not running."""
    door = _door(device)
    hardware: Hardware | None = getattr(door, "hardware", None)
    calls = _calls(device)
    state: dict[str, Any] = {
        "door": hardware is not None,
        "virtual": bool(hardware is not None and hardware.virtual),
        "backend": hardware.kind if hardware is not None else "",
        "buttons": [],
        "leds": [],
        "relays": [],
        "inputs": [],
        "calls": calls,
        "call": calls[0]["state"] if calls else "Idle",
        "remote": calls[0]["remote"] if calls else "",
        "level": audio_levels(device),
    }
    if hardware is None:
        return state
    state["buttons"] = [
        {"number": n, "label": _button_label(device, n), "pressed": hardware.button_pressed(n)}
        for n in range(1, len(hardware.pins.buttons) + 1)
    ]
    leds = door.leds()
    state["leds"] = [
        {"name": name, "label": LED_LABELS.get(name, name), "pattern": leds.get(name, "off")}
        for name in hardware.led_names
    ]
    state["relays"] = [{"number": r.number, "name": r.name, "active": r.active} for r in door.relays()]
    state["inputs"] = [
        {"number": i.number, "name": "Tamper" if i.number == 0 else f"Input {i.number}",
         "triggered": i.triggered, "level": "high" if i.level else "low"}
        for i in door.inputs()
    ]  # fmt: skip
    return state
