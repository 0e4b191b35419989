"""A real portier device with its web server on 127.0.0.1, running in a thread of its own.

Why a thread with its own event loop, and not the test's loop: the device then serves the browser
(and any HTTP client) whatever the test does meanwhile, as on a network, and any kind of test can
use it: async tests in any loop scope, sync tests, Playwright. The device itself still runs as
deployed, with SIP, RTP and the web server on one loop.

The web state's clock is a :class:`TestClock` the test moves (``advance``): that is how the
5-minute login lock and the 15-minute session timeout are tested without waiting. It is set on
the running web service from inside this process; nothing over HTTP can change it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from portier.device import Device, RuntimeOptions
from portier.settings.document import find
from portier.settings.values import from_text
from portier.web.service import WebService

from ..interop.device_process import free_sip_port
from ..interop.sipp import free_port

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 30.0


class TestClock:
    """Monotonic time plus an offset the test moves forward."""

    __test__ = False

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class WebDevice:
    """Start with :meth:`start`, end with :meth:`stop` (both bounded in time)."""

    def __init__(self, data_dir: Path, values: Mapping[str, Any] | None = None) -> None:
        self.data_dir = data_dir
        self.values = dict(values or {})
        self.sip_port = free_sip_port()  # UDP/TCP P and TLS P+1 free
        self.http_port = free_port("tcp")
        while self.http_port in (self.sip_port, self.sip_port + 1):
            self.http_port = free_port("tcp")
        self.clock = TestClock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="portier-web-device", daemon=True)
        self._device: Device | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"

    @property
    def device(self) -> Device:
        assert self._device is not None, "the device is not started"
        return self._device

    @property
    def web(self) -> WebService:
        service = self.device.service("web")
        assert isinstance(service, WebService)
        return service

    def start(self) -> WebDevice:
        self._thread.start()

        async def boot() -> Device:
            options = RuntimeOptions(
                http=(LOOPBACK, self.http_port), sip_port=self.sip_port, sip_host=LOOPBACK, sip_t1=0.05
            )
            device = Device(self.data_dir, options)
            if self.values:
                device.settings.update({find(k): from_text(find(k), str(v)) for k, v in self.values.items()})
            await device.start()
            return device

        self._device = self.run(boot(), START_TIMEOUT)
        self.install_clock()
        return self

    def wait_restarted(self, before: WebService, timeout: float = 20.0) -> None:
        """Wait until a reboot or factory reset has replaced the web service ``before`` and the new one
        listens; then give it the test clock."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                web = self.web
            except LookupError:  # stopped, not started again yet
                web = before
            if web is not before and web.urls and not web.moving:
                break
            assert time.monotonic() < deadline, f"the device did not come back within {timeout} s"
            time.sleep(0.05)
        self.install_clock()

    def install_clock(self) -> None:
        """Give the (current) web service the test clock; needed again after a reboot."""
        self.web.state.clock = self.clock

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        """Run ``coroutine`` on the device's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def call(self, function: Callable[[], T], timeout: float = 20.0) -> T:
        """Run a plain function on the device's loop (storage and settings are used from there)."""

        async def wrapper() -> T:
            return function()

        return self.run(wrapper(), timeout)

    def set(self, values: Mapping[str, Any]) -> None:
        """Change settings (Fanvil keys or schema paths -> text) on the running device."""
        parsed = {find(k): from_text(find(k), str(v)) for k, v in values.items()}
        self.run(self.device.apply_settings(parsed))

    def get(self, key: str) -> Any:
        from portier.settings.document import get

        return self.call(lambda: get(self.device.settings.current, find(key)))

    def stop(self) -> None:
        try:
            if self._device is not None:
                self.run(asyncio.wait_for(self._device.stop(), 15), 20)
                self._device.storage.close()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            if not self._thread.is_alive():
                self._loop.close()
