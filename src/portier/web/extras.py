"""What some settings pages show below their form: the call log, the device log, the packet capture.

Each extra is a template (``templates/_<name>.html``) and the function that reads its data from
the running device; a page names its extra in :mod:`.menu`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portier.device import Device
from portier.services.capture import CaptureService
from portier.services.device_log import DeviceLogService

CALL_LOG_ROWS = 200
"""Newest calls the page lists (the log keeps up to 1000)."""
FIRST_LOG_LINES = 200


def when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else ""


def duration(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def size(octets: int) -> str:
    return f"{octets} bytes" if octets < 10_000 else f"{octets / 1024:.0f} KiB"


def _running(device: Device, name: str) -> Any:
    try:
        return device.service(name)
    except LookupError:
        return None


@dataclass(frozen=True)
class CallRow:
    direction: str
    remote: str
    line: str
    time: str
    duration: str


def call_log(device: Device) -> dict[str, Any]:
    service = _running(device, "call-log")
    if service is None:
        return {"calls": None}
    rows = [
        CallRow(record.direction.value, record.remote, record.line, when(record.started),
                duration(record.duration) if record.duration else "")
        for _, record in service.records()[:CALL_LOG_ROWS]
    ]  # fmt: skip
    return {"calls": rows}


def device_log(device: Device) -> dict[str, Any]:
    service = _running(device, "device-log")
    if not isinstance(service, DeviceLogService):
        return {"log": None}
    recording = service.recording()
    lines = service.lines()[-FIRST_LOG_LINES:]
    return {
        "log": recording, "log_lines": lines, "log_after": lines[-1].id if lines else 0,
        "log_started": when(recording.started), "log_size": size(recording.size),
    }  # fmt: skip


def capture(device: Device) -> dict[str, Any]:
    service = _running(device, "capture")
    if not isinstance(service, CaptureService):
        return {"capture": None}
    status = service.status()
    return {"capture": status, "capture_started": when(status.started), "capture_size": size(status.size)}


EXTRAS: dict[str, Callable[[Device], dict[str, Any]]] = {
    "call_log": call_log,
    "device_log": device_log,
    "capture": capture,
}
