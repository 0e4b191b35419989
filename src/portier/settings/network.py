"""Network menu (manual 9.8-9.11, Tables 5, 12, 13, 14, Picture 24): basic, service port, VPN, advanced."""

from __future__ import annotations

from enum import IntEnum

from .declare import Page, group, setting

NET_STACK = "the OS network stack (NetworkManager/ifupdown)"
VPN_CLIENT = "the OS VPN client (xl2tpd / openvpn)"
LLDP_AGENT = "the OS LLDP/CDP agent (lldpd)"
SUPPLICANT = "the OS 802.1X supplicant (wpa_supplicant)"


class NetworkMode(IntEnum):
    """Codes of ``WAN TYPE``."""

    DHCP = 0
    PPPOE = 1
    STATIC = 2


class DnsSource(IntEnum):
    """Codes of ``DHCP Auto DNS``: 1 takes the DNS servers from DHCP."""

    MANUAL = 0
    DHCP = 1


class WebServerType(IntEnum):
    HTTP = 0
    HTTPS = 1


class VpnMode(IntEnum):
    L2TP = 0
    OPENVPN = 1


class DhcpVlanOption(IntEnum):
    DISABLED = 0
    CUSTOM = 1


class Dot1xMode(IntEnum):
    OFF = 0
    EAP_MD5 = 1
    EAP_TLS = 2
    PEAP_MSCHAPV2 = 3


class NetworkBasic(Page):
    """Network >> Basic (manual 9.8, Table 12; defaults from Table 5)."""

    fanvil_module = "NET CONFIG MODULE"

    mode: NetworkMode = setting(NetworkMode.DHCP, key="WAN TYPE", label="Network Mode", host=NET_STACK,
                                help="How the device gets its address: DHCP, static IP or PPPoE.")
    ip: str = setting("192.168.1.128", key="WAN IP", label="IP Address", host=NET_STACK,
                      help="Static IP address, used when Network Mode is STATIC.")
    subnet_mask: str = setting("255.255.255.0", key="WAN Subnet Mask", label="Subnet Mask", host=NET_STACK,
                               help="Subnet mask of the static IP address.")
    gateway: str = setting("192.168.1.1", key="WAN Gateway", label="Default Gateway", host=NET_STACK,
                           help="Default gateway used with the static IP address.")
    dns_mode: DnsSource = setting(DnsSource.DHCP, key="DHCP Auto DNS", label="DNS Server Configured by",
                                  host=NET_STACK,
                                  help="Take the DNS servers from DHCP or use the ones entered below.")
    primary_dns: str = setting("", key="Primary DNS", label="Primary DNS Server", host=NET_STACK,
                               help="Address of the primary DNS server.")
    secondary_dns: str = setting("", key="Secondary DNS", label="Secondary DNS Server", host=NET_STACK,
                                 help="Address of the secondary DNS server.")
    pppoe_user: str = setting("", key="PPPoE User", label="PPPoE Account", host=NET_STACK,
                              help="PPPoE account provided by the ISP.")
    pppoe_password: str = setting("", key="PPPoE Password", label="PPPoE Password", host=NET_STACK,
                                  help="PPPoE password provided by the ISP.", secret=True)


class RtpPorts(Page):
    """RTP port range (Table 13); the keys live in the MM CONFIG MODULE."""

    fanvil_module = "MM CONFIG MODULE"

    start: int = setting(10000, key="RTP Initial Port", label="RTP port start range", ge=1025, le=65535,
                         help="First local RTP port; each call takes the next voice and video ports (+2).")
    quantity: int = setting(1000, key="RTP Port Quantity", label="RTP port quantity", ge=2, le=64510,
                            help="Number of RTP ports from the start port, which bounds the number of calls.")


