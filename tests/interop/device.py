"""A real portier device inside the test's event loop, on 127.0.0.1, with its events recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portier.device import Device, RuntimeOptions
from portier.events import CallStateChanged, DtmfReceived, Event, LineStatusChanged
from portier.phone.calls import CallManager
from portier.phone.sip_service import SipService
from portier.settings.document import find
from portier.settings.values import from_text

from .device_process import free_sip_port
from .sipp import free_port


@dataclass
class Recorder:
    """Every event the device published, with a way to wait for one."""

    events: list[Event] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    def line(self, number: int) -> list[LineStatusChanged]:
        return [e for e in self.events if isinstance(e, LineStatusChanged) and e.line == number]

    async def wait_for(
        self, test: Callable[[Event], bool], timeout: float, what: str, after: int = 0
    ) -> Event:
        """The first event from position ``after`` on that passes ``test``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = after
        while True:
            for event in self.events[seen:]:
                if test(event):
                    return event
            seen = max(seen, len(self.events))
            remaining = deadline - loop.time()
            if remaining <= 0:
                history = "\n".join(str(e) for e in self.events if isinstance(e, LineStatusChanged))
                raise AssertionError(
                    f"timed out after {timeout} s waiting for {what}; line events:\n{history}"
                )
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def line_status(
        self, number: int, status: str, timeout: float = 10.0, after: int = 0
    ) -> LineStatusChanged:
        def match(event: Event) -> bool:
            return isinstance(event, LineStatusChanged) and event.line == number and event.status == status

        found = await self.wait_for(match, timeout, f"SIP{number} {status}", after)
        assert isinstance(found, LineStatusChanged)
        return found


@dataclass
class RunningDevice:
    device: Device
    events: Recorder
    sip_port: int

    @property
    def sip(self) -> SipService:
        service = next(s for s in self.device.services if isinstance(s, SipService))
        return service

    @property
    def calls(self) -> CallManager:
        manager = self.sip.calls
        assert manager is not None, "the SIP service is not running"
        return manager

    async def call_state(self, state: str, timeout: float = 10.0, after: int = 0) -> CallStateChanged:
        def match(event: Event) -> bool:
            return isinstance(event, CallStateChanged) and event.state == state

        found = await self.events.wait_for(match, timeout, f"a call {state}", after)
        assert isinstance(found, CallStateChanged)
        return found

    def digits(self) -> str:
        return "".join(e.digit for e in self.events.events if isinstance(e, DtmfReceived))

    async def set(self, values: Mapping[str, Any]) -> None:
        await self.device.apply_settings({find(k): from_text(find(k), str(v)) for k, v in values.items()})


@asynccontextmanager
async def running_device(
    data_dir: Path,
    values: Mapping[str, Any],
    *,
    t1: float = 0.05,
    audio_in: str | None = None,
    audio_out: str | None = None,
) -> AsyncIterator[RunningDevice]:
    """Start a device whose settings are ``values`` (Fanvil keys or schema paths -> text).

    ``audio_in``/``audio_out`` are the ``--audio-in``/``--audio-out`` of ``portier run`` (e.g.
    ``tone:440``, ``wav:/dir``). RTP ports come from a range of their own per device.
    """
    port = free_sip_port()  # UDP/TCP P and TLS P+1 free
    http = free_port("tcp")
    while http in (port, port + 1):
        http = free_port("tcp")
    options = RuntimeOptions(
        http=("127.0.0.1", http),  # never the default 0.0.0.0:80 (network hygiene)
        sip_port=port,
        sip_host="127.0.0.1",
        sip_t1=t1,
        audio_in=audio_in,
        audio_out=audio_out,
    )
    device = Device(data_dir, options)
    if values:
        device.settings.update({find(k): from_text(find(k), str(v)) for k, v in values.items()})
    recorder = Recorder()
    device.bus.subscribe(Event, recorder)
    await device.start()
    try:
        yield RunningDevice(device, recorder, port)
    finally:
        await asyncio.wait_for(device.stop(), 15)


def line_values(
    number: int, user: str, password: str, port: int, transport: str = "UDP", **extra: Any
) -> dict[str, Any]:
    """Settings that register line ``number`` as ``user`` at 127.0.0.1:``port``."""
    values: dict[str, Any] = {
        f"SIP{number} Enable Reg": 1,
        f"SIP{number} Phone Number": user,
        f"SIP{number} Register Pswd": password,
        f"SIP{number} Register Addr": "127.0.0.1",
        f"SIP{number} Register Port": port,
        f"lines.sip{number}.server1.transport": transport,
        "Reg Fail Interval": 1,
    }
    values.update(extra)
    return values
