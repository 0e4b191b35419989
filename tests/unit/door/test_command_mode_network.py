"""Three presses in command mode (manual 5.2.1, Table 1): which Network Mode results, what is said."""

from __future__ import annotations

import pytest

from portier.door.command_mode import STATIC_ADDRESS, NetworkSwitch, network_switch
from portier.settings.network import NetworkMode


@pytest.mark.parametrize("mode", [NetworkMode.DHCP, NetworkMode.PPPOE])
def test_an_address_from_the_network_is_kept_and_announced(mode: NetworkMode) -> None:
    """ "When DHCP gets to IP, then do not switch and report the IP directly." """
    assert network_switch(mode, "192.0.2.10") == NetworkSwitch(None, None, "192.0.2.10")


@pytest.mark.parametrize("mode", [NetworkMode.DHCP, NetworkMode.PPPOE])
def test_no_address_switches_to_the_default_static_address(mode: NetworkMode) -> None:
    """ "If there is no IP at present, switch to the default static IP (192.168.1.128)." """
    assert STATIC_ADDRESS == "192.168.1.128"
    assert network_switch(mode, None) == NetworkSwitch(NetworkMode.STATIC, "192.168.1.128", "192.168.1.128")


@pytest.mark.parametrize("address", ["192.0.2.10", None])
def test_the_default_static_address_switches_to_dhcp(address: str | None) -> None:
    """ "Then switch to DHCP mode when it is the default static IP"; the address it has is said. The
    decision reads the mode only, so any other static address leads to DHCP as well."""
    assert network_switch(NetworkMode.STATIC, address) == NetworkSwitch(NetworkMode.DHCP, None, address)
