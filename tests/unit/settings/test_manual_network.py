"""Network menu rows against the manual (9.1, 9.8-9.11, Tables 5, 12, 13, 14, Picture 24)."""

from __future__ import annotations

import pytest

from portier.settings.declare import index
from portier.settings.network import (
    DhcpVlanOption,
    DnsSource,
    Dot1xMode,
    NetworkMode,
    VpnMode,
    WebServerType,
)
from portier.settings.schema import Settings
from tests.unit.settings.manual import assert_row, row


def test_table_12_network_basic() -> None:
    p = "network.basic."
    assert_row(p + "mode", label="Network Mode", default=NetworkMode.DHCP, key="WAN TYPE")
    assert {m.name for m in NetworkMode} == {"STATIC", "DHCP", "PPPOE"}
    assert_row(p + "ip", label="IP Address", key="WAN IP")
    assert_row(p + "subnet_mask", label="Subnet Mask", default="255.255.255.0", key="WAN Subnet Mask")
    assert_row(p + "gateway", label="Default Gateway", key="WAN Gateway")
    assert_row(p + "dns_mode", label="DNS Server Configured by", default=DnsSource.DHCP, key="DHCP Auto DNS")
    assert {m.name for m in DnsSource} == {"DHCP", "MANUAL"}
    assert_row(p + "primary_dns", label="Primary DNS Server", default="", key="Primary DNS")
    assert_row(p + "secondary_dns", label="Secondary DNS Server", default="", key="Secondary DNS")
    assert_row(p + "pppoe_user", label="PPPoE Account", default="", key="PPPoE User")
    assert_row(p + "pppoe_password", label="PPPoE Password", default="", key="PPPoE Password")
    assert row(p + "pppoe_password").secret
    for leaf in index(Settings).values():
        if leaf.dotted.startswith(p):
            assert leaf.module == "NET CONFIG MODULE"
            assert leaf.extra("host") == "the OS network stack (NetworkManager/ifupdown)"


def test_table_5_default_configuration() -> None:
    assert_row("network.basic.mode", default=NetworkMode.DHCP)
    assert_row("network.basic.ip", default="192.168.1.128")
    assert_row("network.ports.http_port", default=80)


def test_table_13_service_port() -> None:
    p = "network.ports."
    assert_row(p + "web_server_type", label="Web server type", default=WebServerType.HTTP,
               key="Web Server Type")
    assert {m.name for m in WebServerType} == {"HTTP", "HTTPS"}
    assert_row(p + "web_login_timeout", label="Web login timeout", default=15, unit="min", ge=1,
               key="Logon Timeout")
    assert_row(p + "web_auto_login", label="Web page automatic login", default=False)
    assert_row(p + "http_port", label="HTTP port", default=80, ge=1, le=65535, key="Web Port")
    assert_row(p + "https_port", label="HTTPS port", default=443, ge=1, le=65535, key="Https Web Port")
    assert_row(p + "rtp.start", label="RTP port start range", default=10000, ge=1025, le=65535,
               key="RTP Initial Port")
    assert_row(p + "rtp.quantity", label="RTP port quantity", default=1000, key="RTP Port Quantity")
    assert row(p + "http_port").module == "MMI CONFIG MODULE"
    assert row(p + "rtp.start").module == "MM CONFIG MODULE"


def test_section_9_1_web_login_lockout() -> None:
    assert_row("network.ports.login_attempts", label="Login attempts", default=3, ge=1)
    assert_row("network.ports.lock_time", label="Lock time", default=5, unit="min", ge=1)


def test_section_9_10_vpn() -> None:
    p = "network.vpn."
    assert_row(p + "enable", label="Enable VPN", default=False, key="Enable VPN")
    assert_row(p + "mode", label="VPN Mode", default=VpnMode.L2TP, key="VPN mode")
    assert {m.name for m in VpnMode} == {"L2TP", "OPENVPN"}
    assert_row(p + "l2tp_server", label="L2TP Server Address", default="", key="L2TP Server Address")
    assert_row(p + "l2tp_user", label="Authentication Username", default="", key="L2TP User Name")
    assert_row(p + "l2tp_password", label="Authentication Password", default="", key="L2TP Password")
    assert row(p + "l2tp_password").secret
    for leaf in index(Settings).values():
        if leaf.dotted.startswith(p):
            assert leaf.module == "VPN CONFIG MODULE"
            assert leaf.extra("host") == "the OS VPN client (xl2tpd / openvpn)"


