"""System menu (manual 9.5-9.7, 9.30, Tables 9, 10): upgrade, auto provision, tools, device log.

System >> Information (9.2) only shows status and System >> Configurations (9.4) only offers actions
(export, import, clear, reset), so neither declares settings. The web accounts of System >> Account (9.3)
are rows of the users table (:mod:`portier.settings.records`), not settings.
"""

from __future__ import annotations

from enum import IntEnum

from .choices import TlsVersion
from .declare import Page, group, setting

LOG_LEVEL = r"^(EMERG|ALERT|CRIT|ERROR|WARNING|NOTICE|INFO|DEBUG)$"
"""Log levels by their syslog names; the LOG CONFIG MODULE writes them as words (``Level :ERROR``)."""


class DhcpOption(IntEnum):
    """Where DHCP hands out the provisioning server: the code is the option number, CUSTOM uses the number
    in Custom Option Value."""

    DISABLED = 0
    CUSTOM = 1
    OPTION_43 = 43
    OPTION_66 = 66


class PnpTransport(IntEnum):
    UDP = 0
    TCP = 1


class ProvisionProtocol(IntEnum):
    FTP = 0
    TFTP = 1
    HTTP = 2
    HTTPS = 3


class UpdateMode(IntEnum):
    DISABLED = 0
    UPDATE_AFTER_REBOOT = 1
    UPDATE_AFTER_INTERVAL = 2


class AcsServerType(IntEnum):
    COMMON = 1
    CTC = 2


class Upgrade(Page):
    """System >> Upgrade (manual 9.5, Table 9): firmware upgrade server."""

    fanvil_module = "FIRMWARE CHECK MODULE"

    enable: bool = setting(False, key="Enable Auto Upgrade", label="Enable Auto Upgrade",
                           help="Poll the upgrade servers for a new firmware and offer it. Off by default: "
                                "it reaches out to the network.")
    server1: str = setting("", key="Upgrade Server 1", label="Upgrade Server Address1",
                           help="Upgrade server asked first for vendor_model_hw10.txt.")
    server2: str = setting("", key="Upgrade Server 2", label="Upgrade Server Address2",
                           help="Upgrade server asked when the first one does not answer.")
    interval: int = setting(24, key="Auto Upgrade Interval", label="Update Interval", unit="h", ge=1, le=720,
                            help="How often the upgrade servers are polled.")


class ServerDigest(Page):
    """Enable Get Digest From Server (Table 10); the key lives in the MAINTENANCE CONFIG MODULE."""

    fanvil_module = "MAINTENANCE CONFIG MODULE"

    enable: bool = setting(False, key="Auto Server Digest", label="Enable Get Digest From Server",
                           help="Compare a digest of the server's configuration and download it whenever it "
                                "differs, not only when the version changes.")


class ProvisionBasic(Page):
    """Auto Provision basic settings (Table 10)."""

    config_version: str = setting("", key="Config Version", label="Current Configuration Version",
                                  help="Version of the last applied device file; a file with the same "
                                       "version is not applied again.")
    common_config_version: str = setting("", key="Common Config Version",
                                         label="General Configuration Version",
                                         help="Version of the last applied common file; a file with the same "
                                              "version is not applied again.")
    username: str = setting("", key="Default Username", label="Authentication Name",
                            help="User name for the configuration server (FTP/HTTP/HTTPS); empty logs in "
                                 "anonymously.")
    password: str = setting("", key="Default Password", label="Authentication Password",
                            help="Password for the configuration server (FTP/HTTP/HTTPS).", secret=True)
    file_key: str = setting("", key="Device Cfg File Key", label="Configuration File Encryption Key",
                            help="Key that decrypts the device configuration file.", secret=True)
    common_file_key: str = setting("", key="Common Cfg File Key",
                                   label="General Configuration File Encryption Key",
                                   help="Key that decrypts the common configuration file.", secret=True)
    fail_check_times: int = setting(5, key="Check FailTimes", label="Download Fail Check Times", ge=1, le=100,
                                    help="How many times a failed configuration download is tried.")
    digest: ServerDigest = group(ServerDigest, help="Get Digest From Server")


class ProvisionDhcp(Page):
    """Auto Provision DHCP Option (Table 10)."""

    fanvil_section = "--Net Option--"

    option: DhcpOption = setting(DhcpOption.DISABLED, key="DHCP Option", label="Option Value",
                                 help="DHCP option that names the provisioning server. Off by default: "
                                      "provisioning reaches out to the network.")
    custom_option: int = setting(128, key="Custom DHCP Option", label="Custom Option Value", ge=128, le=254,
                                 help="Option number used when Option Value is CUSTOM.")
    option_120: bool = setting(False, key="Dhcp Option 120", label="Enable DHCP Option 120",
                               help="Take the SIP server address from DHCP option 120 (RFC 3361).")


class ProvisionPnp(Page):
    """SIP Plug and Play (Table 10)."""

    fanvil_section = "--Sip Pnp List--"

    enable: bool = setting(False, key="PNP Enable", label="Enable SIP PnP",
                           help="Send a multicast SIP SUBSCRIBE and fetch the configuration from the URL a "
                                "server notifies. Off by default (real devices ship it on): it reaches out "
                                "to the network.")
    server: str = setting("224.0.1.75", key="PNP IP", label="Server Address",
                          help="Multicast address the PnP SUBSCRIBE is sent to.")
    port: int = setting(5060, key="PNP Port", label="Server Port", help="PnP port.", ge=1, le=65535)
    transport: PnpTransport = setting(PnpTransport.UDP, key="PNP Transport", label="Transport Protocol",
                                      help="PnP transport, UDP or TCP.")
    interval: int = setting(1, key="PNP Interval", label="Update Interval", unit="h", ge=1, le=720,
                            help="Interval between PnP requests.")


