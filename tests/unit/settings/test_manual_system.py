"""System menu rows against the manual (9.5-9.7, 9.30, Tables 9, 10)."""

from __future__ import annotations

import pytest

from portier.settings.choices import TlsVersion
from portier.settings.declare import index
from portier.settings.schema import Settings
from portier.settings.system import (
    AcsServerType,
    DhcpOption,
    PnpTransport,
    ProvisionProtocol,
    UpdateMode,
)
from tests.unit.settings.manual import assert_row, row

NETWORK_REACHING = [
    "system.upgrade.enable",
    "system.provision.pnp.enable",
    "system.provision.tr069.enable",
    "system.provision.tr069.stun_enable",
    "system.tools.syslog",
]


def test_table_9_firmware_upgrade() -> None:
    p = "system.upgrade."
    assert_row(p + "enable", label="Enable Auto Upgrade", default=False, key="Enable Auto Upgrade")
    assert_row(p + "server1", label="Upgrade Server Address1", default="", key="Upgrade Server 1")
    assert_row(p + "server2", label="Upgrade Server Address2", default="", key="Upgrade Server 2")
    assert_row(p + "interval", label="Update Interval", default=24, ge=1, le=720, unit="h",
               key="Auto Upgrade Interval")
    assert row(p + "enable").module == "FIRMWARE CHECK MODULE"


def test_table_10_auto_provision_basic() -> None:
    p = "system.provision.basic."
    assert_row(p + "config_version", label="Current Configuration Version", default="")
    assert_row(p + "common_config_version", label="General Configuration Version", default="")
    assert_row(p + "username", label="Authentication Name", default="", key="Default Username")
    assert row(p + "password").secret
    assert_row(p + "password", label="Authentication Password", default="", key="Default Password")
    assert_row(p + "file_key", label="Configuration File Encryption Key", default="",
               key="Device Cfg File Key")
    assert_row(p + "common_file_key", label="General Configuration File Encryption Key", default="",
               key="Common Cfg File Key")
    assert_row(p + "fail_check_times", label="Download Fail Check Times", default=5, ge=1,
               key="Check FailTimes")
    digest = assert_row(p + "digest.enable", label="Enable Get Digest From Server", default=False,
                        key="Auto Server Digest")
    assert digest.module == "MAINTENANCE CONFIG MODULE"
    assert row(p + "username").module == "AUTOUPDATE CONFIG MODULE"
    # CPE Serial Number is a TR-069 identity, so it lives with the TR069 module's keys.
    serial = assert_row("system.provision.tr069.cpe_serial_number", label="CPE Serial Number", default="",
                        key="CPE SerialNumber")
    assert serial.module == "TR069 CONFIG MODULE"


def test_table_10_auto_provision_dhcp_option() -> None:
    p = "system.provision.dhcp."
    assert_row(p + "option", label="Option Value", default=DhcpOption.DISABLED, key="DHCP Option")
    assert {m.name for m in DhcpOption} == {"DISABLED", "OPTION_43", "OPTION_66", "CUSTOM"}
    assert DhcpOption.OPTION_66.value == 66
    assert_row(p + "custom_option", label="Custom Option Value", ge=128, le=254)
    assert_row(p + "option_120", label="Enable DHCP Option 120", default=False, key="Dhcp Option 120")
    assert row(p + "option").section == "--Net Option--"


def test_table_10_auto_provision_sip_pnp() -> None:
    p = "system.provision.pnp."
    assert_row(p + "enable", label="Enable SIP PnP", default=False, key="PNP Enable")
    assert_row(p + "server", label="Server Address", default="224.0.1.75", key="PNP IP")
    assert_row(p + "port", label="Server Port", default=5060, ge=1, le=65535, key="PNP Port")
    assert_row(p + "transport", label="Transport Protocol", default=PnpTransport.UDP, key="PNP Transport")
    assert {m.name for m in PnpTransport} == {"UDP", "TCP"}
    assert_row(p + "interval", label="Update Interval", default=1, unit="h", key="PNP Interval")
    assert row(p + "enable").section == "--Sip Pnp List--"


