"""Intercom settings >> Media and Camera Settings (manual 6.6, 9.16, 9.17; Tables 18 and 19)."""

from __future__ import annotations

from enum import IntEnum

from .choices import DEFAULT_CODECS, Codec
from .declare import Page, group, setting


class OpusSampleRate(IntEnum):
    NB_8K = 0
    WB_16K = 1


class G726Packing(IntEnum):
    """Bit order of G.726 code words in RTP: RFC 3551 4.5.4, or the AAL2 order (ITU-T I.366.2)."""

    RFC3551 = 0
    AAL2 = 1


class IlbcPayloadLength(IntEnum):
    """iLBC frame length; the value is the length in ms."""

    MS_20 = 20
    MS_30 = 30


class CameraConnectMode(IntEnum):
    NONE = 0
    IP_CAMERA = 1


class VideoDirection(IntEnum):
    SENDONLY = 0
    RECVONLY = 1
    SENDRECV = 2


class MediaCodecs(Page):
    """Codecs Settings of Table 18."""

    fanvil_section = "--PHONE CONFIG--"

    enabled: list[Codec] = setting(DEFAULT_CODECS, key="Audio Codec Sets", label="Codecs Settings",
                                   help="Enabled voice codecs, in order of preference.")


class MediaVolume(Page):
    """Ring and volume rows of Table 18 and the volume setting of manual 6.6."""

    fanvil_module = "PHONE FEATURE MODULE"
    fanvil_section = "--Voice Volume--"

    default_ring_type: str = setting("Type 1", key="Ring Type", label="Default Ring Type",
                                     help="Ring used when no line or Alert-Info rule picks another one.")
    speakerphone_volume: int = setting(5, key="HandFree Vol", label="Speakerphone Volume",
                                       help="Loudspeaker output volume in calls.", ge=1, le=9)
    speakerphone_ring_volume: int = setting(5, key="HandFree Ring Vol", label="Speakerphone Ring Volume",
                                            help="Loudspeaker volume of the ring.", ge=1, le=9)
    microphone_gain: int = setting(3, key="HandFree Mic Vol", label="Hands-free microphone gain",
                                   help="Microphone input level.", ge=1, le=9)


class AlertRing(Page):
    """One Alert-Info ring rule: a header value and the ring it selects."""

    value: str = setting("", key="Alert{n} Text", label="Value of notification message",
                         help="Alert-Info value (e.g. a ring name) an incoming INVITE must carry; empty "
                              "disables the rule.")
    ring_type: str = setting("Type 1", key="Alert{n} Ring Type", label="Ring Type",
                             help="Ring played when the Alert-Info value matches.")


class AlertInfoRings(Page):
    """Alert Info Ring Settings of Table 18: ten Alert-Info rules."""

    fanvil_module = "CALL FEATURE MODULE"
    fanvil_section = "--Alert Info Ring--"

    alert1: AlertRing = group(AlertRing, help="Alert-Info 1")
    alert2: AlertRing = group(AlertRing, help="Alert-Info 2")
    alert3: AlertRing = group(AlertRing, help="Alert-Info 3")
    alert4: AlertRing = group(AlertRing, help="Alert-Info 4")
    alert5: AlertRing = group(AlertRing, help="Alert-Info 5")
    alert6: AlertRing = group(AlertRing, help="Alert-Info 6")
    alert7: AlertRing = group(AlertRing, help="Alert-Info 7")
    alert8: AlertRing = group(AlertRing, help="Alert-Info 8")
    alert9: AlertRing = group(AlertRing, help="Alert-Info 9")
    alert10: AlertRing = group(AlertRing, help="Alert-Info 10")


