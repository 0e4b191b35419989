"""The menus of the manual's chapter 9, as data: what each page edits, who may change it, and what
portier does not act on yet.

A settings page lists schema prefixes; its form is generated (:mod:`.forms`). ``services`` names the
device services that act on the page's settings: when none of them runs, the page says plainly that
the settings are stored and exported but not acted on, with ``pending`` saying what is missing.
``gaps`` names what stays unbuilt even while they run. ``extra`` is what the page shows below its
form (:mod:`.extras`: the call log, the device log's live view, the packet capture).
"""

from __future__ import annotations

from dataclasses import dataclass

from portier.settings.records import FileKind


@dataclass(frozen=True)
class MenuPage:
    path: str
    menu: str
    title: str
    manual: str
    kind: str = "settings"
    """settings (a generated form), or the name of a page with its own handler."""
    prefixes: tuple[str, ...] = ()
    units: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Repeated units shown one at a time (SIP1, SIP2): label and the prefixes of each."""
    admin_only: bool = True
    """A user-level login sees the page but cannot change it."""
    services: tuple[str, ...] = ()
    pending: str = ""
    gaps: str = ""
    tables: tuple[str, ...] = ()
    files: tuple[FileKind, ...] = ()
    extra: str = ""

    def unit_prefixes(self, unit: str | None) -> tuple[str, ...]:
        """The prefixes the form shows: the page's own plus those of the chosen (or first) unit."""
        if not self.units:
            return self.prefixes
        chosen = next((p for label, p in self.units if label == unit), self.units[0][1])
        return self.prefixes + chosen

    def all_prefixes(self) -> tuple[str, ...]:
        return self.prefixes + tuple(p for _, unit in self.units for p in unit)


HOST_NETWORK = (
    "portier does not configure the host's network: these settings are stored and exported (and "
    "provisioned to other devices), but the operating system's own tools apply addresses, VPNs and VLANs"
)