def test_table_14_picture_24_lldp_cdp() -> None:
    p = "network.advanced."
    assert_row(p + "lldp.enable", label="Enable LLDP", default=True, key="LLDP Transmit")
    assert_row(p + "lldp.learning", label="Enable Learning Function", default=True, key="LLDP Learn Policy")
    assert_row(p + "lldp.interval", label="Packet Interval", default=60, unit="s", key="LLDP Refresh Time")
    assert_row(p + "cdp.enable", label="Enable CDP", default=False, key="CDP Enable")
    assert_row(p + "cdp.interval", label="Packet Interval", default=60, unit="s", key="CDP Refresh Time")


def test_table_14_picture_24_dhcp_vlan() -> None:
    p = "network.advanced.dhcp_vlan."
    assert_row(p + "option_value", label="Option Value", default=DhcpVlanOption.DISABLED)
    assert_row(p + "option", label="DHCP Option Vlan", ge=128, le=254, key="DHCP Option Vlan")


def test_table_14_picture_24_qos() -> None:
    p = "network.advanced.qos."
    assert_row(p + "enable", label="Enable DSCP", default=False, key="Enable diffServ")
    assert_row(p + "audio_dscp", label="Audio DSCP", default=46, ge=0, le=63, key="Voice DSCP")
    assert_row(p + "signal_dscp", label="Signal DSCP", default=46, ge=0, le=63, key="Singalling DSCP")
    assert_row(p + "video_dscp", label="Video DSCP", default=46, ge=0, le=63, key="Video DSCP")
    assert row(p + "enable").module == "QOS CONFIG MODULE"


def test_picture_24_arp_cache_life() -> None:
    leaf = assert_row("network.advanced.arp.cache_life", label="ARP Cache Life", default=2, unit="min",
                      key="ARP Cache Life")
    assert leaf.module == "NET CONFIG MODULE"


def test_table_14_picture_24_vlans() -> None:
    p = "network.advanced."
    assert_row(p + "wan_vlan.enable", label="Enable VLAN", default=False, key="Enable VLAN")
    assert_row(p + "wan_vlan.vlan_id", label="WAN VLAN ID", default=256, ge=1, le=4094, key="VLAN ID")
    assert_row(p + "wan_vlan.priority", label="802.1p Media Priority", default=0, ge=0, le=7,
               key="Voice Priority")
    assert_row(p + "lan_vlan.enable", label="Enable LAN VLAN", default=False, key="Enable PVID")
    assert_row(p + "lan_vlan.vlan_id", label="LAN VLAN ID", ge=1, le=4094, key="PVID Value")
    assert_row(p + "lan_vlan.priority", label="802.1p Priority", default=0, ge=0, le=7,
               key="LAN Port Priority")


def test_table_14_picture_24_dot1x() -> None:
    p = "network.advanced.dot1x."
    assert_row(p + "mode", label="802.1x Mode", default=Dot1xMode.OFF, key="Xsup Mode")
    assert_row(p + "identity", label="Identity", default="admin", key="Xsup User")
    assert_row(p + "password", label="Password", default="", key="Xsup Password")
    assert row(p + "password").secret
    assert row(p + "mode").module == "DOT1X CONFIG MODULE"


@pytest.mark.parametrize("path", [
    "network.advanced.lldp.enable",
    "network.advanced.cdp.enable",
    "network.advanced.dhcp_vlan.option_value",
    "network.advanced.arp.cache_life",
    "network.advanced.wan_vlan.vlan_id",
    "network.advanced.lan_vlan.enable",
    "network.advanced.dot1x.mode",
])
def test_os_owned_functions_name_their_host(path: str) -> None:
    assert row(path).extra("host")


def test_port_ranges_are_enforced() -> None:
    settings = Settings()
    with pytest.raises(ValueError):
        settings.network.ports.rtp.start = 1024
    with pytest.raises(ValueError):
        settings.network.advanced.wan_vlan.vlan_id = 4095
    settings.network.advanced.wan_vlan.vlan_id = 4094
