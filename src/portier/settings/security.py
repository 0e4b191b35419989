"""Security menu (manual 9.26-9.29, Table 26): web filter, certificates, firewall.

The web filter ranges and the firewall rules are lists the device stores as tables, not
settings; only the switches and certificate choices are declared here. Where a public Fanvil
file has the key (``Enable MMI Filter``, the ``--SSL Mode--`` keys, ``Enable In/Out Access``)
its real module is used; other keys are named in Fanvil's style.
"""

from __future__ import annotations

from enum import IntEnum

from .declare import Page, group, setting

MAX_INPUT_RULES = 10
"""Firewall input rules the device keeps (manual 9.29)."""

MAX_OUTPUT_RULES = 10
"""Firewall output rules the device keeps (manual 9.29)."""


class DeviceCertMode(IntEnum):
    DEFAULT = 0
    CUSTOM = 1


class TrustMode(IntEnum):
    ALL = 0
    BUILT_IN = 1
    CUSTOM = 2


class WebFilter(Page):
    """Security >> Web filter (manual 9.26, Picture 41); the allowed ranges are a stored table."""

    fanvil_module = "MMI CONFIG MODULE"

    enable: bool = setting(False, key="Enable MMI Filter", label="Enable web filtering",
                           help="Only let addresses in the web filter table reach the web interface; keep "
                                "your own address in a range before enabling it.")


class TrustCertificates(Page):
    """Security >> Trust Certificates (manual 9.27, Picture 42); uploaded certificates are stored files."""

    fanvil_module = "DOT1X CONFIG MODULE"
    fanvil_section = "--SSL Mode--"

    verify_server: bool = setting(False, key="Permission CTF", label="Permission Certificate",
                                  help="Verify the server certificate on TLS connections the device opens "
                                       "(SIP over TLS, HTTPS provisioning and upgrades).")
    verify_common_name: bool = setting(False, key="Common Name", label="Common Name Validation",
                                       help="Also require the certificate's name to match the server "
                                            "address.")
    trust_mode: TrustMode = setting(TrustMode.ALL, key="CTF mode", label="Certificate Mode",
                                    help="Which certificates are trusted: the built-in ones, the uploaded "
                                         "ones, or both (ALL).")


class DeviceCertificates(Page):
    """Security >> Device Certificates (manual 9.28, Picture 43)."""

    fanvil_module = "DOT1X CONFIG MODULE"
    fanvil_section = "--SSL Mode--"

    mode: DeviceCertMode = setting(DeviceCertMode.DEFAULT, key="Device Cert Mode",
                                   label="Device Certificates",
                                   help="Certificate the device presents (HTTPS web, SIP over TLS): the "
                                        "built-in default one or an uploaded custom one.")
    custom_file: str = setting("", key="Device Cert File", label="Custom Certificate",
                               help="File name of the uploaded certificate used when the mode is CUSTOM.")


class Firewall(Page):
    """Security >> Firewall (manual 9.29, Table 26); the rules themselves are a stored table."""

    fanvil_module = "APP CONFIG MODULE"

    input_rules: bool = setting(False, key="Enable In Access", label="Enable Input Rules",
                                host="the OS firewall (nftables)",
                                help="Apply the input rules to traffic reaching the device.")
    output_rules: bool = setting(False, key="Enable Out Access", label="Enable Output Rules",
                                 host="the OS firewall (nftables)",
                                 help="Apply the output rules to traffic the device sends.")


class SecuritySettings(Page):
    """The Security menu (manual 9.26-9.29)."""

    fanvil_module = "SECURITY CONFIG MODULE"

    web_filter: WebFilter = group(WebFilter, help="Web filter")
    trust_certificates: TrustCertificates = group(TrustCertificates, help="Trust Certificates")
    device_certificates: DeviceCertificates = group(DeviceCertificates, help="Device Certificates")
    firewall: Firewall = group(Firewall, help="Firewall")