MENU: tuple[MenuPage, ...] = (
    MenuPage("/system/information", "System", "Information", "9.2", "information", admin_only=False),
    MenuPage("/system/account", "System", "Account", "9.3", "account", admin_only=False),
    MenuPage("/system/configurations", "System", "Configurations", "9.4", "configurations"),
    MenuPage("/system/upgrade", "System", "Upgrade", "9.5", prefixes=("system.upgrade.",),
             services=("upgrade",), files=(FileKind.RINGTONE,),
             pending="the firmware upgrade service is not built yet, so the upgrade servers are not polled "
                     "(uploaded ringtones below work: the ring type fields offer them)"),
    MenuPage("/system/auto-provision", "System", "Auto Provision", "9.6", prefixes=("system.provision.",),
             services=("provisioning",),
             pending="auto provisioning (PnP, DHCP options, TR-069, static server) is not built yet"),
    MenuPage("/system/tools", "System", "Tools", "9.7", prefixes=("system.tools.",), services=("syslog",),
             pending="sending the log to a syslog server is not built yet (the Network Packets Capture below "
                     "works)", extra="capture"),
    MenuPage("/network/basic", "Network", "Basic", "9.8", prefixes=("network.basic.",), pending=HOST_NETWORK),
    MenuPage("/network/service-port", "Network", "Service Port", "9.9", prefixes=("network.ports.",),
             services=("web",), pending="the web server is not running"),
    MenuPage("/network/vpn", "Network", "VPN", "9.10", prefixes=("network.vpn.",), pending=HOST_NETWORK,
             files=(FileKind.OPENVPN,)),
    MenuPage("/network/advanced", "Network", "Advanced", "9.11", prefixes=("network.advanced.",),
             pending=HOST_NETWORK + "; portier itself applies only the QoS (DSCP) marks"),
    MenuPage("/line/sip", "Line", "SIP", "9.12", prefixes=("lines.sip.",),
             units=(("SIP1", ("lines.sip1.",)), ("SIP2", ("lines.sip2.",))), services=("sip",),
             pending="the SIP service is not running"),
    MenuPage("/line/sip-hotspot", "Line", "SIP Hotspot", "9.13", prefixes=("lines.hotspot.",),
             services=("hotspot",), pending="the SIP hotspot is not built yet"),
    MenuPage("/line/basic-settings", "Line", "Basic Settings", "9.14", prefixes=("lines.stun.", "lines.p2p."),
             services=("sip",), pending="the SIP service is not running"),
    MenuPage("/intercom/features", "Intercom settings", "Features", "9.15", prefixes=("intercom.features.",),
             services=("sip",), pending="the SIP service is not running, so no call uses these settings",
             gaps="Push XML, the Line Display Format, Disable Mute for Ring, the holding tone and the "
                  "dialing and talking DTMF tones are stored but not acted on yet"),
    MenuPage("/intercom/media", "Intercom settings", "Media", "9.16", prefixes=("intercom.media.",),
             services=("sip",), pending="the SIP service is not running"),
    MenuPage("/intercom/camera", "Intercom settings", "Camera", "9.17", prefixes=("intercom.camera.",),
             services=("camera",), pending="video is not built: portier is an audio door station for now"),
    MenuPage("/intercom/mcast", "Intercom settings", "MCAST", "9.18", prefixes=("intercom.mcast.",),
             services=("mcast",), pending="multicast paging and listening are not built yet"),
    MenuPage("/intercom/action-url", "Intercom settings", "Action URL", "9.19",
             prefixes=("intercom.action_url.",), services=("action-url",),
             pending="the Action URL service is not running, so no URL is requested"),
    MenuPage("/intercom/time-date", "Intercom settings", "Time/Date", "9.20", prefixes=("intercom.time.",),
             services=("clock",),
             pending="portier uses the host's clock and time zone; SNTP and DST settings are not applied "
                     "yet"),
    MenuPage("/intercom/time-plan", "Intercom settings", "Time plan", "9.21", tables=("time_plans",),
             services=("timeplan",), pending="time plans are stored but not carried out yet"),
    MenuPage("/intercom/tone", "Intercom settings", "Tone", "9.22", prefixes=("intercom.tone.",),
             services=("tones",), pending="the tones service is not running, so no tone is played"),
    MenuPage("/call-list/call-list", "Call List", "Call List", "9.23",
             tables=("restricted_incoming", "restricted_outgoing"), admin_only=False, services=("sip",),
             pending="the SIP service is not running, so these lists refuse no call", extra="call_log"),
    MenuPage("/call-list/web-dial", "Call List", "Web Dial", "9.24", "web-dial", admin_only=False),
    MenuPage("/call-button", "Call Button", "Call Button", "9.25", prefixes=("buttons.",),
             services=("buttons",), pending="the call button service is not running, so presses do nothing",
             gaps="MCAST Listening buttons wait for the paging issue (listen groups and priorities): "
                  "they log a warning; Multicast and PTT-multicast buttons do page"),
    MenuPage("/security/web-filter", "Security", "Web filter", "9.26", prefixes=("security.web_filter.",),
             tables=("web_filter",), services=("web",), pending="the web server is not running"),
    MenuPage("/security/trust-certificates", "Security", "Trust Certificates", "9.27",
             prefixes=("security.trust_certificates.",), files=(FileKind.TRUST_CERTIFICATE,),
             services=("sip",), pending="the SIP service is not running"),
    MenuPage("/security/device-certificates", "Security", "Device Certificates", "9.28",
             prefixes=("security.device_certificates.",), files=(FileKind.DEVICE_CERTIFICATE,),
             services=("sip", "web"), pending="neither the SIP nor the web service is running"),
    MenuPage("/security/firewall", "Security", "Firewall", "9.29", prefixes=("security.firewall.",),
             tables=("firewall_rules",),
             pending="portier does not program the host's firewall (nftables): the rules are stored and "
                     "exported only"),
    MenuPage("/device-log", "Device Log", "Device Log", "9.30", prefixes=("system.device_log.",),
             services=("device-log",), pending="the device log service is not running", extra="device_log"),
    MenuPage("/security-settings", "Security Settings", "Security Settings", "9.31", prefixes=("door.",),
             services=("door",), pending="the door service is not running: no relay, input or tamper acts"),
    MenuPage("/virtual-panel", "Virtual Panel", "Virtual Panel", "", "virtual-panel", admin_only=False),
    MenuPage("/reboot", "Reboot", "Reboot", "10.2", "reboot"),
)  # fmt: skip


def by_path(path: str) -> MenuPage | None:
    return next((page for page in MENU if page.path == path), None)


def menus() -> list[tuple[str, list[MenuPage]]]:
    """The navigation: menus in the manual's order, each with its pages."""
    grouped: dict[str, list[MenuPage]] = {}
    for page in MENU:
        grouped.setdefault(page.menu, []).append(page)
    return list(grouped.items())
