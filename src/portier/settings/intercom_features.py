"""Intercom settings >> Features (manual 7.5, 8.1, 9.15; Tables 6 and 17)."""

from __future__ import annotations

from .declare import Page, group, setting


class PhoneFeatures(Page):
    """The rows of Table 17 that Fanvil files keep in the PHONE FEATURE module (Push XML, line display)."""

    fanvil_module = "PHONE FEATURE MODULE"

    push_xml_server: str = setting("", key="Push XML IP", label="Push XML Server",
                                   help="Only Push XML requests from this server are shown; empty accepts "
                                        "none.")
    line_display_format: str = setting("$name@$protocol$instance", key="Line Display Format",
                                       label="Line Display Format",
                                       help="How a line is named on screen and in logs ($name, $protocol, "
                                            "$instance).")
    push_xml_auth: bool = setting(False, key="Enable Push XML Auth", label="Enable Push XML Auth",
                                  help="Require the web user and password with Push XML requests.")


class FeatureBasic(Page):
    """Basic Settings of Table 17 (and call waiting, manual 7.5)."""

    call_waiting: bool = setting(True, key="P1 CallWaiting", label="Enable Call Waiting",
                                 help="Accept a second incoming call during a call; off rejects it as busy.")
    auto_handdown: bool = setting(True, key="P1 Auto Onhook", label="Enable Auto Handdown",
                                  help="Hang up and return to idle by itself when the far end ends a "
                                       "hands-free call.")
    auto_handdown_time: int = setting(3, key="P1 Auto Onhook Time", label="Auto Handdown Time", unit="s",
                                      ge=1, le=30, help="Delay before the automatic hang-up.")
    silent_mode: bool = setting(False, key="P1 Mute Ringing", label="Enable Silent Mode",
                                help="Do not ring on incoming calls.")
    disable_mute_for_ring: bool = setting(False, key="P1 Mute For Ring", label="Disable Mute for Ring",
                                          help="Stop the ringer from being muted.")
    ban_outgoing: bool = setting(False, key="P1 Ban Dial Out", label="Ban Outgoing",
                                 help="Forbid every outgoing call.")
    restricted_incoming: bool = setting(True, key="P1 Enable Black List",
                                        label="Enable Restricted Incoming List",
                                        help="Reject incoming calls from numbers on the restricted incoming "
                                             "list (Call List page).")
    restricted_outgoing: bool = setting(True, key="P1 Enable CallBar",
                                        label="Enable Restricted Outgoing List",
                                        help="Refuse to dial numbers on the restricted outgoing list.")
    country_code_enable: bool = setting(False, key="P1 Enable Country Code", label="Enable country Code",
                                        help="Add the country and area codes below to dialled numbers.")
    country_code: str = setting("", key="P1 Country Code", label="Country Code",
                                help="Country code used when the option above is on.")
    area_code: str = setting("", key="P1 Call Area Code", label="Area Code",
                             help="Area code used when the country code option is on.")
    allow_ip_call: bool = setting(True, key="P1 Allow IP Call", label="Allow IP Call",
                                  help="Allow calls dialled as an IP address (direct peer-to-peer calls).")
    p2p_ip_prefix: str = setting(".", key="P1 IP Dial Prefix", label="P2P IP Prefix",
                                 help='Prefix completed by "#<digits>", e.g. "172.16.2." makes #160 dial '
                                      "172.16.2.160.")
    call_number_filter: str = setting("", key="P1 Call Number Filter", label="Call Number Filter",
                                      help="Characters removed from dialled numbers (e.g. '&' turns 78&9 "
                                           "into 789).")
    auto_resume_current: bool = setting(False, key="P1 Auto Resume Current", label="Auto Resume Current",
                                        help="Resume a held call automatically when the current call "
                                             "changes.")
    limit_talking_duration: bool = setting(False, key="P1 Limit Talk Duration",
                                           label="Limit Talking Duration",
                                           help="Hang up calls once they reach Talking Duration.")
    talking_duration: int = setting(120, key="P1 Talk Duration", label="Talking Duration", unit="s", ge=20,
                                    le=600, help="Longest call allowed when the limit above is on.")
    no_answer_hangup_timeout: int = setting(120, key="P1 Call Timeout", label="No Answer Auto HangUp Timeout",
                                            unit="s", ge=1, le=3600,
                                            help="Hang up a call that is not answered within this time.")
    phone: PhoneFeatures = group(PhoneFeatures, help="Push XML and line display")


class FeatureTones(Page):
    """Tone Settings of Table 17 (and the call waiting tone of manual 7.5)."""

    holding_tone: bool = setting(True, key="P1 CHolding Tone", label="Enable Holding Tone",
                                 help="Play a tone while a call is held.")
    call_waiting_tone: bool = setting(True, key="P1 CWaiting Tone", label="Enable Call Waiting Tone",
                                      help="Beep when a second call arrives during a call.")
    dialing_dtmf_tone: bool = setting(True, key="P1 Dial DTMF Tone", label="Play Dialing DTMF Tone",
                                      help="Play the DTMF tone locally for digits pressed while dialling.")
    talking_dtmf_tone: bool = setting(True, key="P1 Talk DTMF Tone", label="Play Talking DTMF Tone",
                                      help="Play the DTMF tone locally for digits pressed during a call.")


class IntercomFeature(Page):
    """Intercom Settings of Table 17 and Table 6 (manual 8.1): auto-answered intercom calls."""

    enable: bool = setting(True, key="P1 Enable Intercom", label="Enable Intercom",
                           help="Answer calls that carry an intercom Call-Info/Alert-Info header "
                                "automatically.")
    mute: bool = setting(False, key="P1 Intercom Mute", label="Enable Intercom Mute",
                         help="Mute the microphone during intercom calls.")
    tone: bool = setting(True, key="P1 Intercom Tone", label="Enable Intercom Tone",
                         help="Play the intercom tone when an intercom call arrives.")
    barge: bool = setting(False, key="P1 Intercom Barge", label="Enable Intercom Barge",
                          help="Answer an intercom call even during a call; a second intercom call is still "
                               "rejected.")


class ResponseCodes(Page):
    """Response Code Settings of Table 17: SIP status codes sent when a call is refused."""

    busy: int = setting(486, key="P1 Busy Return Code", label="Busy Response Code",
                        help="SIP response sent when the line is busy.", ge=400, le=699)
    reject: int = setting(603, key="P1 Reject Return Code", label="Reject Response Code",
                          help="SIP response sent when a call is rejected.", ge=400, le=699)


class Features(Page):
    """Intercom settings >> Features (manual 9.15, Table 17)."""

    fanvil_module = "CALL FEATURE MODULE"
    fanvil_section = "--Port Config--"

    basic: FeatureBasic = group(FeatureBasic, help="Basic Settings")
    tones: FeatureTones = group(FeatureTones, help="Tone Settings")
    intercom: IntercomFeature = group(IntercomFeature, help="Intercom Settings")
    response_codes: ResponseCodes = group(ResponseCodes, help="Response Code Settings")
