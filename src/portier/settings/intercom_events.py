"""Intercom settings >> MCAST and Action URL (manual 8.2, 9.18, 9.19; Tables 7 and 20)."""

from __future__ import annotations

from .declare import Page, described, group, setting


class McastGroup(Page):
    """One multicast listening address (Table 7: Name, Host:port)."""

    fanvil_section = "--Mcast Addr--"

    name: str = setting("", key="MCAST{n} Name", label="Name", help="Name of the listened multicast group.")
    host: str = setting("", key="MCAST{n} Host", label="Host",
                        help="Multicast IP address listened to; empty listens to nothing.")
    port: int = setting(0, key="MCAST{n} Port", label="Port", ge=0, le=65535,
                        help="UDP port of the multicast RTP stream (0 = unset).")
    channel: int = setting(0, key="MCAST{n} Channel", label="Channel", ge=0, le=50,
                           help="Paging channel of the group (0 = any).")


class McastDynamic(Page):
    """Auto multicast of Table 7: listening set up by SIP NOTIFY."""

    fanvil_section = "--Mcast Dynamic--"

    enable: bool = setting(False, key="Enable Auto Mcast", label="Enable Auto Mcast",
                           help="Start or stop multicast listening when a SIP NOTIFY asks for it. Off by "
                                "default: it joins multicast groups.")
    timeout_delete_time: int = setting(60, key="Auto Exit Expires", label="Auto Mcast Timeout Delete Time",
                                       unit="s", ge=1, le=3600,
                                       help="Stop listening when no multicast RTP has arrived for this long.")


class Mcast(Page):
    """Intercom settings >> MCAST (manual 8.2, 9.18, Table 7)."""

    fanvil_module = "MCAST CFG MODULE"

    sip_priority: int = setting(1, key="Priority", label="SIP Priority",
                                help="Priority of SIP calls against multicast (1 highest, 10 lowest).",
                                ge=1, le=10)
    intercom_priority: int = setting(1, key="Intercom Priority", label="Intercom Priority",
                                     help="Priority of intercom calls; a higher priority barges in, a lower "
                                          "one is rejected.", ge=1, le=10)
    page_priority: bool = setting(False, key="Enable Priority", label="Enable Page Priority",
                                  help="Play the higher-priority multicast group whichever arrived first.")
    mcast_tone: bool = setting(True, key="Multicast Tone", label="Enable Mcast Tone",
                               help="Play a prompt tone when a multicast stream starts.")
    auto: McastDynamic = group(McastDynamic, help="Auto Mcast")
    group1: McastGroup = group(McastGroup, help="Multicast group 1")
    group2: McastGroup = group(McastGroup, help="Multicast group 2")
    group3: McastGroup = group(McastGroup, help="Multicast group 3")
    group4: McastGroup = group(McastGroup, help="Multicast group 4")
    group5: McastGroup = group(McastGroup, help="Multicast group 5")
    group6: McastGroup = group(McastGroup, help="Multicast group 6")
    group7: McastGroup = group(McastGroup, help="Multicast group 7")
    group8: McastGroup = group(McastGroup, help="Multicast group 8")
    group9: McastGroup = group(McastGroup, help="Multicast group 9")
    group10: McastGroup = group(McastGroup, help="Multicast group 10")


_OCTET = r"(25[0-5]|2[0-4]\d|1?\d?\d)"
_IPV4_NET = rf"{_OCTET}(\.{_OCTET}){{3}}(/(3[0-2]|[12]?\d))?"
_IPV6_NET = r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(/(12[0-8]|1[01]\d|[1-9]?\d))?"
ADDRESS_LIST = described(
    rf"^(({_IPV4_NET}|{_IPV6_NET})([,; ]+({_IPV4_NET}|{_IPV6_NET}))*)?$",
    "IP addresses or networks such as 192.168.1.10 or 192.168.1.0/24, separated by commas",
)
"""IPv4 or IPv6 addresses or networks (CIDR), separated by commas, semicolons or blanks; or nothing.
A typo such as 10.0.0.300 or a host name is refused when saved, not skipped when a command comes."""


def _url(key: str, label: str, when: str) -> str:
    """An Action URL event: requested (HTTP GET) when the event happens; empty reports nothing."""
    result: str = setting("", key=key, label=label,
                          help=f"URL requested when {when}; empty sends nothing.")
    return result


