"""Intercom settings menu against the manual (7.5, 8.1, 8.2, 9.15-9.22; Tables 6, 7, 17-21)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from portier.settings.choices import DEFAULT_CODECS
from portier.settings.declare import index, leaves
from portier.settings.intercom_events import McastGroup
from portier.settings.intercom_media import (
    AlertRing,
    CameraConnectMode,
    IlbcPayloadLength,
    OpusSampleRate,
    VideoDirection,
)
from portier.settings.intercom_time import DstSetType, TimeDate, Weekday
from portier.settings.intercom_tone import ToneSettings, ToneStandard
from portier.settings.schema import Settings
from tests.unit.settings.manual import assert_row, row

F = "intercom.features"
M = "intercom.media"


def test_table_17_basic_settings() -> None:
    b = f"{F}.basic"
    assert_row(f"{b}.call_waiting", label="Enable Call Waiting", default=True, key="P1 CallWaiting")
    assert_row(f"{b}.auto_handdown", label="Enable Auto Handdown", default=True, key="P1 Auto Onhook")
    assert_row(f"{b}.auto_handdown_time", label="Auto Handdown Time", default=3, ge=1, le=30, unit="s",
               key="P1 Auto Onhook Time")
    assert_row(f"{b}.silent_mode", label="Enable Silent Mode", default=False, key="P1 Mute Ringing")
    assert_row(f"{b}.disable_mute_for_ring", label="Disable Mute for Ring", default=False,
               key="P1 Mute For Ring")
    assert_row(f"{b}.ban_outgoing", label="Ban Outgoing", default=False, key="P1 Ban Dial Out")
    assert_row(f"{b}.restricted_incoming", label="Enable Restricted Incoming List",
               key="P1 Enable Black List")
    assert_row(f"{b}.restricted_outgoing", label="Enable Restricted Outgoing List", key="P1 Enable CallBar")
    assert_row(f"{b}.country_code_enable", label="Enable country Code", default=False,
               key="P1 Enable Country Code")
    assert_row(f"{b}.country_code", label="Country Code", default="", key="P1 Country Code")
    assert_row(f"{b}.area_code", label="Area Code", default="", key="P1 Call Area Code")
    assert_row(f"{b}.allow_ip_call", label="Allow IP Call", default=True, key="P1 Allow IP Call")
    assert_row(f"{b}.p2p_ip_prefix", label="P2P IP Prefix", key="P1 IP Dial Prefix")
    assert_row("intercom.action_url.restrict_active_uri_ip", label="Restrict Active URI Source IP",
               default="", key="Active Uri IP")
    assert_row(f"{b}.phone.push_xml_server", label="Push XML Server", default="", key="Push XML IP")
    assert_row(f"{b}.phone.line_display_format", label="Line Display Format", key="Line Display Format")
    assert_row(f"{b}.call_number_filter", label="Call Number Filter", default="", key="P1 Call Number Filter")
    assert_row(f"{b}.auto_resume_current", label="Auto Resume Current", default=False,
               key="P1 Auto Resume Current")
    assert_row(f"{b}.limit_talking_duration", label="Limit Talking Duration", default=False)
    assert_row(f"{b}.talking_duration", label="Talking Duration", ge=20, le=600, unit="s")
    assert_row(f"{b}.no_answer_hangup_timeout", label="No Answer Auto HangUp Timeout", unit="s",
               key="P1 Call Timeout")
    assert_row(f"{b}.phone.push_xml_auth", label="Enable Push XML Auth", default=False,
               key="Enable Push XML Auth")
    assert row(f"{b}.call_waiting").module == "CALL FEATURE MODULE"
    assert row(f"{b}.call_waiting").section == "--Port Config--"
    assert row(f"{b}.phone.push_xml_server").module == "PHONE FEATURE MODULE"
    assert row("intercom.action_url.restrict_active_uri_ip").module == "CTI CONFIG MODULE"


def test_table_17_tone_settings() -> None:
    t = f"{F}.tones"
    assert_row(f"{t}.holding_tone", label="Enable Holding Tone", default=True, key="P1 CHolding Tone")
    assert_row(f"{t}.call_waiting_tone", label="Enable Call Waiting Tone", default=True,
               key="P1 CWaiting Tone")
    assert_row(f"{t}.dialing_dtmf_tone", label="Play Dialing DTMF Tone", default=True,
               key="P1 Dial DTMF Tone")
    assert_row(f"{t}.talking_dtmf_tone", label="Play Talking DTMF Tone", default=True,
               key="P1 Talk DTMF Tone")


def test_table_6_and_17_intercom() -> None:
    i = f"{F}.intercom"
    assert_row(f"{i}.enable", label="Enable Intercom", default=True, key="P1 Enable Intercom")
    assert_row(f"{i}.mute", label="Enable Intercom Mute", default=False, key="P1 Intercom Mute")
    assert_row(f"{i}.tone", label="Enable Intercom Tone", default=True, key="P1 Intercom Tone")
    assert_row(f"{i}.barge", label="Enable Intercom Barge", default=False, key="P1 Intercom Barge")


def test_table_17_response_codes() -> None:
    r = f"{F}.response_codes"
    assert_row(f"{r}.busy", label="Busy Response Code", default=486, ge=400, le=699,
               key="P1 Busy Return Code")
    assert_row(f"{r}.reject", label="Reject Response Code", default=603, ge=400, le=699,
               key="P1 Reject Return Code")


def test_table_18_media() -> None:
    assert_row(f"{M}.codecs.enabled", label="Codecs Settings", default=DEFAULT_CODECS, key="Audio Codec Sets")
    v = f"{M}.volume"
    assert_row(f"{v}.default_ring_type", label="Default Ring Type", key="Ring Type")
    assert_row(f"{v}.speakerphone_volume", label="Speakerphone Volume", ge=1, le=9, key="HandFree Vol")
    assert_row(f"{v}.speakerphone_ring_volume", label="Speakerphone Ring Volume", ge=1, le=9,
               key="HandFree Ring Vol")
    assert_row(f"{M}.dtmf_payload_type", label="DTMF Payload Type", default=101, ge=96, le=127,
               key="Dtmf Payload Type")
    assert_row(f"{M}.opus_payload_type", label="Opus payload type", default=107, ge=96, le=127,
               key="Opus Payload Type")
    assert_row(f"{M}.opus_sample_rate", label="OPUS Sample Rate", default=OpusSampleRate.NB_8K,
               key="Opus Sample  Rate")
    assert {m.name for m in OpusSampleRate} == {"NB_8K", "WB_16K"}
    assert_row(f"{M}.ilbc_payload_type", label="ILBC Payload Type", default=97, ge=96, le=127,
               key="ILBC Payload Type")
    assert_row(f"{M}.ilbc_payload_length", label="ILBC Payload Length", default=IlbcPayloadLength.MS_20,
               key="ILBC Payload Len")
    assert [m.value for m in IlbcPayloadLength] == [20, 30]
    assert_row(f"{M}.vad", label="Enable VAD", default=False, key="VAD")
    assert_row(f"{M}.rtcp_cname_user", label="CNAME user", default="", key="RTCP CNAME User")
    assert_row(f"{M}.rtcp_cname_host", label="CNAME host", default="", key="RTCP CNAME Host")
    assert_row(f"{M}.rtp_keep_alive", label="RTP keep alive", key="RTP Keep Alive")
    for n in range(1, 11):
        a = f"{M}.alert_info.alert{n}"
        assert_row(f"{a}.value", label="Value of notification message", default="", key=f"Alert{n} Text")
        assert_row(f"{a}.ring_type", label="Ring Type", key=f"Alert{n} Ring Type")
    assert f"{M}.alert_info.alert11.value" not in index(Settings)
    assert row(f"{M}.alert_info.alert1.value").section == "--Alert Info Ring--"


def test_section_6_6_volume() -> None:
    v = f"{M}.volume"
    assert_row(f"{v}.speakerphone_volume", default=5, ge=1, le=9)
    assert_row(f"{v}.microphone_gain", label="Hands-free microphone gain", default=3, ge=1, le=9,
               key="HandFree Mic Vol")
    assert row(f"{v}.microphone_gain").section == "--Voice Volume--"


def test_table_19_camera() -> None:
    c = "intercom.camera"
    assert_row(f"{c}.connect_mode", label="Connect Mode", default=CameraConnectMode.NONE)
    assert_row(f"{c}.camera.name", label="Name", default="")
    assert_row(f"{c}.camera.username", label="Username", default="")
    assert row(f"{c}.camera.password").secret
    assert_row(f"{c}.camera.password", label="Password", default="")
    assert_row(f"{c}.camera.brand", label="Ip Camera Brand")
    assert_row(f"{c}.camera.address", label="ETH IP", default="")
    assert_row(f"{c}.camera.port", label="Port", ge=1, le=65535)
    assert_row(f"{c}.camera.user_agent", label="UserAgent")
    assert_row(f"{c}.advanced.video_direction", label="Video Direction", default=VideoDirection.SENDRECV,
               key="Video Negotiate Dir")
    assert {m.name for m in VideoDirection} == {"SENDRECV", "SENDONLY", "RECVONLY"}
    assert_row(f"{c}.advanced.h264_payload_type", label="H.264 Payload Type", ge=96, le=127,
               key="H264 Payload Type")


def test_table_7_mcast() -> None:
    m = "intercom.mcast"
    assert_row(f"{m}.auto.enable", label="Enable Auto Mcast", default=False)
    assert_row(f"{m}.auto.timeout_delete_time", label="Auto Mcast Timeout Delete Time", unit="s",
               key="Auto Exit Expires")
    assert_row(f"{m}.sip_priority", label="SIP Priority", ge=1, le=10, key="Priority")
    assert_row(f"{m}.intercom_priority", label="Intercom Priority", ge=1, le=10, key="Intercom Priority")
    assert_row(f"{m}.page_priority", label="Enable Page Priority", default=False, key="Enable Priority")
    assert_row(f"{m}.mcast_tone", label="Enable Mcast Tone", default=True, key="Multicast Tone")
    for n in range(1, 11):
        g = f"{m}.group{n}"
        assert_row(f"{g}.name", label="Name", default="", key=f"MCAST{n} Name")
        assert_row(f"{g}.host", label="Host", default="", key=f"MCAST{n} Host")
        assert_row(f"{g}.port", label="Port", le=65535, key=f"MCAST{n} Port")
        assert_row(f"{g}.channel", label="Channel", key=f"MCAST{n} Channel")
        assert row(f"{g}.host").module == "MCAST CFG MODULE"
        assert row(f"{g}.host").section == "--Mcast Addr--"
    assert f"{m}.group11.host" not in index(Settings)
    assert McastGroup().host == ""


def test_table_20_action_url() -> None:
    a = "intercom.action_url"
    events = {
        "boot_completed": "Boot Completed Url", "reg_on": "Reg On Url", "reg_off": "Reg Off Url",
        "reg_failed": "Reg Failed Url", "incoming_call": "Incoming Call Url",
        "outgoing_call": "Outgoing Call Url", "call_active": "Call Active Url", "call_stop": "Call Stop Url",
        "dnd_on": "DND On Url", "dnd_off": "DND Off Url", "missed_call": "New Missed call Url",
        "ip_change": "IP Change Url", "onhook": "Onhook Uri", "offhook": "Offhook Url",
        "input_triggered": "Input Triggered Url", "output_triggered": "Output Triggered Url",
        "output_reset": "Output Reset Url", "tamper_alarm": "Tamper Alarm Url",
        "button_pressed": "Button Pressed Url", "dtmf_received": "DTMF Received Url",
    }
    for name, key in events.items():
        assert_row(f"{a}.{name}", default="", key=key)
    urls = [leaf for leaf in leaves(Settings) if leaf.dotted.startswith(f"{a}.")]
    assert all(leaf.default == "" and leaf.module == "CTI CONFIG MODULE" for leaf in urls)


def test_table_21_time_date() -> None:
    t = "intercom.time"
    clock = "the system clock (timedatectl)"
    assert_row(f"{t}.sntp", label="Time Synchronized via SNTP", default=False, key="Enable SNTP")
    assert_row(f"{t}.dhcp.enable", label="Time Synchronized via DHCP", default=False, key="DHCP Auto Time")
    assert_row(f"{t}.primary_server", label="Primary Time Server", default="", key="SNTP Server")
    assert_row(f"{t}.secondary_server", label="Secondary Time Server", default="", key="Second SNTP Server")
    assert_row(f"{t}.time_zone", label="Time zone", default="UTC", key="Time Zone Name")
    assert_row(f"{t}.resync_period", label="Resync Period", unit="s", key="SNTP Timeout")
    d = f"{t}.dst"
    assert_row(f"{d}.location", label="Location", key="DST Location")
    assert_row(f"{d}.set_type", label="DST Set Type", default=DstSetType.AUTO, key="DST Type")
    assert {m.name for m in DstSetType} == {"AUTO", "MANUAL"}
    assert_row(f"{d}.offset", label="Offset", default=60, unit="min", key="DST Min Offset")
    assert_row(f"{d}.start_month", label="Month Start", default=3, ge=1, le=12, key="DST Start Mon")
    assert_row(f"{d}.start_week", label="Week Start", default=5, ge=1, le=5, key="DST Start Week")
    assert_row(f"{d}.start_weekday", label="Weekday Start", default=Weekday.SUNDAY, key="DST Start Wday")
    assert_row(f"{d}.start_hour", label="Hour Start", default=2, ge=0, le=23, key="DST Start Hour")
    assert_row(f"{d}.end_month", label="Month End", default=10, ge=1, le=12, key="DST End Mon")
    assert_row(f"{d}.end_week", label="Week End", default=5, ge=1, le=5, key="DST End Week")
    assert_row(f"{d}.end_weekday", label="Weekday End", default=Weekday.SUNDAY, key="DST End Wday")
    assert_row(f"{d}.end_hour", label="Hour End", default=2, ge=0, le=23, key="DST End Hour")
    for leaf in leaves(Settings):
        if leaf.dotted.startswith(f"{t}."):
            assert leaf.extra("host") == clock, leaf.dotted
    TimeDate(time_zone="Europe/Berlin")
    with pytest.raises(ValidationError):
        TimeDate(time_zone="Europe Berlin")


def test_table_22_time_plans_are_not_settings() -> None:
    assert not any(".time_plan" in name or "TimePlan" in name for name in index(Settings))


def test_section_9_22_tone() -> None:
    t = "intercom.tone"
    assert_row(f"{t}.standard", label="Select Your Tone", default=ToneStandard.USA, key="Select Your Tone")
    assert {"CUSTOM", "CHINA", "USA", "UK", "GERMANY", "FRANCE", "ITALY"} <= {m.name for m in ToneStandard}
    tones = {
        "dial": "Dial Tone", "ringback": "Ringback Tone", "busy": "Busy Tone",
        "congestion": "Congestion Tone",
        "call_waiting": "Call waiting Tone", "holding": "Holding Tone", "error": "Error Tone",
        "stutter": "Stutter Tone", "information": "Information Tone", "dial_recall": "Dial Recall Tone",
        "message": "Message Tone", "howler": "Howler Tone", "number_unobtainable": "Number Unobtainable",
        "warning": "Warning Tone", "record": "Record Tone", "auto_answer": "Auto Answer Tone",
    }
    for name, key in tones.items():
        leaf = assert_row(f"{t}.{name}", default="", key=key)
        assert leaf.module == "MM CONFIG MODULE"


@pytest.mark.parametrize("cadence", [
    "350+440/0",
    "425/200,0/300,425/700,0/800",
    "425/100,0/100,425/100,0/9700,425/100,0/100,425/100,0/30000",
    "950/330,1400/330,1800/330,0/1000",
    "440*480/2000,0/4000",
    "",
])
def test_section_9_22_cadence_accepted(cadence: str) -> None:
    assert ToneSettings(dial=cadence).dial == cadence


@pytest.mark.parametrize("cadence", [
    "100/200",                      # below 200 Hz
    "5000/100",                     # above 4000 Hz
    "425/30001",                    # longer than 30000 ms
    "350+440+480+620+700/100",      # more than four frequencies
    ",".join(["425/100"] * 9),      # more than eight cadences
    "425",                          # no duration
    "425/100, 0/100",               # blank inside
])
def test_section_9_22_cadence_rejected(cadence: str) -> None:
    with pytest.raises(ValidationError):
        ToneSettings(busy=cadence)


def test_repeated_shapes_defaults() -> None:
    assert AlertRing().value == ""
    keys = [leaf.key for leaf in leaves(Settings) if leaf.dotted.startswith("intercom.")]
    assert len(keys) == len(set(keys))
