"""Device: the composition root. Builds every service from settings and runs them on one loop.

A service is anything with a ``name``, ``start``/``stop`` coroutines, the settings it
``watches`` (dotted path prefixes) and an ``apply`` coroutine for changes to them. To add
one, write it and append its factory to :data:`SERVICES`; the device starts services in
that order, stops them in reverse, and re-applies settings only to the services that
watch what changed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import __version__
from .events import DeviceStarted, DeviceStopping, Event, EventBus, ServiceFailed, SettingsChanged
from .settings.declare import Leaf
from .settings.store import SettingsStore
from .storage import Storage

log = logging.getLogger(__name__)


class Service(Protocol):
    name: str
    watches: tuple[str, ...]

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def apply(self, changed: list[Leaf]) -> None: ...


@dataclass(frozen=True)
class RuntimeOptions:
    """Command-line overrides for this run only; they are never saved."""

    http: tuple[str, int] | None = None
    sip_port: int | None = None
    sip_host: str | None = None
    """Address the SIP agents listen on (default all addresses); tests bind 127.0.0.1."""
    sip_t1: float | None = None
    """RFC 3261 T1 in seconds (default 0.5); test rigs shorten it to see timeouts sooner."""
    audio_in: str | None = None
    """Call audio source: ``null`` (default), ``tone:440``, ``wav:/path/file.wav`` (looped)."""
    audio_out: str | None = None
    """Call audio sink: ``null`` (default) or ``wav:/dir`` (one recording per call)."""


def default_data_dir() -> Path:
    env = os.environ.get("PORTIER_DATA")
    return Path(env) if env else Path.home() / ".local" / "share" / "portier"


class EventLog:
    """Device log (manual 9.30): every event on the bus, in the log, in order."""

    name = "event-log"
    watches: tuple[str, ...] = ()

    def __init__(self, device: Device) -> None:
        self._bus = device.bus
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        self._unsubscribe = self._bus.subscribe(Event, self._record)

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()

    async def apply(self, changed: list[Leaf]) -> None:
        return None

    def _record(self, event: Event) -> None:
        log.info("event %s", event)


def _network_watch(device: Device) -> Service:
    from .services.network_watch import NetworkWatch

    return NetworkWatch(device)


def _sip_service(device: Device) -> Service:
    from .phone.sip_service import SipService

    return SipService(device)


def _call_log(device: Device) -> Service:
    from .phone.call_log import CallLog

    return CallLog(device)


def _action_url(device: Device) -> Service:
    from .services.action_url import ActionUrlService

    return ActionUrlService(device)


def _door_service(device: Device) -> Service:
    from .door.service import DoorService

    return DoorService(device)


def _buttons(device: Device) -> Service:
    from .door.buttons import ButtonService

    return ButtonService(device)


def _tone_player(device: Device) -> Service:
    from .phone.tone_player import TonePlayer

    return TonePlayer(device)


def _device_log(device: Device) -> Service:
    from .services.device_log import DeviceLogService

    return DeviceLogService(device)


def _capture(device: Device) -> Service:
    from .services.capture import CaptureService

    return CaptureService(device)


def _alarm_sounds(device: Device) -> Service:
    from .door.alarm_sounds import AlarmSounds

    return AlarmSounds(device)


def _web_service(device: Device) -> Service:
    from .web.service import WebService

    return WebService(device)


SERVICES: list[Callable[[Device], Service]] = [
    EventLog,
    _device_log,
    _network_watch,
    _sip_service,
    _call_log,
    _action_url,
    _door_service,
    _buttons,
    _tone_player,
    _alarm_sounds,
    _capture,
    _web_service,
]


class Device:
    def __init__(self, data_dir: Path, options: RuntimeOptions | None = None) -> None:
        self.data_dir = data_dir
        self.options = options or RuntimeOptions()
        self.storage = Storage(data_dir)
        self.settings = SettingsStore(self.storage)
        self.bus = EventBus()
        self.services: list[Service] = []
        self.started_at: float | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self.bus.start()
        self.services = [factory(self) for factory in SERVICES]
        for index, service in enumerate(self.services):
            try:
                await service.start()
            except BaseException:  # leave nothing half-started behind (sockets, log levels, pins)
                log.exception("service %s failed to start", service.name)
                for started in reversed(self.services[:index]):
                    try:
                        await started.stop()
                    except Exception:
                        log.exception("service %s failed to stop", started.name)
                self.services = []
                await self.bus.stop()
                raise
            log.info("service %s started", service.name)
        self.started_at = time.time()
        names = tuple(service.name for service in self.services)
        log.info("portier %s started, data in %s, services: %s", __version__, self.data_dir, ", ".join(names))
        self.bus.publish(DeviceStarted(__version__, names))

    async def stop(self, reason: str = "stop") -> None:
        self.bus.publish(DeviceStopping(reason))
        await self.bus.drain()
        for service in reversed(self.services):
            try:
                await service.stop()
                log.info("service %s stopped", service.name)
            except Exception as exc:
                log.exception("service %s failed to stop", service.name)
                self.bus.publish(ServiceFailed(service.name, str(exc)))
        self.services = []
        await self.bus.stop()

    def service(self, name: str) -> Any:
        """The running service called ``name`` (``sip``, ``door``...), for front-ends such as the web API."""
        for service in self.services:
            if service.name == name:
                return service
        raise LookupError(f"no running service named {name!r}")

    async def apply_settings(self, values: Mapping[Leaf, Any]) -> list[Leaf]:
        """Validate, save atomically and hand the change to the services that watch it."""
        async with self._lock:
            changed = self.settings.update(values)
            await self._distribute(changed)
            return changed

    async def _distribute(self, changed: list[Leaf]) -> None:
        if not changed:
            return
        self.bus.publish(SettingsChanged(tuple(leaf.dotted for leaf in changed)))
        for service in self.services:
            mine = [leaf for leaf in changed if any(leaf.dotted.startswith(p) for p in service.watches)]
            if mine:
                await service.apply(mine)

    async def reboot(self) -> None:
        """Restart every service in this process (the manual's Reboot)."""
        await self.stop("reboot")
        await self.start()

    async def factory_reset(self) -> None:
        """Manual 10.3: delete configuration and tables, then come back up on defaults."""
        running = bool(self.services)
        if running:
            await self.stop("factory reset")
        self.storage.factory_reset()
        self.settings = SettingsStore(self.storage)
        if running:
            await self.start()