class ActionUrl(Page):
    """Intercom settings >> Action URL (manual 9.19, Table 20): event reports to a server."""

    fanvil_module = "CTI CONFIG MODULE"

    restrict_active_uri_ip: str = setting("", key="Active Uri IP", label="Restrict Active URI Source IP",
                                          pattern=ADDRESS_LIST,
                                          help="Accept Active URI commands only from these IP addresses "
                                               "or networks (Table 17), e.g. 192.168.1.10 or "
                                               "192.168.1.0/24, several separated by commas; empty "
                                               "accepts none.")
    start_reboot: str = _url("Start Reboot Url", "Start Reboot", "the device starts to reboot")
    boot_completed: str = _url("Boot Completed Url", "Setup Completed", "the device has booted")
    ip_change: str = _url("IP Change Url", "IP Changed", "the device's IP address changes")
    reg_on: str = _url("Reg On Url", "Registration Succeeded", "a line registers")
    reg_off: str = _url("Reg Off Url", "Registration Disabled", "a line unregisters")
    reg_failed: str = _url("Reg Failed Url", "Registration Failed", "a registration fails")
    idle: str = _url("PhoneState Idle Url", "Idle", "the device becomes idle")
    talking: str = _url("PhoneState Talking", "Talking", "the device starts talking")
    ringing: str = _url("PhoneState Ringing", "Ringing", "the device starts ringing")
    offhook: str = _url("Offhook Url", "Off Hook", "the device goes off hook")
    onhook: str = _url("Onhook Uri", "On Hook", "the device goes on hook")
    incoming_call: str = _url("Incoming Call Url", "Incoming Call", "a call comes in")
    outgoing_call: str = _url("Outgoing Call Url", "Outgoing Call", "a call goes out")
    call_active: str = _url("Call Active Url", "Call Established", "a call is answered")
    call_stop: str = _url("Call Stop Url", "Call Terminated", "a call ends")
    transfer: str = _url("Transfer Url", "Transfer", "a call is transferred")
    hold_on: str = _url("Hold On Url", "Hold", "a call is put on hold")
    hold_off: str = _url("Hold Off Url", "Unhold", "a held call is resumed")
    mute_on: str = _url("Mute On Url", "Mute", "the microphone is muted")
    mute_off: str = _url("Mute Off Url", "Unmute", "the microphone is unmuted")
    dnd_on: str = _url("DND On Url", "DND Enabled", "do-not-disturb is switched on")
    dnd_off: str = _url("DND Off Url", "DND Disabled", "do-not-disturb is switched off")
    always_fwd_on: str = _url("Always FWD On Url", "Always Forward Enabled",
                              "unconditional forward is switched on")
    always_fwd_off: str = _url("Always FWD Off Url", "Always Forward Disabled",
                               "unconditional forward is switched off")
    busy_fwd_on: str = _url("Busy FWD On Url", "Busy Forward Enabled", "forward on busy is switched on")
    busy_fwd_off: str = _url("Busy FWD Off Url", "Busy Forward Disabled", "forward on busy is switched off")
    no_answer_fwd_on: str = _url("No Ans FWD On Url", "No Answer Forward Enabled",
                                 "forward on no answer is switched on")
    no_answer_fwd_off: str = _url("No Ans FWD Off Url", "No Answer Forward Disabled",
                                  "forward on no answer is switched off")
    missed_call: str = _url("New Missed call Url", "Missed Call", "a call is missed")
    sip_message: str = _url("Recv Sip Msg Url", "SIP Message Received", "a SIP MESSAGE arrives")
    reset: str = _url("Reset Phone Url", "Factory Reset", "the device is reset to factory settings")
    # Door station events (no Fanvil phone key exists for these).
    input_triggered: str = _url("Input Triggered Url", "Input Triggered", "an input (door contact, exit "
                                "button) is triggered")
    output_triggered: str = _url("Output Triggered Url", "Output Triggered", "an output (door lock relay) "
                                 "switches on")
    output_reset: str = _url("Output Reset Url", "Output Reset", "an output (door lock relay) switches back")
    tamper_alarm: str = _url("Tamper Alarm Url", "Tamper Alarm", "the tamper switch raises an alarm")
    button_pressed: str = _url("Button Pressed Url", "Call Button Pressed", "a call button is pressed")
    dtmf_received: str = _url("DTMF Received Url", "DTMF Received", "a DTMF digit is received in a call")