class ProvisionStatic(Page):
    """Static Provisioning Server (Table 10)."""

    server: str = setting("", key="Flash Server IP", label="Server Address",
                          help="FTP/TFTP/HTTP(S) server to fetch the configuration from: an IP address or a "
                               "domain name with sub-directory.")
    file_name: str = setting("", key="Flash File Name", label="Configuration File Name",
                             help="File to fetch ($mac.cfg, $input.cfg...); empty fetches the common file "
                                  "and the file named after the MAC address.")
    protocol: ProvisionProtocol = setting(ProvisionProtocol.HTTP, key="Flash Protocol", label="Protocol Type",
                                          help="Transfer protocol: FTP, TFTP, HTTP or HTTPS.")
    interval: int = setting(1, key="Flash Interval", label="Update Interval", unit="h", ge=1, le=720,
                            help="How often the server is checked when Update Mode is UPDATE_AFTER_INTERVAL.")
    mode: UpdateMode = setting(UpdateMode.DISABLED, key="Flash Mode", label="Update Mode",
                               help="When the configuration is fetched. Disabled by default: it reaches out "
                                    "to the network.")


class Tr069(Page):
    """TR069 (Table 10)."""

    fanvil_module = "TR069 CONFIG MODULE"

    enable: bool = setting(False, key="Enable TR069", label="Enable TR069",
                           help="Let an ACS manage the device over TR-069. Off by default: it reaches out to "
                                "the network.")
    warning_tone: bool = setting(False, key="TR069 Tone", label="Enable TR069 Warning Tone",
                                 help="Play a prompt tone when the ACS connects.")
    acs_type: AcsServerType = setting(AcsServerType.COMMON, key="ACS Server Type", label="ACS Server Type",
                                      help="ACS flavour: COMMON or CTC (China Telecom).")
    acs_url: str = setting("", key="ACS URL", label="ACS Server URL", help="ACS server address.")
    acs_user: str = setting("", key="ACS UserName", label="ACS User", max_length=59,
                            help="ACS server user name (up to 59 characters).")
    acs_password: str = setting("", key="ACS Password", label="ACS Password", max_length=59,
                                help="ACS server password (up to 59 characters).", secret=True)
    stun_server: str = setting("", key="STUN Server Addr", label="STUN server address",
                               help="STUN server that lets the ACS reach the device behind NAT.")
    stun_enable: bool = setting(False, key="STUN Enable", label="Enable the STUN",
                                help="Use the STUN server for TR-069 connection requests.")
    tls_version: TlsVersion = setting(TlsVersion.TLS_1_2, key="TLS Version", label="TLS Version",
                                      help="Lowest TLS version accepted from the ACS.")
    cpe_serial_number: str = setting("", key="CPE SerialNumber", label="CPE Serial Number",
                                     help="Serial number the device reports to the ACS; empty uses the "
                                          "device's own.")


class AutoProvision(Page):
    """System >> Auto Provision (manual 9.6, Table 10). Priority: PnP > DHCP > TR069 > static."""

    fanvil_module = "AUTOUPDATE CONFIG MODULE"

    basic: ProvisionBasic = group(ProvisionBasic, help="Basic settings")
    dhcp: ProvisionDhcp = group(ProvisionDhcp, help="DHCP Option")
    pnp: ProvisionPnp = group(ProvisionPnp, help="SIP Plug and Play (PnP)")
    static: ProvisionStatic = group(ProvisionStatic, help="Static Provisioning Server")
    tr069: Tr069 = group(Tr069, help="TR069")


class Tools(Page):
    """System >> Tools (manual 9.7, Picture 20): syslog. Packet capture is an action, not a setting."""

    fanvil_module = "LOG CONFIG MODULE"

    syslog: bool = setting(False, key="Enable Syslog", label="Enable Syslog",
                           help="Send the device log to a syslog server. Off by default: it reaches out to "
                                "the network.")
    server: str = setting("", key="Syslog Server", label="Server Address", help="Syslog server address.")
    port: int = setting(514, key="Syslog Server Port", label="Server Port", help="Syslog server port.",
                        ge=1, le=65535)
    level: str = setting("ERROR", key="Level", label="Log Level", pattern=LOG_LEVEL,
                         help="Lowest severity sent to syslog (EMERG, ALERT, CRIT, ERROR, WARNING, NOTICE, "
                              "INFO, DEBUG).")


class DeviceLog(Page):
    """Device log (manual 9.30, 10.5): the log captured on the web page between start and end."""

    fanvil_module = "LOG CONFIG MODULE"

    level: str = setting("INFO", key="Device Log Level", label="Log Level", pattern=LOG_LEVEL,
                         help="Lowest severity kept in the device log (EMERG ... DEBUG); DEBUG helps "
                              "support locate a problem.")


class SystemSettings(Page):
    """The System menu (manual 9.2-9.7 and 9.30)."""

    upgrade: Upgrade = group(Upgrade, help="Upgrade")
    provision: AutoProvision = group(AutoProvision, help="Auto Provision")
    tools: Tools = group(Tools, help="Tools")
    device_log: DeviceLog = group(DeviceLog, help="Device log")
