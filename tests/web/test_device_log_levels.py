"""The Device Log Level reaches below the process's own log level without changing what the console
shows: a device whose log keeps INFO, in a process logging WARNING and above, records INFO lines in its
log while a handler that was there before still sees only what it saw before (and a logger someone set
to INFO on purpose still reaches it). Its own module: no other device may be running meanwhile."""

from __future__ import annotations

import logging
from pathlib import Path

from portier.services.device_log import DeviceLogService

from ..interop.device import running_device


class Console(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_the_device_log_level_leaves_the_console_as_it_was(tmp_path: Path) -> None:
    root, portier = logging.getLogger(), logging.getLogger("portier")
    chosen = logging.getLogger("portier.chosen")
    console = Console()
    before = root.level, portier.level, chosen.level
    root.setLevel(logging.WARNING)
    portier.setLevel(logging.NOTSET)
    chosen.setLevel(logging.INFO)
    root.addHandler(console)
    try:
        async with running_device(tmp_path / "dut", {"Device Log Level": "INFO"}) as dut:
            service = dut.device.service("device-log")
            assert isinstance(service, DeviceLogService)
            logging.getLogger("portier.quiet").info("for the device log only")
            chosen.info("for both")
            logging.getLogger("portier.quiet").warning("a warning for both")
            logged = [line.text for line in service.lines()]
        assert portier.level == logging.NOTSET and console.filters == [], "put back when the device stops"
    finally:
        root.removeHandler(console)
        root.setLevel(before[0])
        portier.setLevel(before[1])
        chosen.setLevel(before[2])
    assert any(text.endswith("INFO portier.quiet: for the device log only") for text in logged), logged
    assert any(text.endswith("INFO portier.chosen: for both") for text in logged)
    assert "for the device log only" not in console.messages
    assert "for both" in console.messages and "a warning for both" in console.messages
