"""Security >> Web filter (manual 9.26): only addresses inside the allowed ranges reach the web server.

The check runs on every HTTP(S) request, before anything else. A change that would shut out the
browser making it (enabling the filter without its address in a range, deleting or clearing the
range it is in, importing a file that enables it) is refused with a sentence that says why: the
manual warns of that trap, and on a door station it means a ladder and a factory reset.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from portier.settings.records import WebFilterRange
from portier.storage import Storage

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def in_ranges(client: str, ranges: Iterable[WebFilterRange]) -> bool:
    """Whether ``client`` lies inside one of the (inclusive) ranges; IPv4-mapped IPv6 counts as IPv4."""
    address = _address(client)
    if address is None:
        return False
    for allowed in ranges:
        start, end = _address(allowed.start_ip), _address(allowed.end_ip)
        if start is None or end is None or start.version != address.version:
            continue
        if start <= address <= end:  # type: ignore[operator]
            return True
    return False


def allows(enabled: bool, ranges: Iterable[WebFilterRange], client: str) -> bool:
    return not enabled or in_ranges(client, ranges)


def ranges(storage: Storage) -> list[WebFilterRange]:
    return [row for _, row in storage.rows(WebFilterRange)]


def lockout_problem(enabled: bool, ranges: Iterable[WebFilterRange], client: str) -> str | None:
    """Why a web filter of ``enabled`` and ``ranges`` would lock out ``client``, or None if it would not."""
    if allows(enabled, ranges, client):
        return None
    return (
        f"this change would lock your browser out: the web filter would be on and your address {client} "
        "is in none of its allowed ranges. Add a range that holds your address first, or leave the filter "
        "off."
    )


def range_problem(start: str, end: str) -> str | None:
    """A range whose start lies above its end (or whose ends differ in IP version) matches nothing."""
    first, last = _address(start), _address(end)
    if first is None or last is None:
        return None  # the record's own validation names the bad address
    if first.version != last.version or first > last:  # type: ignore[operator]
        return f"the start address {start} lies above the end address {end}; swap them"
    return None