class Media(Page):
    """Intercom settings >> Media (manual 9.16, Table 18; volume, manual 6.6)."""

    fanvil_module = "MM CONFIG MODULE"

    codecs: MediaCodecs = group(MediaCodecs, help="Codecs Settings")
    volume: MediaVolume = group(MediaVolume, help="Audio Settings")
    dtmf_payload_type: int = setting(101, key="Dtmf Payload Type", label="DTMF Payload Type",
                                     help="RTP payload type of RFC 2833 DTMF events.", ge=96, le=127)
    opus_payload_type: int = setting(107, key="Opus Payload Type", label="Opus payload type",
                                     help="RTP payload type offered for Opus.", ge=96, le=127)
    g726_packing: G726Packing = setting(G726Packing.RFC3551, key="G726 Packing", label="G.726 bit order",
                                        help="RFC3551 is the standard; AAL2 is what baresip, linphone and "
                                             "older Asterisk send under the same G726-32 name.")
    opus_sample_rate: OpusSampleRate = setting(OpusSampleRate.NB_8K, key="Opus Sample  Rate",
                                               label="OPUS Sample Rate",
                                               help="Opus bandwidth: narrowband 8 kHz or wideband 16 kHz.")
    ilbc_payload_type: int = setting(97, key="ILBC Payload Type", label="ILBC Payload Type",
                                     help="RTP payload type offered for iLBC.", ge=96, le=127)
    ilbc_payload_length: IlbcPayloadLength = setting(IlbcPayloadLength.MS_20, key="ILBC Payload Len",
                                                     label="ILBC Payload Length",
                                                     help="iLBC frame length, 20 or 30 ms.")
    vad: bool = setting(False, key="VAD", label="Enable VAD",
                        help="Voice activity detection: send comfort noise instead of silence to save "
                             "bandwidth.")
    rtcp_cname_user: str = setting("", key="RTCP CNAME User", label="CNAME user",
                                   help="User part of the RTCP CNAME; empty uses the device's own.")
    rtcp_cname_host: str = setting("", key="RTCP CNAME Host", label="CNAME host",
                                   help="Host part of the RTCP CNAME; empty uses the device's own.")
    rtp_keep_alive: bool = setting(False, key="RTP Keep Alive", label="RTP keep alive",
                                   help="During a call, send an RTP packet every 15 s (RFC 6263) while no "
                                        "media flows, to keep NAT bindings open.")
    alert_info: AlertInfoRings = group(AlertInfoRings, help="Alert Info Ring Settings (alert-info)")


class IpCamera(Page):
    """IP Camera Add of Table 19: the external camera whose stream calls carry."""

    name: str = setting("", key="IPCam Name", label="Name", help="Name of the camera.")
    username: str = setting("", key="IPCam User", label="Username",
                            help="User name for the camera's URL authentication.")
    password: str = setting("", key="IPCam Password", label="Password",
                            help="Password for the camera's URL authentication.", secret=True)
    brand: str = setting("", key="IPCam Brand", label="Ip Camera Brand",
                         help="Camera brand, which decides the stream URL format.")
    address: str = setting("", key="IPCam IP", label="ETH IP", help="IP address of the camera.")
    port: int = setting(554, key="IPCam Port", label="Port", ge=1, le=65535,
                        help="Port of the camera's stream (RTSP is 554).")
    user_agent: str = setting("", key="IPCam User Agent", label="UserAgent",
                              help="User-Agent sent when fetching the camera URL.")


class CameraAdvanced(Page):
    """Advanced Settings of Table 19: video negotiation."""

    video_direction: VideoDirection = setting(VideoDirection.SENDRECV, key="Video Negotiate Dir",
                                              label="Video Direction",
                                              help="Offer video as send only, receive only or send and "
                                                   "receive.")
    h264_payload_type: int = setting(117, key="H264 Payload Type", label="H.264 Payload Type",
                                     help="RTP payload type offered for H.264 video.", ge=96, le=127)


class Camera(Page):
    """Intercom settings >> Camera Settings (manual 9.17, Table 19)."""

    fanvil_module = "MM CONFIG MODULE"

    connect_mode: CameraConnectMode = setting(CameraConnectMode.NONE, key="IPCam Connect Mode",
                                              label="Connect Mode",
                                              help="Camera connection: none, or an external IP camera. Off "
                                                   "by default: it reaches out to the camera.")
    camera: IpCamera = group(IpCamera, help="IP Camera Add")
    advanced: CameraAdvanced = group(CameraAdvanced, help="Advanced Settings")