def test_table_10_auto_provision_static_server() -> None:
    p = "system.provision.static."
    assert_row(p + "server", label="Server Address", default="", key="Flash Server IP")
    assert_row(p + "file_name", label="Configuration File Name", default="", key="Flash File Name")
    assert_row(p + "protocol", label="Protocol Type", key="Flash Protocol")
    assert [m.name for m in ProvisionProtocol] == ["FTP", "TFTP", "HTTP", "HTTPS"]
    assert_row(p + "interval", label="Update Interval", default=1, unit="h", ge=1, key="Flash Interval")
    assert_row(p + "mode", label="Update Mode", default=UpdateMode.DISABLED, key="Flash Mode")
    assert [m.name for m in UpdateMode] == ["DISABLED", "UPDATE_AFTER_REBOOT", "UPDATE_AFTER_INTERVAL"]


def test_table_10_auto_provision_tr069() -> None:
    p = "system.provision.tr069."
    assert_row(p + "enable", label="Enable TR069", default=False, key="Enable TR069")
    assert_row(p + "warning_tone", label="Enable TR069 Warning Tone", default=False, key="TR069 Tone")
    assert_row(p + "acs_type", label="ACS Server Type", default=AcsServerType.COMMON, key="ACS Server Type")
    assert {m.name for m in AcsServerType} == {"COMMON", "CTC"}
    assert_row(p + "acs_url", label="ACS Server URL", default="", key="ACS URL")
    assert_row(p + "acs_user", label="ACS User", default="", key="ACS UserName")
    assert_row(p + "acs_password", label="ACS Password", default="", key="ACS Password")
    assert row(p + "acs_password").secret
    for name in ("acs_user", "acs_password"):
        assert row(p + name).bound("max_length") == 59
    assert_row(p + "stun_server", label="STUN server address", default="", key="STUN Server Addr")
    assert_row(p + "stun_enable", label="Enable the STUN", default=False, key="STUN Enable")
    assert_row(p + "tls_version", label="TLS Version", default=TlsVersion.TLS_1_2, key="TLS Version")
    assert row(p + "enable").module == "TR069 CONFIG MODULE"


def test_section_9_7_tools_syslog() -> None:
    p = "system.tools."
    assert_row(p + "syslog", label="Enable Syslog", default=False, key="Enable Syslog")
    assert_row(p + "server", label="Server Address", default="", key="Syslog Server")
    assert_row(p + "port", label="Server Port", default=514, ge=1, le=65535, key="Syslog Server Port")
    assert_row(p + "level", label="Log Level", default="ERROR", key="Level")
    assert row(p + "level").module == "LOG CONFIG MODULE"


def test_section_9_30_device_log() -> None:
    assert_row("system.device_log.level", label="Log Level", default="INFO", key="Device Log Level")


def test_log_levels_are_checked() -> None:
    settings = Settings()
    settings.system.tools.level = "DEBUG"
    with pytest.raises(ValueError):
        settings.system.tools.level = "LOUD"


@pytest.mark.parametrize("path", NETWORK_REACHING)
def test_network_reaching_functions_default_off(path: str) -> None:
    assert row(path).default is False


def test_provisioning_modes_default_off() -> None:
    assert row("system.provision.dhcp.option").default is DhcpOption.DISABLED
    assert row("system.provision.static.mode").default is UpdateMode.DISABLED


def test_no_web_accounts_in_settings() -> None:
    """System >> Account (9.3) rows are the users table, not settings."""
    assert not [name for name in index(Settings) if name.startswith("system.account")]


def test_system_secrets() -> None:
    leaves = index(Settings).values()
    secrets = {leaf.dotted for leaf in leaves if leaf.dotted.startswith("system.") and leaf.secret}
    assert secrets == {
        "system.provision.basic.password",
        "system.provision.basic.file_key",
        "system.provision.basic.common_file_key",
        "system.provision.tr069.acs_password",
    }
