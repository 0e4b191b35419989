"""Device lifecycle, settings distribution and the event bus."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from portier import device as device_module
from portier.device import Device
from portier.events import DeviceStarted, Event, EventBus, SettingsChanged
from portier.settings.declare import Leaf
from portier.settings.document import ConfigErrors, find


class Recorder:
    """A service that records what the device does to it."""

    def __init__(self, name: str, watches: tuple[str, ...], journal: list[str]) -> None:
        self.name, self.watches, self.journal = name, watches, journal

    async def start(self) -> None:
        self.journal.append(f"start {self.name}")

    async def stop(self) -> None:
        self.journal.append(f"stop {self.name}")

    async def apply(self, changed: list[Leaf]) -> None:
        self.journal.append(f"apply {self.name} {','.join(leaf.dotted for leaf in changed)}")


@pytest.fixture
def journal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    entries: list[str] = []
    monkeypatch.setattr(
        device_module,
        "SERVICES",
        [
            lambda d: Recorder("lines", ("lines.",), entries),
            lambda d: Recorder("door", ("door.",), entries),
        ],
    )
    return entries


async def test_services_start_in_order_and_stop_in_reverse(tmp_path: Path, journal: list[str]) -> None:
    device = Device(tmp_path)
    started: list[DeviceStarted] = []
    device.bus.subscribe(DeviceStarted, started.append)
    await device.start()
    await device.bus.drain()
    await device.stop()
    assert journal == ["start lines", "start door", "stop door", "stop lines"]
    assert started[0].services == ("lines", "door")


async def test_changes_reach_only_the_services_that_watch_them(tmp_path: Path, journal: list[str]) -> None:
    device = Device(tmp_path)
    announced: list[SettingsChanged] = []
    device.bus.subscribe(SettingsChanged, announced.append)
    await device.start()
    journal.clear()
    await device.apply_settings({find("SIP2 Register Addr"): "127.0.0.1"})
    await device.bus.drain()
    assert journal == ["apply lines lines.sip2.server1.address"]
    assert announced == [SettingsChanged(("lines.sip2.server1.address",))]
    with pytest.raises(ConfigErrors):
        await device.apply_settings({find("SIP2 Register Port"): 0})
    assert journal == ["apply lines lines.sip2.server1.address"]
    await device.stop()


async def test_factory_reset_comes_back_on_defaults(tmp_path: Path, journal: list[str]) -> None:
    device = Device(tmp_path)
    await device.start()
    await device.apply_settings({find("SIP1 Phone Number"): "1001"})
    await device.factory_reset()
    assert device.settings.current.lines.sip1.username == ""
    assert journal[-2:] == ["start lines", "start door"]
    await device.stop()


async def test_bus_delivers_in_order_and_survives_a_failing_handler() -> None:
    bus = EventBus()
    bus.start()
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("handler bug")

    async def slow(event: SettingsChanged) -> None:
        await asyncio.sleep(0)
        seen.append(event.paths[0])

    bus.subscribe(SettingsChanged, broken)
    bus.subscribe(SettingsChanged, slow)
    for name in "abc":
        bus.publish(SettingsChanged((name,)))
    await bus.drain()
    assert seen == ["a", "b", "c"]
    await bus.stop()
