"""One SIP account: Line >> SIP >> SIP1/SIP2 (manual 9.12, Table 15, Picture 25)."""

from __future__ import annotations

from enum import IntEnum

from .choices import (
    DEFAULT_CODECS,
    Codec,
    DnsMode,
    DtmfInfoMode,
    DtmfMode,
    KeepAliveType,
    RtpEncryption,
    SrtpAuthTag,
    TlsVersion,
    Transport,
)
from .declare import Page, group, setting


class ConferenceType(IntEnum):
    LOCAL = 0
    SERVER = 1


class ServerType(IntEnum):
    COMMON = 0
    BROADSOFT = 1
    ASTERISK = 2
    KAMAILIO = 3


class SipVersion(IntEnum):
    RFC2543 = 0
    RFC3261 = 1


class AnonymousStandard(IntEnum):
    NONE = 0
    RFC3323 = 1
    RFC3325 = 2


class CallerIdHeader(IntEnum):
    FROM = 0
    PAI = 1
    RPID = 2
    PAI_RPID_FROM = 3
    AUTO = 4


class SipServer(Page):
    """A registrar the line registers with; SIP Server 2 is the failover target."""

    address: str = setting(
        "", key="SIP{n} {p} Addr", label="Server Address", help="IP address or FQDN of the SIP server."
    )
    port: int = setting(
        5060, key="SIP{n} {p} Port", label="Server Port", help="SIP server port.", ge=1, le=65535
    )
    transport: Transport = setting(
        Transport.UDP,
        key="SIP{n} {tp}",
        label="Transport Protocol",
        help="Transport used to reach this server.",
    )
    expiration: int = setting(
        3600,
        key="SIP{n} {p} TTL",
        label="Registration Expiration",
        unit="s",
        ge=30,
        le=604800,
        help="Registration lifetime asked of the server.",
    )


class SipProxy(Page):
    """An outbound proxy; requests go through it instead of straight to the server."""

    address: str = setting(
        "",
        key="SIP{n} {p} Addr",
        label="Proxy Server Address",
        help="IP address or FQDN of the SIP proxy server.",
    )
    port: int = setting(
        5060, key="SIP{n} {p} Port", label="Proxy Server Port", help="Proxy server port.", ge=1, le=65535
    )


