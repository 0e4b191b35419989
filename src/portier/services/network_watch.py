"""The device's own address, and noticing when it changes (service "network").

Several features need "the device's IP": Action URL's ``$ip`` and its "IP Changed" URL (manual 9.19,
Table 20), and command mode's three presses (Table 1), which switch the network mode only when the
device has no address. The address is:

- the address SIP is bound to, when ``--sip-host`` names one (it cannot change under portier);
- else the source address the kernel picks for the default route: a connected UDP socket toward a
  documentation address (``ROUTE_PROBES``, RFC 5737 / RFC 3849) asks the routing table and sends
  nothing;
- None when there is no such route, or only loopback answers (no network at all).

Why rtnetlink and not a timer: a DHCP lease or a cable moved to another network should be reported
when it happens, and a socket on the kernel's address and route multicast groups
(``RTMGRP_*``) wakes the loop only then (``loop.add_reader``, no dependency). One ``ip addr add``
brings a burst of messages (the address, then its local, broadcast and prefix routes), so a look
is taken ``DEBOUNCE`` seconds after the first of them, and only a different answer is news
(``AddressChanged``). Where netlink is unavailable (not Linux, a sandbox without ``AF_NETLINK``) the
address is polled every ``POLL_INTERVAL`` seconds instead. Nothing is ever sent on the network.

The message parsing (``netlink_types``, ``worth_a_look``) and the decision (``address_change``)
are pure functions; the service is their edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING

from portier.events import AddressChanged
from portier.settings.declare import Leaf
from portier.sip.agent import local_ip_toward

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

WILDCARDS = ("", "0.0.0.0", "::")
ROUTE_PROBES = ("192.0.2.1", "2001:db8::1")
"""TEST-NET-1 and the IPv6 documentation prefix: the route toward them is the default route (or a
more specific one the network really has), and a connected UDP socket sends nothing."""

NETLINK_ROUTE = 0
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
GROUPS = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE
NLMSG_OVERRUN = 4
RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE = 20, 21, 24, 25
CHANGES = {
    RTM_NEWADDR: "address added",
    RTM_DELADDR: "address removed",
    RTM_NEWROUTE: "route added",
    RTM_DELROUTE: "route removed",
}
"""The rtnetlink messages after which the device's address may be different."""
_HEADER = struct.Struct("=IHHII")
"""struct nlmsghdr: length, type, flags, sequence, port id (host byte order)."""
_READS_PER_WAKE = 64


def is_fixed(bound: str | None) -> bool:
    """Whether SIP is bound to one address (which then is the device's address)."""
    return bound is not None and bound not in WILDCARDS


def device_address(bound: str | None) -> str | None:
    """The address the device is reached at: the bound SIP address, else the default route's source
    address, else None (no route: ``local_ip_toward`` then answers with loopback)."""
    if is_fixed(bound):
        return bound
    for probe in ROUTE_PROBES:
        found = local_ip_toward(probe)
        try:
            address = ipaddress.ip_address(found)
        except ValueError:
            continue
        if not (address.is_loopback or address.is_unspecified):
            return found
    return None


def netlink_types(data: bytes) -> list[int]:
    """The message types in one datagram read from a netlink socket, in order. A message whose
    length is impossible (shorter than its header, longer than what is left) ends the reading."""
    types: list[int] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, kind, _flags, _seq, _port = _HEADER.unpack_from(data, offset)
        if length < _HEADER.size or offset + length > len(data):
            break
        types.append(kind)
        offset += (length + 3) & ~3  # NLMSG_ALIGN
    return types


def worth_a_look(types: Iterable[int]) -> bool:
    """Whether the address should be looked at again: an address or route changed, or the kernel
    dropped messages (overrun), so something may have."""
    return any(kind in CHANGES or kind == NLMSG_OVERRUN for kind in types)


def address_change(last: str | None, now: str | None) -> AddressChanged | None:
    """The event to publish when the address looked up ``now`` is not the ``last`` one."""
    return AddressChanged(last, now) if now != last else None


def open_netlink() -> socket.socket:
    """A non-blocking rtnetlink socket on the address and route groups; OSError where there is none."""
    family = getattr(socket, "AF_NETLINK", None)
    if family is None:
        raise OSError("this platform has no netlink sockets")
    sock = socket.socket(family, socket.SOCK_RAW, NETLINK_ROUTE)
    try:
        sock.bind((0, GROUPS))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class NetworkWatch:
    """Service "network": ``address`` is the device's address now; ``AddressChanged`` tells changes."""

    name = "network"
    watches: tuple[str, ...] = ()

    DEBOUNCE = 0.3
    """Seconds from the first netlink message of a burst to the look at the address."""
    POLL_INTERVAL = 10.0
    """Seconds between looks where netlink is unavailable."""

    def __init__(self, device: Device) -> None:
        self._device = device
        self._bound = device.options.sip_host
        self._address: str | None = None
        self._socket: socket.socket | None = None
        self._pending: asyncio.TimerHandle | None = None
        self._poll: asyncio.Task[None] | None = None
        self.method = ""
        """How changes are noticed: "netlink", "poll", or "bound" (a fixed address needs no watching)."""

    @property
    def address(self) -> str | None:
        return self._address

    async def start(self) -> None:
        self._address = device_address(self._bound)
        if is_fixed(self._bound):
            self.method = "bound"
        else:
            try:
                self._socket = open_netlink()
            except OSError as exc:
                self.method = "poll"
                log.info(
                    "network: no rtnetlink (%s); the address is looked at every %g s", exc, self.POLL_INTERVAL
                )
                self._poll = asyncio.create_task(self._polling(), name="network-poll")
            else:
                self.method = "netlink"
                asyncio.get_running_loop().add_reader(self._socket.fileno(), self._readable)
        log.info("network: the device's address is %s (%s)", self._address or "none", self.method)

    async def stop(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closing
                asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._poll is not None:
            self._poll.cancel()
            await asyncio.gather(self._poll, return_exceptions=True)
            self._poll = None

    async def apply(self, changed: list[Leaf]) -> None:
        return None

    def check(self) -> None:
        """Look at the address now; publish ``AddressChanged`` when it differs from the last one."""
        now = device_address(self._bound)
        change = address_change(self._address, now)
        if change is None:
            return
        self._address = now
        log.info("network: the device's address changed from %s to %s", change.old or "none", now or "none")
        self._device.bus.publish(change)

    def _readable(self) -> None:
        sock = self._socket
        if sock is None:
            return
        look = False
        for _ in range(_READS_PER_WAKE):
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                break
            except OSError as exc:  # ENOBUFS: the kernel dropped messages; something may have changed
                log.debug("network: netlink read failed (%s); looking at the address", exc)
                look = True
                break
            look = look or worth_a_look(netlink_types(data))
        if look and self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.DEBOUNCE, self._settled)

    def _settled(self) -> None:
        self._pending = None
        self.check()

    async def _polling(self) -> None:
        while True:
            await asyncio.sleep(self.POLL_INTERVAL)
            self.check()


def current_address(device: Device) -> str | None:
    """The device's address: the running watcher's, else looked up now (a device not started)."""
    try:
        watch = device.service("network")
    except LookupError:
        return device_address(device.options.sip_host)
    if isinstance(watch, NetworkWatch):
        return watch.address
    return device_address(device.options.sip_host)