class ServicePort(Page):
    """Network >> Service Port (manual 9.9, Table 13) and web login lockout (manual 9.1)."""

    fanvil_module = "MMI CONFIG MODULE"

    web_server_type: WebServerType = setting(WebServerType.HTTP, key="Web Server Type",
                                             label="Web server type",
                                             help="Protocol of the web page, HTTP or HTTPS (the HTTP port "
                                                  "then redirects); applies at once.")
    web_login_timeout: int = setting(15, key="Logon Timeout", label="Web login timeout", unit="min", ge=1,
                                     le=1440, help="Idle time after which the web page logs out.")
    web_auto_login: bool = setting(False, key="Web Auto Login", label="Web page automatic login",
                                   help="Log in again automatically after the timeout, without the user name "
                                        "and password.")
    http_port: int = setting(80, key="Web Port", label="HTTP port", ge=1, le=65535,
                             help="Port of the HTTP web page (e.g. 8080 gives http://ip:8080).")
    https_port: int = setting(443, key="Https Web Port", label="HTTPS port",
                              help="Port of the HTTPS web page.", ge=1, le=65535)
    login_attempts: int = setting(3, key="Web Login Attempts", label="Login attempts", ge=1, le=10,
                                  help="Wrong passwords in a row, from one address or for one user name, "
                                       "before the web login is locked.")
    lock_time: int = setting(5, key="Web Lock Time", label="Lock time", unit="min", ge=1, le=1440,
                             help="How long a locked web login stays locked.")
    rtp: RtpPorts = group(RtpPorts, help="RTP ports")


class Vpn(Page):
    """Network >> VPN (manual 9.10, Picture 23). OpenVPN files (client.ovpn, ca.crt...) are uploads."""

    fanvil_module = "VPN CONFIG MODULE"

    enable: bool = setting(False, key="Enable VPN", label="Enable VPN", host=VPN_CLIENT,
                           help="Connect to the VPN at every start until disabled.")
    mode: VpnMode = setting(VpnMode.L2TP, key="VPN mode", label="VPN Mode", host=VPN_CLIENT,
                            help="L2TP (unencrypted, basic authentication) or OpenVPN (encrypted).")
    l2tp_server: str = setting("", key="L2TP Server Address", label="L2TP Server Address", host=VPN_CLIENT,
                               help="Address of the L2TP server.")
    l2tp_user: str = setting("", key="L2TP User Name", label="Authentication Username", host=VPN_CLIENT,
                             help="L2TP user name.")
    l2tp_password: str = setting("", key="L2TP Password", label="Authentication Password", host=VPN_CLIENT,
                                 help="L2TP password.", secret=True)


class Lldp(Page):
    """LLDP Settings (Table 14, Picture 24)."""

    enable: bool = setting(True, key="LLDP Transmit", label="Enable LLDP", host=LLDP_AGENT,
                           help="Announce the device on the link with LLDP (link-local only).")
    learning: bool = setting(True, key="LLDP Learn Policy", label="Enable Learning Function", host=LLDP_AGENT,
                             help="Learn what discovered switches announce, such as the voice VLAN.")
    interval: int = setting(60, key="LLDP Refresh Time", label="Packet Interval", unit="s", ge=1, le=3600,
                            host=LLDP_AGENT, help="Interval between LLDP packets.")


class Cdp(Page):
    """CDP Settings (Picture 24)."""

    enable: bool = setting(False, key="CDP Enable", label="Enable CDP", host=LLDP_AGENT,
                           help="Announce the device on the link with Cisco Discovery Protocol.")
    interval: int = setting(60, key="CDP Refresh Time", label="Packet Interval", unit="s", ge=1, le=3600,
                            host=LLDP_AGENT, help="Interval between CDP packets.")


class DhcpVlan(Page):
    """DHCP VLAN Settings (Table 14, Picture 24)."""

    option_value: DhcpVlanOption = setting(DhcpVlanOption.DISABLED, key="DHCP Vlan Option Mode",
                                           label="Option Value", host=NET_STACK,
                                           help="Learn the VLAN from the DHCP option below.")
    option: int = setting(132, key="DHCP Option Vlan", label="DHCP Option Vlan", ge=128, le=254,
                          host=NET_STACK, help="DHCP option (128-254) that carries the VLAN ID.")


