"""The network watcher's pure half: reading rtnetlink datagrams and deciding what is news.

Two messages below are real: what Linux sent a socket on the RTMGRP address and route groups for
``ip addr add 192.0.2.10/24 dev veth0`` and ``ip route add default dev veth0`` in a network
namespace (x86-64, host byte order, as the watcher reads them).
"""

from __future__ import annotations

import struct

import pytest

from portier.events import AddressChanged
from portier.services.network_watch import (
    NLMSG_OVERRUN,
    RTM_DELADDR,
    RTM_DELROUTE,
    RTM_NEWADDR,
    RTM_NEWROUTE,
    address_change,
    device_address,
    is_fixed,
    netlink_types,
    worth_a_look,
)

NEWADDR_192_0_2_10 = bytes.fromhex(
    "50000000140000005943086b9e220000021880000300000008000100c000020a08000200c000020a0a0003007665746830"
    "000000080008008000000014000600ffffffffffffffffb8870000b8870000"
)
NEWROUTE_DEFAULT = bytes.fromhex(
    "2c000000180000065943086b9f22000002000000fe03fd010000000008000f00fe0000000800040003000000"
)
NLMSG_NOOP, NLMSG_DONE, RTM_NEWLINK = 1, 3, 16


def message(kind: int, payload: bytes = b"", length: int | None = None) -> bytes:
    """One netlink message: nlmsghdr (host byte order) and ``payload``, padded to 4 bytes."""
    size = 16 + len(payload) if length is None else length
    raw = struct.pack("=IHHII", size, kind, 0, 0, 0) + payload
    return raw + b"\0" * (-len(raw) % 4)


def test_real_kernel_messages() -> None:
    assert netlink_types(NEWADDR_192_0_2_10) == [RTM_NEWADDR]
    assert netlink_types(NEWROUTE_DEFAULT) == [RTM_NEWROUTE]
    assert netlink_types(NEWADDR_192_0_2_10 + NEWROUTE_DEFAULT) == [RTM_NEWADDR, RTM_NEWROUTE]
    assert "c000020a" in NEWADDR_192_0_2_10.hex(), "192.0.2.10 is in it (IFA_ADDRESS)"


def test_several_messages_in_one_datagram_with_padding() -> None:
    data = message(RTM_DELADDR, b"\1\2\3") + message(RTM_DELROUTE, b"\1" * 8) + message(NLMSG_DONE)
    assert netlink_types(data) == [RTM_DELADDR, RTM_DELROUTE, NLMSG_DONE]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", []),
        (b"\x50\0\0\0\x14\0", []),  # shorter than a header
        (message(RTM_NEWADDR, b"x" * 8, length=200), []),  # claims more than the datagram holds
        (message(RTM_NEWADDR, length=8), []),  # claims less than its own header
        (message(RTM_NEWROUTE) + message(RTM_NEWADDR, length=4), [RTM_NEWROUTE]),  # good, then junk
        (message(RTM_NEWROUTE) + b"\1\2\3", [RTM_NEWROUTE]),  # a torn tail is ignored
    ],
)
def test_impossible_lengths_end_the_reading(data: bytes, expected: list[int]) -> None:
    assert netlink_types(data) == expected


@pytest.mark.parametrize(
    ("types", "look"),
    [
        ([RTM_NEWADDR], True),
        ([RTM_DELADDR], True),
        ([RTM_NEWROUTE], True),
        ([RTM_DELROUTE], True),
        ([NLMSG_OVERRUN], True),  # messages were lost: anything may have changed
        ([RTM_NEWLINK], False),  # a link going up is followed by its addresses and routes
        ([NLMSG_NOOP, NLMSG_DONE], False),
        ([], False),
    ],
)
def test_what_is_worth_a_look(types: list[int], look: bool) -> None:
    assert worth_a_look(types) is look


def test_only_a_different_address_is_news() -> None:
    assert address_change("192.0.2.10", "192.0.2.10") is None
    assert address_change(None, None) is None
    assert address_change("192.0.2.10", "198.51.100.20") == AddressChanged("192.0.2.10", "198.51.100.20")
    assert address_change("198.51.100.20", None) == AddressChanged("198.51.100.20", None)
    assert address_change(None, "192.0.2.30") == AddressChanged(None, "192.0.2.30")


def test_a_bound_address_is_the_device_address_and_needs_no_watching() -> None:
    assert is_fixed("10.20.30.40") and is_fixed("fd00::7") and is_fixed("127.0.0.1")
    assert not any(is_fixed(wildcard) for wildcard in (None, "", "0.0.0.0", "::"))
    assert device_address("10.20.30.40") == "10.20.30.40"
    assert device_address("fd00::7") == "fd00::7"