class SipLine(Page):
    """One SIP account (manual Table 15 and Picture 25)."""

    fanvil_section = "--SIP Line List--"

    # Register settings
    activate: bool = setting(
        False,
        key="SIP{n} Enable Reg",
        label="Activate",
        help="Whether the service of the line is activated (registers and takes calls).",
    )
    username: str = setting(
        "",
        key="SIP{n} Phone Number",
        label="Username",
        help="User name (phone number) of the service account.",
    )
    display_name: str = setting(
        "", key="SIP{n} Display Name", label="Display name", help="Display name sent in call requests."
    )
    auth_user: str = setting(
        "",
        key="SIP{n} Register User",
        label="Authentication User",
        help="Authentication user of the service account; empty uses Username.",
    )
    auth_password: str = setting(
        "",
        key="SIP{n} Register Pswd",
        label="Authentication Password",
        help="Authentication password of the service account.",
        secret=True,
    )
    realm: str = setting(
        "", key="SIP{n} Local Domain", label="Realm", help="SIP domain, if the service provider asks for one."
    )
    server_name: str = setting(
        "",
        key="SIP{n} Sip Name",
        label="Server Name",
        help="Name of the server, used as the domain of the line's URI when set.",
    )
    server1: SipServer = group(SipServer, p="Register", tp="Transport", help="SIP Server 1")
    server2: SipServer = group(SipServer, p="Backup", tp="Backup Transport", help="SIP Server 2")
    proxy: SipProxy = group(SipProxy, p="Proxy", help="Proxy server")
    proxy_user: str = setting("", key="SIP{n} Proxy User", label="Proxy User", help="SIP proxy user.")
    proxy_password: str = setting(
        "", key="SIP{n} Proxy Pswd", label="Proxy Password", help="SIP proxy password.", secret=True
    )
    backup_proxy: SipProxy = group(SipProxy, p="BakProxy", help="Backup proxy server")

    # Basic settings
    auto_answer: bool = setting(
        True,
        key="SIP{n} Auto Answer",
        label="Enable Auto Answering",
        help="Answer incoming calls on this line automatically after the delay.",
    )
    auto_answer_delay: int = setting(
        0,
        key="SIP{n} NoAnswerTime",
        label="Auto Answering Delay",
        unit="s",
        ge=0,
        le=120,
        help="Delay before an incoming call is answered automatically.",
    )
    forward_unconditional: bool = setting(
        False,
        key="SIP{n} Always FWD",
        label="Call Forward Unconditional",
        help="Forward every incoming call to the number below.",
    )
    forward_unconditional_number: str = setting(
        "",
        key="SIP{n} Always FWD Num",
        label="Call Forward Number for Unconditional",
        help="Target of unconditional call forward.",
    )
    forward_busy: bool = setting(
        False,
        key="SIP{n} Busy FWD",
        label="Call Forward on Busy",
        help="Forward incoming calls while busy to the number below.",
    )
    forward_busy_number: str = setting(
        "",
        key="SIP{n} Busy FWD Num",
        label="Call Forward Number for Busy",
        help="Target of call forward on busy.",
    )
    forward_no_answer: bool = setting(
        False,
        key="SIP{n} No Answer FWD",
        label="Call Forward on No Answer",
        help="Forward calls not answered within the delay to the number below.",
    )
    forward_no_answer_number: str = setting(
        "",
        key="SIP{n} NoAnswer FWD Num",
        label="Call Forward Number for No Answer",
        help="Target of call forward on no answer.",
    )
    forward_no_answer_delay: int = setting(
        5,
        key="SIP{n} FWD Timer",
        label="Call Forward Delay for No Answer",
        unit="s",
        ge=0,
        le=120,
        help="How long an unanswered call rings before it is forwarded.",
    )
    transfer_timeout: int = setting(
        0,
        key="SIP{n} XFER Expire",
        label="Transfer Timeout",
        unit="s",
        ge=0,
        le=3600,
        help="Timeout of the call transfer process (0 = no limit).",
    )
    conference_type: ConferenceType = setting(
        ConferenceType.LOCAL,
        key="SIP{n} Use SRV Mixer",
        label="Conference Type",
        help="LOCAL mixes up to two remote parties on the device; SERVER dials the conference room below.",
    )
    server_conference_number: str = setting(
        "",
        key="SIP{n} SRV Mixer Uri",
        label="Server Conference Number",
        help="Conference room number when Conference Type is SERVER.",
    )
    subscribe_voice_message: bool = setting(
        False,
        key="SIP{n} Subscribe",
        label="Subscribe For Voice Message",
        help="Subscribe to message-waiting notifications (RFC 3842).",
    )
    voice_message_number: str = setting(
        "",
        key="SIP{n} MWI Num",
        label="Voice Message Number",
        help="Number dialled to retrieve voice messages.",
    )
    voice_message_period: int = setting(
        3600,
        key="SIP{n} Sub Expire",
        label="Voice Message Subscribe Period",
        unit="s",
        ge=60,
        le=999999,
        help="Interval of the voice-message subscription.",
    )
    hotline: bool = setting(
        False,
        key="SIP{n} Enable Hotline",
        label="Enable Hotline",
        help="Dial the hotline number as soon as the audio channel opens.",
    )
    hotline_delay: int = setting(
        0,
        key="SIP{n} WarmLine Time",
        label="Hotline Delay",
        unit="s",
        ge=0,
        le=9,
        help="Delay before the hotline number is dialled.",
    )
    hotline_number: str = setting(
        "", key="SIP{n} Hotline Num", label="Hotline Number", help="Number dialled by the hotline."
    )
    dial_without_registered: bool = setting(
        False,
        key="SIP{n} Dial Off Line",
        label="Dial Without Registered",
        help="Allow calls out through the proxy while not registered.",
    )
    missed_call_log: bool = setting(
        True,
        key="SIP{n} MissedCallLog",
        label="Enable Missed Call Log",
        help="Save missed calls in the call log.",
    )
    dtmf_mode: DtmfMode = setting(
        DtmfMode.AUTO,
        key="SIP{n} DTMF Mode",
        label="DTMF Type",
        help="How DTMF digits are sent on this line.",
    )
    dtmf_info_mode: DtmfInfoMode = setting(
        DtmfInfoMode.SEND_STAR_POUND,
        key="SIP{n} DTMF Info Mode",
        label="DTMF SIP INFO Mode",
        help="Send '*' and '#' or '10' and '11' in SIP INFO.",
    )
    dnd: bool = setting(
        False,
        key="SIP{n} Enable DND",
        label="Enable DND",
        help="Do not disturb: reject every incoming call on this line.",
    )
    request_with_port: bool = setting(
        True,
        key="SIP{n} Req With Port",
        label="Request With Port",
        help="Put the server port in request URIs.",
    )
    use_vpn: bool = setting(
        True, key="SIP{n} Use VPN", label="Use VPN", help="Route this line through the VPN when one is up."
    )
    use_stun: bool = setting(
        False,
        key="SIP{n} NAT Type",
        label="Use STUN",
        help="Use STUN (Line >> Basic Settings) to learn the public address.",
    )
    signal_failback: bool = setting(
        False,
        key="SIP{n} Signal Failback",
        label="Signal Failback",
        help="Fail back for every request, not only for registration.",
    )
    enable_failback: bool = setting(
        True,
        key="SIP{n} Enable Failback",
        label="Enable Failback",
        help="Return to SIP Server 1 when it is reachable again.",
    )
    failback_interval: int = setting(
        1800,
        key="SIP{n} Failback Interval",
        label="Failback Interval",
        unit="s",
        ge=30,
        le=86400,
        help="How often SIP Server 1 is tried again while on the backup.",
    )
    signal_retry_counts: int = setting(
        3,
        key="SIP{n} Signal Retry Counts",
        label="Signal Retry Counts",
        ge=1,
        le=10,
        help="Failed attempts on a server before switching to the other.",
    )
    codecs: list[Codec] = setting(
        DEFAULT_CODECS,
        key="SIP{n} VoiceCodecMap",
        label="Enabled Codecs",
        help="Enabled codecs, in order of preference.",
    )

    # Advanced settings
    use_feature_code: bool = setting(
        False,
        key="SIP{n} SvcCode Mode",
        label="Use Feature Code",
        help="Let the server handle the features below: the device dials the codes instead of acting itself.",
    )
    dnd_on_code: str = setting(
        "", key="SIP{n} DNDOn SvcCode", label="Enable DND", help="Feature code dialled to enable DND."
    )
    dnd_off_code: str = setting(
        "", key="SIP{n} DNDOff SvcCode", label="Disable DND", help="Feature code dialled to disable DND."
    )
    cfu_on_code: str = setting(
        "",
        key="SIP{n} CFUOn SvcCode",
        label="Enable Call Forward Unconditional",
        help="Feature code dialled to enable unconditional forward.",
    )
    cfu_off_code: str = setting(
        "",
        key="SIP{n} CFUOff SvcCode",
        label="Disable Call Forward Unconditional",
        help="Feature code dialled to disable unconditional forward.",
    )
    cfb_on_code: str = setting(
        "",
        key="SIP{n} CFBOn SvcCode",
        label="Enable Call Forward on Busy",
        help="Feature code dialled to enable forward on busy.",
    )
    cfb_off_code: str = setting(
        "",
        key="SIP{n} CFBOff SvcCode",
        label="Disable Call Forward on Busy",
        help="Feature code dialled to disable forward on busy.",
    )
    cfn_on_code: str = setting(
        "",
        key="SIP{n} CFNOn SvcCode",
        label="Enable Call Forward on No Answer",
        help="Feature code dialled to enable forward on no answer.",
    )
    cfn_off_code: str = setting(
        "",
        key="SIP{n} CFNOff SvcCode",
        label="Disable Call Forward on No Answer",
        help="Feature code dialled to disable forward on no answer.",
    )
    anc_on_code: str = setting(
        "",
        key="SIP{n} ANCOn SvcCode",
        label="Enable Blocking Anonymous Call",
        help="Feature code dialled to enable anonymous call blocking.",
    )
    anc_off_code: str = setting(
        "",
        key="SIP{n} ANCOff SvcCode",
        label="Disable Blocking Anonymous Call",
        help="Feature code dialled to disable anonymous call blocking.",
    )
    cw_on_code: str = setting(
        "",
        key="SIP{n} CW On Code",
        label="Call Waiting On Code",
        help="Feature code dialled to enable call waiting.",
    )
    cw_off_code: str = setting(
        "",
        key="SIP{n} CW Off Code",
        label="Call Waiting Off Code",
        help="Feature code dialled to disable call waiting.",
    )
    send_anonymous_on_code: str = setting(
        "",
        key="SIP{n} Send ANOn Code",
        label="Send Anonymous On Code",
        help="Feature code dialled to enable anonymous calling.",
    )
    send_anonymous_off_code: str = setting(
        "",
        key="SIP{n} Send ANOffCode",
        label="Send Anonymous Off Code",
        help="Feature code dialled to disable anonymous calling.",
    )
    sip_encryption: bool = setting(
        False,
        key="SIP{n} Enable SigCrypto",
        label="SIP Encryption",
        help="Obfuscate SIP with the pass phrase below (Fanvil proprietary; "
        "use TLS transport for standard encryption).",
    )
    sip_encryption_key: str = setting(
        "",
        key="SIP{n} SigCrypto Key",
        label="SIP Encryption Key",
        help="Pass phrase for SIP encryption.",
        secret=True,
    )
    rtp_encryption: RtpEncryption = setting(
        RtpEncryption.DISABLED,
        key="SIP{n} Media Crypto",
        label="RTP Encryption(SRTP)",
        help="SRTP with SDES keys (RFC 4568): off, offered, or required.",
    )
    rtp_encryption_key: str = setting(
        "",
        key="SIP{n} MedCrypto Key",
        label="RTP Encryption Key",
        help="Pass phrase for RTP encryption.",
        secret=True,
    )
    srtp_auth_tag: SrtpAuthTag = setting(
        SrtpAuthTag.AES_CM_128_HMAC_SHA1_80,
        key="SIP{n} SRTP Auth-Tag",
        label="SRTP Crypto Suite",
        help="SRTP crypto suite offered first.",
    )
    session_timer: bool = setting(
        False,
        key="SIP{n} Session Timer",
        label="Enable Session Timer",
        help="Refresh calls with session timers (RFC 4028); end calls not refreshed.",
    )
    session_timeout: int = setting(
        1800,
        key="SIP{n} S Timer Expires",
        label="Session Timeout",
        unit="s",
        ge=90,
        le=7200,
        help="Session interval asked for.",
    )
    blf_list: bool = setting(
        False, key="SIP{n} Enable BLFList", label="Enable BLF List", help="Subscribe to a BLF list."
    )
    blf_list_number: str = setting(
        "", key="SIP{n} BLFList Uri", label="BLF List Number", help="BLF list URI to subscribe to."
    )
    keep_alive_type: KeepAliveType = setting(
        KeepAliveType.SIP_OPTIONS,
        key="SIP{n} NAT UDPUpdate",
        label="Keep Alive Type",
        help="Keep the NAT pinhole open with a dummy UDP packet or SIP OPTIONS.",
    )
    keep_alive_interval: int = setting(
        30,
        key="SIP{n} UDPUpdate TTL",
        label="Keep Alive Interval",
        unit="s",
        ge=5,
        le=3600,
        help="Interval between keep-alive packets.",
    )
    keep_authentication: bool = setting(
        False,
        key="SIP{n} Keep AUTH",
        label="Keep Authentication",
        help="Send credentials pre-emptively from the last challenge.",
    )
    block_anonymous: bool = setting(
        False,
        key="SIP{n} Ban Anonymous",
        label="Blocking Anonymous Call",
        help="Reject incoming calls that present no caller ID.",
    )
    send_anonymous: bool = setting(
        False, key="SIP{n} CLIR", label="Send Anonymous", help="Hide this line's identity on outgoing calls."
    )
    user_agent: str = setting(
        "",
        key="SIP{n} User Agent",
        label="User Agent",
        help="User-Agent header; empty sends the model and software version.",
    )
    server_type: ServerType = setting(
        ServerType.COMMON,
        key="SIP{n} Server Type",
        label="Specific Server Type",
        help="Collaborate with a specific server type.",
    )
    sip_version: SipVersion = setting(
        SipVersion.RFC3261, key="SIP{n} RFC Ver", label="SIP Version", help="SIP version spoken on this line."
    )
    anonymous_standard: AnonymousStandard = setting(
        AnonymousStandard.NONE,
        key="SIP{n} Anonymous Standard",
        label="Anonymous Call Standard",
        help="How an anonymous call (Send Anonymous) hides the caller: None sends only an anonymous From; "
        "RFC 3323 adds Privacy: header; RFC 3325 adds Privacy: id and P-Preferred-Identity, so the "
        "proxy still knows the caller.",
    )
    local_port: int = setting(
        5060,
        key="SIP{n} Signal Port",
        label="Local Port",
        help="Local SIP port of this line.",
        ge=1,
        le=65535,
    )
    ring_type: str = setting(
        "default",
        key="SIP{n} Ring Type",
        label="Ring Type",
        help="Ring tone of this line ('default' uses the Media page's default ring).",
    )
    user_is_phone: bool = setting(
        False, key="SIP{n} User Is Phone", label="Enable user=phone", help="Add user=phone to SIP URIs."
    )
    use_tel_call: bool = setting(
        False, key="SIP{n} Use Tel Call", label="Use Tel Call", help="Call with tel: URIs."
    )
    auto_tcp: bool = setting(
        False,
        key="SIP{n} Auto TCP",
        label="Auto TCP",
        help="Send requests over TCP when they exceed the UDP size limit (RFC 3261 18.1.1).",
    )
    prack: bool = setting(
        False,
        key="SIP{n} PRACK",
        label="Enable PRACK",
        help="Support reliable provisional responses (RFC 3262).",
    )
    rport: bool = setting(
        True, key="SIP{n} Enable Rport", label="Enable Rport", help="Add rport to Via (RFC 3581)."
    )
    dns_mode: DnsMode = setting(
        DnsMode.A,
        key="SIP{n} DNS Mode",
        label="DNS Mode",
        help="How the server name is resolved: A, SRV or NAPTR (RFC 3263).",
    )
    long_contact: bool = setting(
        False,
        key="SIP{n} Long Contact",
        label="Enable Long Contact",
        help="Allow more parameters in Contact (RFC 3840).",
    )
    strict_proxy: bool = setting(
        True,
        key="SIP{n} Strict Proxy",
        label="Enable Strict Proxy",
        help="Reply to the source address of the server's packets, not the Via address.",
    )
    convert_uri: bool = setting(
        True,
        key="SIP{n} Uri Escaped",
        label="Convert URI",
        help="Escape characters other than digits and letters as %hh.",
    )
    quote_display_name: bool = setting(
        False,
        key="SIP{n} Quota Name",
        label="Use Quote in Display Name",
        help='Quote the display name ("Fanvil" rather than Fanvil).',
    )
    gruu: bool = setting(
        False,
        key="SIP{n} Enable GRUU",
        label="Enable GRUU",
        help="Ask for a globally routable user-agent URI (RFC 5627).",
    )
    sync_clock_time: bool = setting(
        False,
        key="SIP{n} Syn Clock Time",
        label="Sync Clock Time",
        help="Set the clock from the server's Date header.",
    )
    inactive_hold: bool = setting(
        False,
        key="SIP{n} Inactive Hold",
        label="Enable Use Inactive Hold",
        help="Hold with a=inactive rather than a=sendonly.",
    )
    caller_id_header: CallerIdHeader = setting(
        CallerIdHeader.AUTO,
        key="SIP{n} Caller Id Type",
        label="Caller ID Header",
        help="Header the caller ID is taken from.",
    )
    respond_182: bool = setting(
        False,
        key="SIP{n} Respond 182",
        label="Use 182 Response for Call waiting",
        help="Answer a waiting call with 182 Queued.",
    )
    single_codec: bool = setting(
        False,
        key="SIP{n} Single Codec",
        label="Response Single Codec",
        help="Answer offers with a single codec.",
    )
    blf_server: str = setting(
        "",
        key="SIP{n} BLF Server",
        label="BLF Server",
        help="Server BLF subscriptions go to when it is not the registrar.",
    )
    feature_sync: bool = setting(
        False,
        key="SIP{n} Feature Sync",
        label="Enable Feature Sync",
        help="Synchronise features with the server.",
    )
    sca: bool = setting(False, key="SIP{n} Enable SCA", label="Enable SCA", help="Shared call appearance.")
    callpark_number: str = setting(
        "", key="SIP{n} CallPark Num", label="CallPark Number", help="Call park number."
    )
    server_expire: bool = setting(
        True,
        key="SIP{n} Update Reg Expire",
        label="Server Expire",
        help="Follow the expiry the server grants instead of the one asked for.",
    )
    tls_version: TlsVersion = setting(
        TlsVersion.TLS_1_2,
        key="SIP{n} TLS Version",
        label="TLS Version",
        help="Lowest TLS version accepted on this line.",
    )
    csta_number: str = setting("", key="SIP{n} CSTA Number", label="uaCSTA Number", help="uaCSTA number.")
    click_to_talk: bool = setting(
        False, key="SIP{n} Click to Talk", label="Enable Click To Talk", help="Accept click-to-talk requests."
    )
    change_port: bool = setting(
        False,
        key="SIP{n} Enable ChgPort",
        label="Enable ChangePort",
        help="Use a new local port after a registration failure.",
    )
    intercom_number: str = setting(
        "",
        key="SIP{n} Intercom Num",
        label="Intercom Number",
        help="Prefix that turns a dialled number into an intercom call.",
    )
    mac_header: bool = setting(
        False,
        key="SIP{n} Enable MAC Header",
        label="Enable MAC Header",
        help="Send the device MAC address in a header.",
    )
    unregister_on_boot: bool = setting(
        False,
        key="SIP{n} Unregister On Boot",
        label="Unregister On Boot",
        help="Remove all bindings of the account when the device starts.",
    )
    ptime: int = setting(
        20,
        key="SIP{n} Ptime",
        label="Packet Time",
        unit="ms",
        ge=0,
        le=120,
        help="Audio packet time offered (0 = the codec's default).",
    )
