"""The indicator LEDs (manual Table 2): which pattern each shows for the device's state.

- ``net`` (SIP/NET, green): on while the network is normal, fast flash when it is not.
- ``sip`` (SIP/NET, red): off when registered, fast flash when a registration failed, slow
  flash during a call (a call wins: it is what a visitor at the door needs to see).
- ``output`` (green): on while any relay output is triggered.

:func:`led_patterns` decides from plain facts; :func:`network_up` is the one probe of the host
(its routing table), read by the service now and then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

LEDS = ("net", "sip", "output")
PATTERNS = ("on", "off", "fast", "slow")
FAILED = frozenset({"Failed", "Timeout"})
_RTF_UP = 0x1


@dataclass(frozen=True)
class LedFacts:
    network_up: bool = True
    lines: Mapping[int, str] = field(default_factory=dict)
    """Line number -> last registration status (LineStatusChanged)."""
    in_call: bool = False
    output_active: bool = False


def led_patterns(facts: LedFacts) -> dict[str, str]:
    network = facts.network_up or "Registered" in facts.lines.values()
    if facts.in_call:
        sip = "slow"
    elif any(status in FAILED for status in facts.lines.values()):
        sip = "fast"
    else:
        sip = "off"
    return {"net": "on" if network else "fast", "sip": sip, "output": "on" if facts.output_active else "off"}


def network_up(proc_net: Path = Path("/proc/net")) -> bool:
    """Whether the host has a usable default route (IPv4 or IPv6) on an interface other than ``lo``.

    Where there is no Linux routing table to read, the answer is True: unknown is not "abnormal".
    """
    try:
        for line in (proc_net / "route").read_text().splitlines()[1:]:
            fields = line.split()
            default = len(fields) > 3 and fields[1] == "00000000"
            if default and fields[0] != "lo" and int(fields[3], 16) & _RTF_UP:
                return True
    except (OSError, ValueError):
        pass
    try:
        for line in (proc_net / "ipv6_route").read_text().splitlines():
            fields = line.split()
            default = len(fields) >= 10 and fields[0] == "0" * 32 and fields[1] == "00"
            if default and fields[9] != "lo" and int(fields[8], 16) & _RTF_UP:
                return True
    except (OSError, ValueError):
        pass
    return not (proc_net / "route").exists() and not (proc_net / "ipv6_route").exists()
