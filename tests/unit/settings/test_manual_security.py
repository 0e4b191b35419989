"""Security menu against the manual (9.26-9.29, Table 26)."""

from __future__ import annotations

from portier.settings import security
from portier.settings.security import DeviceCertMode, TrustMode
from tests.unit.settings.manual import assert_row


def test_section_9_26_web_filter() -> None:
    assert_row("security.web_filter.enable", label="Enable web filtering", default=False,
               key="Enable MMI Filter")


def test_section_9_27_trust_certificates() -> None:
    assert_row("security.trust_certificates.verify_server", default=False, key="Permission CTF")
    assert_row("security.trust_certificates.verify_common_name", default=False, key="Common Name")
    assert_row("security.trust_certificates.trust_mode", default=TrustMode.ALL, key="CTF mode")


def test_section_9_28_device_certificates() -> None:
    assert_row("security.device_certificates.mode", default=DeviceCertMode.DEFAULT, key="Device Cert Mode")
    assert [m.name for m in DeviceCertMode] == ["DEFAULT", "CUSTOM"]
    assert_row("security.device_certificates.custom_file", default="", key="Device Cert File")


def test_table_26_web_firewall() -> None:
    for path, label, key in (("input_rules", "Enable Input Rules", "Enable In Access"),
                             ("output_rules", "Enable Output Rules", "Enable Out Access")):
        leaf = assert_row(f"security.firewall.{path}", label=label, default=False, key=key)
        assert leaf.extra("host") == "the OS firewall (nftables)"
    # The rules themselves are a stored table of at most 10 each, not settings.
    assert security.MAX_INPUT_RULES == 10
    assert security.MAX_OUTPUT_RULES == 10