class Qos(Page):
    """QoS Settings (Table 14, Picture 24): DSCP marks of the device's own packets."""

    enable: bool = setting(False, key="Enable diffServ", label="Enable DSCP",
                           help="Mark signalling and media packets with the DSCP values below.")
    audio_dscp: int = setting(46, key="Voice DSCP", label="Audio DSCP", help="DSCP of voice RTP packets.",
                              ge=0, le=63)
    signal_dscp: int = setting(46, key="Singalling DSCP", label="Signal DSCP", help="DSCP of SIP packets.",
                               ge=0, le=63)
    video_dscp: int = setting(46, key="Video DSCP", label="Video DSCP", help="DSCP of video RTP packets.",
                              ge=0, le=63)


class Arp(Page):
    """ARP Cache Life (Picture 24); the key lives in the NET CONFIG MODULE."""

    fanvil_module = "NET CONFIG MODULE"

    cache_life: int = setting(2, key="ARP Cache Life", label="ARP Cache Life", unit="min", ge=1, le=60,
                              host=NET_STACK, help="How long learnt ARP entries are kept.")


class WanVlan(Page):
    """WAN port virtual LAN (Table 14, Picture 24)."""

    enable: bool = setting(False, key="Enable VLAN", label="Enable VLAN", host=NET_STACK,
                           help="Tag the device's traffic with the VLAN ID below.")
    vlan_id: int = setting(256, key="VLAN ID", label="WAN VLAN ID", host=NET_STACK,
                           help="VLAN ID of the WAN port.", ge=1, le=4094)
    priority: int = setting(0, key="Voice Priority", label="802.1p Media Priority", host=NET_STACK,
                            help="802.1p priority of media packets.", ge=0, le=7)


class LanVlan(Page):
    """LAN port virtual LAN (Table 14)."""

    enable: bool = setting(False, key="Enable PVID", label="Enable LAN VLAN", host=NET_STACK,
                           help="Tag traffic of the LAN (PC) port with the VLAN ID below.")
    vlan_id: int = setting(254, key="PVID Value", label="LAN VLAN ID", host=NET_STACK,
                           help="VLAN ID of the LAN port.", ge=1, le=4094)
    priority: int = setting(0, key="LAN Port Priority", label="802.1p Priority", host=NET_STACK,
                            help="802.1p priority of LAN port packets.", ge=0, le=7)


class Dot1x(Page):
    """802.1X Settings (Table 14, Picture 24)."""

    fanvil_module = "DOT1X CONFIG MODULE"

    mode: Dot1xMode = setting(Dot1xMode.OFF, key="Xsup Mode", label="802.1x Mode", host=SUPPLICANT,
                              help="802.1X authentication method on the switch port; OFF disables it.")
    identity: str = setting("admin", key="Xsup User", label="Identity", host=SUPPLICANT,
                            help="802.1X identity (user name).")
    password: str = setting("", key="Xsup Password", label="Password", host=SUPPLICANT,
                            help="802.1X password.", secret=True)


class NetworkAdvanced(Page):
    """Network >> Advanced (manual 9.11, Table 14, Picture 24)."""

    fanvil_module = "QOS CONFIG MODULE"

    lldp: Lldp = group(Lldp, help="Link Layer Discovery Protocol (LLDP) Settings")
    cdp: Cdp = group(Cdp, help="Cisco Discovery Protocol (CDP) Settings")
    dhcp_vlan: DhcpVlan = group(DhcpVlan, help="DHCP VLAN Settings")
    qos: Qos = group(Qos, help="Quality of Service (QoS) Settings")
    arp: Arp = group(Arp, help="ARP Cache Life")
    wan_vlan: WanVlan = group(WanVlan, help="WAN VLAN Settings")
    lan_vlan: LanVlan = group(LanVlan, help="LAN VLAN Settings")
    dot1x: Dot1x = group(Dot1x, help="802.1X Settings")


class NetworkSettings(Page):
    """The Network menu (manual 9.8-9.11)."""

    basic: NetworkBasic = group(NetworkBasic, help="Basic")
    ports: ServicePort = group(ServicePort, help="Service Port")
    vpn: Vpn = group(Vpn, help="VPN")
    advanced: NetworkAdvanced = group(NetworkAdvanced, help="Advanced")
