"""The alarm message of the inputs and the tamper switch (manual 9.31, Table 27), and where it goes.

The text is Fanvil's: ``Alarm_Info:Description=A12;SIP User=;Mac=0c:38:3e:3a:06:65;IP=;port=Input``,
with the model, line 1's user, the MAC with colons, the device's address and the port that
fired (``Input1``, ``Input2``, ``Tamper``). "Input & Tamper Server Address" is either
``IP:port`` (one UDP datagram carries the text) or a SIP number or URI (a SIP MESSAGE over line 1).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class UdpTarget:
    host: str
    port: int


@dataclass(frozen=True)
class SipTarget:
    """A number (dialled on line 1's domain), ``user@host`` or a ``sip:``/``sips:`` URI."""

    target: str


def port_name(number: int) -> str:
    """The ``port=`` value: ``Input1``, ``Input2``, or ``Tamper`` for input 0."""
    return "Tamper" if number == 0 else f"Input{number}"


def mac_with_colons(mac: str) -> str:
    """``0c383e3a0665`` -> ``0c:38:3e:3a:06:65`` (any separators in ``mac`` are dropped first)."""
    digits = re.sub(r"[^0-9A-Fa-f]", "", mac).lower()
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def alarm_text(*, model: str, user: str, mac: str, ip: str, port: str) -> str:
    return f"Alarm_Info:Description={model};SIP User={user};Mac={mac_with_colons(mac)};IP={ip};port={port}"


def alarm_target(address: str) -> UdpTarget | SipTarget | None:
    """Where the alarm goes; None when the address is empty (nothing is sent).

    ``IP:port`` (or ``host:port``, ``[v6]:port``) is UDP; anything with ``sip:``, an ``@`` or no
    port is SIP. Raises ValueError with the reason for a port out of range.
    """
    text = address.strip()
    if not text:
        return None
    match = _HOST_PORT.match(text)
    if match is None or text.lower().startswith(("sip:", "sips:")) or match["host"].isdigit():
        return SipTarget(text)
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise ValueError(f"`Input & Tamper Server Address` {text!r}: port {port} is not in 1-65535")
    host = match["host"].strip("[]")
    if match["host"].startswith("["):
        ipaddress.IPv6Address(host)  # raises ValueError naming the bad address
    return UdpTarget(host, port)
