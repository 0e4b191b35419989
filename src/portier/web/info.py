"""System >> Information (manual 9.2): the device, the host's network and memory, the SIP lines.

The readers of ``/proc`` are split into pure parsers (tested with sample text) and small readers
that return "unknown" off Linux or in a container that hides the files.
"""

from __future__ import annotations

import contextlib
import fcntl
import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from portier import MODEL, __version__
from portier.device import Device
from portier.phone.sip_service import device_mac

HARDWARE_VERSION = "virtual"
"""portier runs on whatever board the host is; there is no hardware revision to report."""

_SIOCGIFADDR = 0x8915
_SIOCGIFNETMASK = 0x891B


@dataclass(frozen=True)
class LineRow:
    line: str
    user: str
    status: str
    server: str
    detail: str


def parse_default_route(text: str) -> tuple[str, str] | None:
    """(interface, gateway) of the IPv4 default route in ``/proc/net/route`` text."""
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "00000000":
            gateway = socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
            return fields[0], gateway
    return None


def parse_meminfo(text: str) -> dict[str, int]:
    """``/proc/meminfo`` (or ``/proc/self/status``) fields given in kB, as kB."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            values[name.strip()] = int(parts[0])
    return values


def duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    text = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return f"{days} d {text}" if days else text


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _interface_address(name: str, request: int) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        packed = fcntl.ioctl(sock.fileno(), request, struct.pack("256s", name[:15].encode()))
    return socket.inet_ntoa(packed[20:24])


def _mac() -> str:
    raw = device_mac()
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


def system_rows(device: Device) -> list[tuple[str, str]]:
    memory = parse_meminfo(_read("/proc/meminfo"))
    own = parse_meminfo(_read("/proc/self/status"))
    started = device.started_at
    mem = "unknown"
    if "MemTotal" in memory:
        mem = f"{memory.get('MemAvailable', 0) // 1024} MB free of {memory['MemTotal'] // 1024} MB"
        if "VmRSS" in own:
            mem += f"; portier uses {own['VmRSS'] // 1024} MB"
    return [
        ("Model", MODEL),
        ("Hardware Version", HARDWARE_VERSION),
        ("Software Version", __version__),
        ("Uptime", duration(time.time() - started) if started else "not started"),
        ("MEMInfo", mem),
        ("System Time", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
    ]


def network_rows(device: Device) -> list[tuple[str, str]]:
    route = parse_default_route(_read("/proc/net/route"))
    address = mask = "unknown"
    gateway = "none"
    if route is not None:
        interface, gateway = route
        with contextlib.suppress(OSError):
            address = _interface_address(interface, _SIOCGIFADDR)
            mask = _interface_address(interface, _SIOCGIFNETMASK)
    mode = device.settings.current.network.basic.mode.name
    return [
        ("Network Mode", f"{mode} (as configured; the host's own tools set the address)"),
        ("MAC Address", _mac()),
        ("IP", address),
        ("Subnet Mask", mask),
        ("Default Gateway", gateway),
    ]


def line_rows(device: Device) -> list[LineRow]:
    settings = device.settings.current.lines
    try:
        states = device.service("sip").line_states()
    except LookupError:
        return [LineRow(f"SIP{n}", "", "SIP service not running", "", "") for n in (1, 2)]
    rows = []
    for state in states:
        line = getattr(settings, f"sip{state.line}")
        detail = state.reason or (f"public address {state.public}" if state.public else "")
        rows.append(LineRow(f"SIP{state.line}", line.username, str(state.status), state.server, detail))
    return rows
