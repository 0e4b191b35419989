"""Line menu (manual 9.12-9.14, Tables 8, 15, 16): SIP1/SIP2, SIP hotspot, line basic settings."""

from __future__ import annotations

from enum import IntEnum

from .choices import DtmfInfoMode, DtmfMode
from .declare import Page, group, setting
from .sip_line import SipLine


class SipGlobal(Page):
    """SIP Global Settings (Picture 25)."""

    strict_branch: bool = setting(
        False,
        key="Strict BranchPrefix",
        label="Strict Branch",
        help="Only accept Via branches with the RFC 3261 magic cookie.",
    )
    enable_group: bool = setting(
        False, key="Enable Group Backup", label="Enable Group", help="Register both servers as a group."
    )
    rfc4475: bool = setting(
        True,
        key="Enable RFC4475",
        label="Enable RFC4475",
        help="Handle the RFC 4475 torture cases as that RFC says.",
    )
    strict_ua_match: bool = setting(
        False,
        key="Strict UA Match",
        label="Enable Strict UA Match",
        help="Accept requests only for this device's user and address.",
    )
    registration_failure_retry: int = setting(
        32,
        key="Reg Fail Interval",
        label="Registration Failure Retry Time",
        unit="s",
        ge=1,
        le=3600,
        help="Wait before retrying a failed registration.",
    )
    local_sip_port: int = setting(
        5060,
        key="SIP  Port",
        label="Local SIP Port",
        help="Port the device listens on for SIP.",
        ge=1,
        le=65535,
    )
    strict_tag_match: bool = setting(
        True, key="Strict Tag Match", label="Strict Tag Match", help="Match dialogs by tags strictly."
    )


class Stun(Page):
    """STUN Settings (Table 16)."""

    server: str = setting("", key="STUN Server", label="Server Address", help="STUN server address.")
    port: int = setting(3478, key="STUN Port", label="Server Port", help="STUN server port.", ge=1, le=65535)
    binding_period: int = setting(
        50,
        key="STUN Refresh Time",
        label="Binding Period",
        unit="s",
        ge=10,
        le=3600,
        help="STUN binding period, which also keeps the NAT pinhole open.",
    )
    sip_waiting_time: int = setting(
        800,
        key="SIP Wait Stun Time",
        label="SIP Waiting Time",
        unit="ms",
        ge=100,
        le=60000,
        help="Wait for a STUN binding before sending SIP.",
    )


class P2P(Page):
    """SIP P2P Settings (Table 16): direct IP calls, no registrar."""

    fanvil_section = "--P2P Config--"

    auto_answer: bool = setting(
        True,
        key="P2P Auto Answer",
        label="Enable Auto Answering",
        help="Answer incoming IP calls automatically after the delay.",
    )
    auto_answer_delay: int = setting(
        0,
        key="P2P Auto Answer Delay",
        label="Auto Answering Delay",
        unit="s",
        ge=0,
        le=120,
        help="Delay before an IP call is answered automatically.",
    )
    dtmf_mode: DtmfMode = setting(
        DtmfMode.AUTO, key="P2P DTMF Mode", label="DTMF Type", help="How DTMF digits are sent on IP calls."
    )
    dtmf_info_mode: DtmfInfoMode = setting(
        DtmfInfoMode.SEND_STAR_POUND,
        key="P2P DTMF Info Mode",
        label="DTMF SIP INFO Mode",
        help="Send '*' and '#' or '10' and '11' in SIP INFO.",
    )


class HotspotMode(IntEnum):
    DISABLED = 0
    CLIENT = 1
    SERVER = 2


class HotspotMonitor(IntEnum):
    BROADCAST = 0
    MULTICAST = 1


class Hotspot(Page):
    """SIP hotspot (manual 8.3, Table 8)."""

    fanvil_module = "SIP HOTSPOT MODULE"

    enable: bool = setting(
        False,
        key="Enable Hotspot",
        label="Enable Hotspot",
        help="Share SIP accounts with other devices on the LAN. Off by default: it "
        "sends broadcast or multicast.",
    )
    mode: HotspotMode = setting(
        HotspotMode.CLIENT,
        key="Hotspot Mode",
        label="Mode",
        help="Client uses the accounts of a hotspot server; server shares its own.",
    )
    monitor_type: HotspotMonitor = setting(
        HotspotMonitor.MULTICAST,
        key="Hotspot Monitor Type",
        label="Monitor Type",
        help="Discover peers by broadcast or multicast; both ends must agree.",
    )
    monitor_address: str = setting(
        "224.0.2.0",
        key="Hotspot Monitor Addr",
        label="Monitor Address",
        help="Multicast address used when Monitor Type is MULTICAST.",
    )
    remote_port: int = setting(
        16360,
        key="Hotspot Remote Port",
        label="Remote Port",
        help="Hotspot communication port; server and clients must agree.",
        ge=1,
        le=65535,
    )
    name: str = setting(
        "SIP Hotspot",
        key="Hotspot Name",
        label="Name",
        help="Hotspot name, keeps hotspots on one network apart.",
    )
    line1: bool = setting(True, key="Hotspot SIP1 Enable", label="SIP1", help="Share SIP1 in the hotspot.")
    line2: bool = setting(True, key="Hotspot SIP2 Enable", label="SIP2", help="Share SIP2 in the hotspot.")


class LineSettings(Page):
    """The Line menu."""

    fanvil_module = "SIP CONFIG MODULE"

    sip: SipGlobal = group(SipGlobal, help="SIP Global Settings")
    stun: Stun = group(Stun, help="STUN Settings")
    p2p: P2P = group(P2P, help="SIP P2P Settings")
    sip1: SipLine = group(SipLine, help="SIP1")
    sip2: SipLine = group(SipLine, help="SIP2")
    hotspot: Hotspot = group(Hotspot, help="SIP Hotspot")
