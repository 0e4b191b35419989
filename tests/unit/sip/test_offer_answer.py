"""RFC 3264 offer/answer: our offers, our answers to published and real offers, hold and resume, SRTP.

The published exchanges (RFC 3264 §10, RFC 4317) and the baresip/linphone offers live in
test_sdp.py. Where portier's answer differs from the RFC's (we take one audio stream, no video),
the test says so.
"""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portier.sip.offer_answer import (
    G722,
    G723,
    G729,
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    Answer,
    CodecSpec,
    CryptoChoice,
    MediaPolicy,
    NegotiatedMedia,
    Rejected,
    accept_answer,
    hold_offer,
    make_answer,
    make_offer,
    resume_offer,
)
from portier.sip.sdp import Connection, SessionDescription, parse

from .test_sdp import (
    BARESIP_OFFER,
    BARESIP_SRTP_BEST_EFFORT_OFFER,
    BARESIP_SRTP_MANDATORY_OFFER,
    LINPHONE_OFFER,
    RFC3264_10_1_OFFER,
    RFC3264_10_1_SECOND_OFFER,
    RFC3264_10_2_ANSWER,
    RFC3264_10_2_OFFER,
    RFC3264_10_2_SECOND_ANSWER,
    RFC3264_10_2_SECOND_OFFER,
    RFC4317_2_1_ANSWER,
    RFC4317_2_1_OFFER,
    RFC4317_2_3_ANSWER,
    RFC4317_2_6_ANSWER,
    RFC4317_2_6_OFFER,
    RFC4317_2_8_ANSWER,
    RFC4317_3_1_ANSWER,
    RFC4317_3_1_OFFER,
    RFC4317_3_1_SECOND_OFFER,
    RFC4317_3_2_SECOND_OFFER,
    RFC4317_4_1_SECOND_OFFER,
)

ADDRESS = "192.0.2.10"
G726_32 = CodecSpec(name="G726-32", clock_rate=8000, payload_type=112)
OPUS = CodecSpec(name="opus", clock_rate=48000, channels=2, payload_type=107, fmtp="useinbandfec=1")
ILBC = CodecSpec(name="iLBC", clock_rate=8000, payload_type=97, fmtp="mode=30")
CN = CodecSpec(name="CN", clock_rate=8000, payload_type=13)
POLICY = MediaPolicy(address=ADDRESS, port=40000, codecs=(PCMU, PCMA, G722), dtmf=TELEPHONE_EVENT)
SHA1_80, SHA1_32 = "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"
KEYS = {SHA1_80: bytes(range(30)), SHA1_32: bytes(range(30, 60))}


def answered(offer: str | SessionDescription, policy: MediaPolicy = POLICY, **keys: bytes) -> Answer:
    sd = parse(offer) if isinstance(offer, str) else offer
    result = make_answer(sd, policy, session_id=77, version=1, crypto_keys=keys or None)
    assert isinstance(result, Answer), result
    assert parse(result.sdp.encode()) == result.sdp
    return result


def rejected(offer: str, policy: MediaPolicy = POLICY, **keys: bytes) -> Rejected:
    result = make_answer(parse(offer), policy, session_id=77, version=1, crypto_keys=keys or None)
    assert isinstance(result, Rejected), result
    assert result.status == 488
    return result


def accepted(offer: str | SessionDescription, answer: str | SessionDescription) -> NegotiatedMedia:
    offered = parse(offer) if isinstance(offer, str) else offer
    result = accept_answer(offered, parse(answer) if isinstance(answer, str) else answer)
    assert isinstance(result, NegotiatedMedia), result
    return result


def offer_of(*media_lines: str, connection: str = "IN IP4 192.0.2.99", session: str = "") -> str:
    head = f"v=0\no=peer 5 5 IN IP4 192.0.2.99\ns=-\nc={connection}\nt=0 0\n{session}"
    return head + "\n".join(media_lines) + "\n"


# --- our offers ------------------------------------------------------------------------------


def test_offer_lists_enabled_codecs_in_preference_order_then_dtmf() -> None:
    offer = make_offer(POLICY, session_id=1234, version=1, crypto_keys=None)
    assert offer.encode() == (
        b"v=0\r\no=portier 1234 1 IN IP4 192.0.2.10\r\ns=portier\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
        b"m=audio 40000 RTP/AVP 0 8 9 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        b"a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
        b"a=ptime:20\r\na=sendrecv\r\n"
    )
    assert make_offer(POLICY, session_id=1234, version=1, crypto_keys=None) == offer  # deterministic


def test_offer_with_dynamic_codecs_fmtp_ptime_direction_and_ipv6() -> None:
    policy = MediaPolicy(
        address="2001:db8::10",
        port=50000,
        codecs=(OPUS, G726_32, ILBC),
        dtmf=replace(TELEPHONE_EVENT, payload_type=100),
        ptime=30,
        direction="sendonly",
        session_name="door",
        user="front",
    )
    offer = make_offer(policy, session_id=9, version=3)
    assert str(offer) == (
        "v=0\r\no=front 9 3 IN IP6 2001:db8::10\r\ns=door\r\nc=IN IP6 2001:db8::10\r\nt=0 0\r\n"
        "m=audio 50000 RTP/AVP 107 112 97 100\r\n"
        "a=rtpmap:107 opus/48000/2\r\na=fmtp:107 useinbandfec=1\r\n"
        "a=rtpmap:112 G726-32/8000\r\na=rtpmap:97 iLBC/8000\r\na=fmtp:97 mode=30\r\n"
        "a=rtpmap:100 telephone-event/8000\r\na=fmtp:100 0-16\r\na=ptime:30\r\na=sendonly\r\n"
    )


def test_offer_with_compulsory_srtp_uses_savp_and_one_crypto_line_per_suite() -> None:
    offer = make_offer(replace(POLICY, srtp="compulsory"), session_id=1, version=1, crypto_keys=KEYS)
    audio = offer.media[0]
    assert audio.proto == "RTP/SAVP"
    assert [(c.tag, c.suite, c.key_salt) for c in audio.crypto] == [
        (1, SHA1_80, KEYS[SHA1_80]),
        (2, SHA1_32, KEYS[SHA1_32]),
    ]
    assert audio.values("crypto")[0] == f"1 {SHA1_80} inline:{base64.b64encode(KEYS[SHA1_80]).decode()}"


def test_offer_with_optional_srtp_keeps_avp_and_offers_only_the_configured_suites() -> None:
    policy = replace(POLICY, srtp="optional", srtp_suites=(SHA1_32,))
    audio = make_offer(policy, session_id=1, version=1, crypto_keys=KEYS).media[0]
    assert audio.proto == "RTP/AVP"
    assert [(c.tag, c.suite) for c in audio.crypto] == [(1, SHA1_32)]


def test_offer_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="crypto_keys has no key"):
        make_offer(replace(POLICY, srtp="optional"), session_id=1, version=1, crypto_keys=None)
    with pytest.raises(ValueError, match="must be 30 bytes"):
        make_offer(replace(POLICY, srtp="optional"), session_id=1, version=1, crypto_keys={SHA1_80: b"short"})
    with pytest.raises(ValueError, match="no codec is enabled"):
        make_offer(replace(POLICY, codecs=()), session_id=1, version=1)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"direction": "hold"}, "direction must be one of"),
        ({"srtp": "maybe"}, "srtp must be one of"),
        ({"port": 0}, "port must be 1-65535"),
        ({"ptime": 0}, "ptime positive"),
        ({"codecs": (PCMU, replace(PCMA, payload_type=0))}, "distinct"),
        ({"dtmf": replace(TELEPHONE_EVENT, payload_type=128)}, "0-127"),
    ],
)
def test_policy_checks_its_values(changes: dict[str, object], words: str) -> None:
    fields: dict[str, object] = {"address": ADDRESS, "port": 40000, "codecs": (PCMU,), **changes}
    with pytest.raises(ValueError, match=words):
        MediaPolicy(**fields)  # type: ignore[arg-type]


# --- answering: codecs and payload types ---------------------------------------------------------


def test_answer_to_baresip_keeps_the_offerers_order_and_payload_types() -> None:
    policy = replace(POLICY, codecs=(G722, PCMA, PCMU, G726_32, OPUS))
    result = answered(BARESIP_OFFER, policy)
    audio = result.sdp.media[0]
    assert audio.formats == ("0", "8", "9", "97", "100", "101")  # the offer's order and numbers
    assert audio.rtpmap("97").encoding == "G726-32"  # type: ignore[union-attr]
    assert audio.rtpmap("100") == ("opus", 48000, 2)
    assert audio.fmtp("100") == "useinbandfec=1"  # our receive parameters
    assert audio.fmtp("101") == "0-16"
    chosen = result.chosen
    assert chosen.send_codec.name == "PCMU"  # first common in the offerer's order, not ours (G722)
    assert [c.payload_type for c in chosen.receive_codecs] == [0, 8, 9, 97, 100, 101]
    assert chosen.remote_payload_types[100].fmtp == "stereo=1;sprop-stereo=1"
    assert chosen.telephone_event_pt == 101
    assert (chosen.remote_address, chosen.remote_port, chosen.remote_rtcp_port) == ("192.0.2.2", 30864, 30865)
    assert (chosen.ptime, chosen.direction, chosen.crypto) == (20, "sendrecv", None)
    assert result.sdp.origin.sess_id == 77 and result.sdp.connection == Connection(ADDRESS)


def test_single_codec_answers_with_the_first_common_codec_and_telephone_event() -> None:
    result = answered(BARESIP_OFFER, replace(POLICY, codecs=(G722, PCMA), single_codec=True))
    assert result.sdp.media[0].formats == ("8", "101")
    assert result.chosen.send_codec == replace(PCMA, fmtp=None)
    assert [c.payload_type for c in result.chosen.receive_codecs] == [8, 101]


def test_dynamic_codecs_match_by_name_clock_and_channels_case_insensitively() -> None:
    offer = offer_of(
        "m=audio 5004 RTP/AVP 96 98 99",
        "a=rtpmap:96 g726-32/8000",
        "a=rtpmap:98 OPUS/48000/2",
        "a=rtpmap:99 PCMU/16000",
    )
    result = answered(offer, replace(POLICY, codecs=(PCMU, OPUS, G726_32)))
    assert result.sdp.media[0].formats == ("96", "98")  # PCMU/16000 is not PCMU
    assert result.chosen.send_codec.payload_type == 96  # the remote's number, not our 112
    assert result.chosen.send_codec.name == "g726-32"
    assert result.sdp.media[0].rtpmap("96") == ("g726-32", 8000, 1)


def test_static_payload_types_without_rtpmap_including_old_g726_32_on_2() -> None:
    result = answered(offer_of("m=audio 5004 RTP/AVP 2 9 18"), replace(POLICY, codecs=(G726_32, G722)))
    assert result.sdp.media[0].formats == ("2", "9")
    assert result.chosen.send_codec.payload_type == 2 and result.chosen.send_codec.name == "G726-32"
    assert result.sdp.media[0].values("rtpmap") == ["2 G726-32/8000", "9 G722/8000"]


def test_opus_matches_whatever_channel_count_the_peer_wrote() -> None:
    offer = offer_of("m=audio 5004 RTP/AVP 111", "a=rtpmap:111 opus/48000")
    assert answered(offer, replace(POLICY, codecs=(OPUS,))).chosen.send_codec.payload_type == 111
    stereo = CodecSpec(name="L16", clock_rate=8000, channels=2, payload_type=96)
    assert not stereo.same_format(replace(stereo, channels=1))  # for other codecs channels count
    assert stereo.same_format(replace(stereo, name="l16", payload_type=120))


def test_telephone_event_uses_the_offers_payload_type_at_the_voice_codecs_clock() -> None:
    pcmu = answered(LINPHONE_OFFER, replace(POLICY, codecs=(PCMU,)))
    assert pcmu.sdp.media[0].formats == ("0", "101")  # telephone-event/8000 of the three
    assert pcmu.chosen.telephone_event_pt == 101
    opus = answered(LINPHONE_OFFER, replace(POLICY, codecs=(OPUS,)))
    assert opus.sdp.media[0].formats == ("96", "99")  # telephone-event/48000 goes with opus
    assert opus.chosen.telephone_event_pt == 99
    assert opus.chosen.remote_address == "fd00::2"
    no_dtmf = answered(LINPHONE_OFFER, replace(POLICY, codecs=(PCMU,), dtmf=None))
    assert no_dtmf.sdp.media[0].formats == ("0",) and no_dtmf.chosen.telephone_event_pt is None


def test_comfort_noise_rides_along_but_is_never_the_send_codec() -> None:
    events = "a=rtpmap:101 telephone-event/8000"
    result = answered(offer_of("m=audio 5004 RTP/AVP 13 0 101", events), replace(POLICY, codecs=(CN, PCMU)))
    assert result.sdp.media[0].formats == ("13", "0", "101")
    assert result.chosen.send_codec.name == "PCMU"
    only_noise = offer_of("m=audio 5004 RTP/AVP 13 101", events)
    assert rejected(only_noise, replace(POLICY, codecs=(CN, PCMU))).reason.startswith("m= line 1: no common")
    unmapped = answered(offer_of("m=audio 5004 RTP/AVP 0 101"))  # a dynamic type without rtpmap: unknown
    assert unmapped.sdp.media[0].formats == ("0",)


def test_no_common_codec_is_a_488_that_names_both_sides() -> None:
    result = rejected(offer_of("m=audio 5004 RTP/AVP 18 101", "a=rtpmap:101 telephone-event/8000"))
    assert result.reason == (
        "m= line 1: no common codec (offered G729/8000, telephone-event/8000; "
        "enabled here PCMU/8000, PCMA/8000, G722/8000)"
    )


def test_ptime_rtcp_and_the_remote_preferences() -> None:
    offer = offer_of("m=audio 5004 RTP/AVP 0", "a=ptime:30", "a=rtcp:6000 IN IP4 192.0.2.77")
    chosen = answered(offer).chosen
    assert (chosen.ptime, chosen.remote_rtcp_address, chosen.remote_rtcp_port) == (30, "192.0.2.77", 6000)
    assert answered(offer).sdp.media[0].ptime == 20  # what we want to receive
    chosen = answered(offer_of("m=audio 5004 RTP/AVP 0", "a=rtcp:6001")).chosen
    assert (chosen.ptime, chosen.remote_rtcp_address, chosen.remote_rtcp_port) == (20, "192.0.2.99", 6001)


def test_the_answer_copies_the_offers_time_description() -> None:
    offer = offer_of("m=audio 5004 RTP/AVP 0").replace("t=0 0", "t=3149328700 0")
    assert answered(offer).sdp.timing == parse(offer).timing


# --- answering: streams ------------------------------------------------------------------------


def test_rfc3264_10_1_bob_takes_audio_and_rejects_video_with_port_zero() -> None:
    """Bob in the RFC also takes the MPV video stream; a door station has no video."""
    result = answered(RFC3264_10_1_OFFER, replace(POLICY, codecs=(PCMU,)))
    audio, video1, video2 = result.sdp.media
    assert (audio.port, audio.formats) == (40000, ("0",))
    assert (video1.media, video1.port, video1.proto, video1.formats, video1.attributes) == (
        "video", 0, "RTP/AVP", ("31",), ()
    )  # fmt: skip
    assert (video2.port, video2.formats) == (0, ("32",))
    assert (result.chosen.remote_address, result.chosen.remote_port) == ("host.anywhere.com", 49170)


def test_rfc3264_10_1_alice_answers_the_second_offer_with_one_audio_stream() -> None:
    """Alice in the RFC accepts the added recvonly telephone-events stream; we keep one voice path."""
    result = answered(RFC3264_10_1_SECOND_OFFER, replace(POLICY, codecs=(PCMU,)))
    ports = [(m.media, m.port) for m in result.sdp.media]
    assert ports == [("audio", 40000), ("video", 0), ("video", 0), ("audio", 0)]
    assert result.sdp.media[3].formats == ("110",)
    assert (result.chosen.stream, result.chosen.remote_port) == (0, 65422)


def test_rfc3264_10_2_bob_answers_inactive_with_both_common_codecs_then_locks_g723() -> None:
    bob = replace(POLICY, codecs=(PCMU, G723))
    first = answered(RFC3264_10_2_OFFER, bob)
    expected = parse(RFC3264_10_2_ANSWER).media[0]
    assert first.sdp.media[0].formats == expected.formats == ("0", "4")
    assert first.sdp.media[0].direction() == "inactive" and first.chosen.direction == "inactive"
    second = answered(RFC3264_10_2_SECOND_OFFER, bob)
    assert second.sdp.media[0].formats == parse(RFC3264_10_2_SECOND_ANSWER).media[0].formats == ("4",)
    assert second.chosen.direction == "sendrecv" and second.chosen.send_codec.name == "G723"


def test_rfc3264_10_2_alice_reads_bobs_answers() -> None:
    first = accepted(RFC3264_10_2_OFFER, RFC3264_10_2_ANSWER)
    assert (first.send_codec.name, first.direction, first.remote_port) == ("PCMU", "inactive", 54344)
    assert [c.payload_type for c in first.receive_codecs] == [0, 4]
    second = accepted(RFC3264_10_2_SECOND_OFFER, RFC3264_10_2_SECOND_ANSWER)
    assert (second.send_codec.name, second.direction) == ("G723", "sendrecv")


def test_rfc4317_2_1_both_sides() -> None:
    bob = answered(RFC4317_2_1_OFFER, replace(POLICY, codecs=(PCMU,)))
    rfc = parse(RFC4317_2_1_ANSWER)
    assert bob.sdp.media[0].formats == rfc.media[0].formats == ("0",)
    assert bob.sdp.media[1].port == 0  # the RFC's Bob takes MPV video
    alice = accepted(RFC4317_2_1_OFFER, RFC4317_2_1_ANSWER)
    assert (alice.remote_address, alice.remote_port, alice.send_codec.payload_type) == (
        "host.biloxi.example.com", 49174, 0
    )  # fmt: skip


def test_rfc4317_2_3_the_answerer_renumbers_ilbc_from_97_to_99() -> None:
    alice = accepted(RFC4317_2_1_OFFER, RFC4317_2_3_ANSWER)
    assert (alice.send_codec.name, alice.send_codec.payload_type) == ("iLBC", 99)  # we send with theirs
    assert [(c.name, c.payload_type) for c in alice.receive_codecs] == [("iLBC", 97)]  # they send with ours
    assert set(alice.remote_payload_types) == {99}


def test_rfc4317_2_6_bob_declines_the_pcmu_stream_and_takes_ilbc_with_tones() -> None:
    bob = answered(RFC4317_2_6_OFFER, replace(POLICY, codecs=(ILBC,)))
    rfc = parse(RFC4317_2_6_ANSWER)
    assert [(m.port == 0, m.formats) for m in bob.sdp.media] == [(m.port == 0, m.formats) for m in rfc.media]
    assert (bob.chosen.stream, bob.chosen.remote_port, bob.chosen.telephone_event_pt) == (1, 51372, 101)
    alice = accepted(RFC4317_2_6_OFFER, RFC4317_2_6_ANSWER)
    assert (alice.stream, alice.send_codec.name, alice.telephone_event_pt) == (1, "iLBC", 101)


def test_rfc4317_2_8_audio_goes_to_the_session_address_when_video_has_its_own() -> None:
    alice = accepted(RFC4317_2_1_OFFER, RFC4317_2_8_ANSWER)
    assert (alice.remote_address, alice.remote_port) == ("host.biloxi.example.com", 49174)


def test_rfc4317_3_1_hold_in_the_answer_then_unhold() -> None:
    alice = accepted(RFC4317_3_1_OFFER, RFC4317_3_1_ANSWER)
    assert (alice.direction, alice.remote_address, alice.send_codec.name) == (
        "recvonly", "placeholder.biloxi.example.com", "iLBC"
    )  # fmt: skip
    again = answered(RFC4317_3_1_SECOND_OFFER, replace(POLICY, codecs=(ILBC,)))
    assert again.chosen.direction == "sendrecv" and again.chosen.remote_address == "host.biloxi.example.com"


def test_rfc4317_3_2_a_sendonly_offer_is_answered_recvonly() -> None:
    """RFC 4317 §3.2 shows Alice answering without a direction; RFC 3264 §6.1 says recvonly or inactive."""
    result = answered(RFC4317_3_2_SECOND_OFFER, replace(POLICY, codecs=(ILBC,)))
    assert result.sdp.media[0].direction() == "recvonly"
    assert result.chosen.direction == "recvonly" and not result.chosen.sends
    assert result.sdp.media[1].port == 0


def test_rfc4317_4_1_a_media_level_connection_is_where_that_stream_goes() -> None:
    result = answered(RFC4317_4_1_SECOND_OFFER, replace(POLICY, codecs=(ILBC,)))
    assert result.chosen.remote_address == "host.biloxi.example.com"
    only_tones = RFC4317_4_1_SECOND_OFFER.replace("m=audio 49170 RTP/AVP 97", "m=audio 0 RTP/AVP 97")
    reason = rejected(only_tones, replace(POLICY, codecs=(ILBC,))).reason
    assert reason.startswith("m= line 2: no common codec")


def test_non_rtp_streams_are_rejected_and_an_offer_without_audio_is_a_488() -> None:
    offer = offer_of("m=audio 5004 RTP/AVPF 0", "m=message 7394 TCP/MSRP *", "m=audio 5006 RTP/AVP 0")
    result = answered(offer)
    assert [m.port for m in result.sdp.media] == [0, 0, 40000]
    assert result.sdp.media[1].formats == ("*",)
    assert rejected(offer_of("m=video 5004 RTP/AVP 31")).reason == "the offer has no audio stream"
    assert rejected("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n").reason == "the offer has no audio stream"
    assert "not RTP/AVP or RTP/SAVP" in rejected(offer_of("m=audio 5004 RTP/AVPF 0")).reason


def test_a_stream_without_any_address_is_rejected() -> None:
    text = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\nm=audio 5004 RTP/AVP 0\n"
    assert rejected(text).reason == "m= line 1: no c= address for the stream"


# --- direction -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "ours", "answer"),
    [
        # RFC 3264 §6.1, with a sendrecv policy
        ("sendrecv", "sendrecv", "sendrecv"),
        ("sendonly", "sendrecv", "recvonly"),
        ("recvonly", "sendrecv", "sendonly"),
        ("inactive", "sendrecv", "inactive"),
        # intersected with the policy's own direction
        ("sendrecv", "sendonly", "sendonly"),
        ("sendrecv", "recvonly", "recvonly"),
        ("sendrecv", "inactive", "inactive"),
        ("sendonly", "sendonly", "inactive"),
        ("recvonly", "recvonly", "inactive"),
        ("recvonly", "sendonly", "sendonly"),
    ],
)
def test_answer_direction_table(offered: str, ours: str, answer: str) -> None:
    result = answered(offer_of("m=audio 5004 RTP/AVP 0", f"a={offered}"), replace(POLICY, direction=ours))
    assert result.sdp.media[0].direction() == answer
    assert result.chosen.direction == answer


@pytest.mark.parametrize(
    ("attributes", "session", "answer"),
    [
        ([], "", "recvonly"),
        (["a=sendonly"], "", "recvonly"),
        (["a=recvonly"], "", "inactive"),
        (["a=inactive"], "", "inactive"),
        ([], "a=sendonly\n", "recvonly"),
    ],
)
def test_rfc2543_hold_with_connection_0_0_0_0(attributes: list[str], session: str, answer: str) -> None:
    offer = offer_of("m=audio 5004 RTP/AVP 0", *attributes, connection="IN IP4 0.0.0.0", session=session)
    result = answered(offer)
    assert result.chosen.direction == answer and not result.chosen.sends


def test_session_level_direction_applies_to_the_stream() -> None:
    assert answered(offer_of("m=audio 5004 RTP/AVP 0", session="a=recvonly\n")).chosen.direction == "sendonly"


# --- multicast (RFC 3264 §6.2) -------------------------------------------------------------------


def test_a_multicast_offer_is_answered_with_its_address_port_and_direction() -> None:
    offer = offer_of("m=audio 10000 RTP/AVP 0", "a=sendonly", connection="IN IP4 239.1.2.3/1")
    result = answered(offer)
    audio = result.sdp.media[0]
    assert audio.port == 10000 and audio.connection == Connection("239.1.2.3", ttl=1)
    assert audio.direction() == "sendonly"  # the same as the offer's
    assert result.chosen.direction == "recvonly" and result.chosen.multicast
    assert result.chosen.remote_address == "239.1.2.3"
    page = accepted(offer, result.sdp)
    assert page.direction == "sendonly" and page.remote_address == "239.1.2.3" and page.remote_port == 10000


# --- SRTP ------------------------------------------------------------------------------------------


def test_baresip_mandatory_srtp_is_answered_with_our_key_for_its_suite() -> None:
    result = answered(BARESIP_SRTP_MANDATORY_OFFER, replace(POLICY, srtp="optional"), **KEYS)
    audio = result.sdp.media[0]
    assert audio.proto == "RTP/SAVP"
    assert [(c.tag, c.suite, c.key_salt) for c in audio.crypto] == [(1, SHA1_80, KEYS[SHA1_80])]
    remote = base64.b64decode("YKDYcayYaYbD7GmONwFq+DWLzgQz+hnqHSfLDVu+")
    assert result.chosen.crypto == CryptoChoice(1, SHA1_80, remote, KEYS[SHA1_80])


@pytest.mark.parametrize(
    ("offer", "srtp", "expected"),
    [
        (BARESIP_SRTP_MANDATORY_OFFER, "off", "RTP/SAVP offered but RTP Encryption is off"),
        (BARESIP_OFFER, "compulsory", "the offer has no a=crypto line"),
        (
            BARESIP_SRTP_MANDATORY_OFFER.replace(SHA1_80, "AES_256_CM_HMAC_SHA1_80"),
            "compulsory",
            "the offer has AES_256_CM_HMAC_SHA1_80",
        ),
        (
            BARESIP_SRTP_MANDATORY_OFFER.replace("inline:YKDYca", "inline:YKDY"),  # a 27-byte key
            "optional",
            f"the offer has {SHA1_80}",
        ),
    ],
)
def test_srtp_rejections(offer: str, srtp: str, expected: str) -> None:
    assert expected in rejected(offer, replace(POLICY, srtp=srtp), **KEYS).reason


def test_best_effort_srtp_on_avp() -> None:
    compulsory = answered(BARESIP_SRTP_BEST_EFFORT_OFFER, replace(POLICY, srtp="compulsory"), **KEYS)
    assert compulsory.sdp.media[0].proto == "RTP/AVP" and compulsory.chosen.crypto is not None
    optional_plain = answered(BARESIP_OFFER, replace(POLICY, srtp="optional"), **KEYS)
    assert optional_plain.chosen.crypto is None and not optional_plain.sdp.media[0].has("crypto")
    off = answered(BARESIP_SRTP_BEST_EFFORT_OFFER, POLICY)
    assert off.chosen.crypto is None and not off.sdp.media[0].has("crypto")


def test_crypto_choice_follows_the_offer_order_and_skips_what_we_cannot_do() -> None:
    key = base64.b64encode(bytes(30)).decode()
    offer = offer_of(
        "m=audio 5004 RTP/SAVP 0",
        f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key} UNENCRYPTED_SRTP",  # a session parameter
        f"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{key}|2^31|1:1",
        f"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{key}",
    )
    result = answered(offer, replace(POLICY, srtp="compulsory"), **KEYS)
    assert result.chosen.crypto == CryptoChoice(2, SHA1_32, bytes(30), KEYS[SHA1_32], (1, 1))
    assert result.sdp.media[0].values("crypto") == [
        f"2 {SHA1_32} inline:{base64.b64encode(KEYS[SHA1_32]).decode()}"
    ]
    only_80 = answered(offer, replace(POLICY, srtp="compulsory", srtp_suites=(SHA1_80,)), **KEYS)
    assert only_80.chosen.crypto is not None and only_80.chosen.crypto.tag == 3


def test_offerer_reads_the_crypto_of_the_answer() -> None:
    offer = make_offer(replace(POLICY, srtp="compulsory"), session_id=1, version=1, crypto_keys=KEYS)
    their_keys = {SHA1_32: bytes(range(100, 130))}
    peer = replace(POLICY, address="192.0.2.20", port=50000, srtp="compulsory", srtp_suites=(SHA1_32,))
    answer = answered(offer, peer, **their_keys)
    ours = accepted(offer, answer.sdp)
    assert ours.crypto == CryptoChoice(2, SHA1_32, their_keys[SHA1_32], KEYS[SHA1_32])
    assert answer.chosen.crypto == CryptoChoice(2, SHA1_32, KEYS[SHA1_32], their_keys[SHA1_32])
    no_crypto = replace(answer.sdp, media=(replace(answer.sdp.media[0], attributes=()),))
    result = accept_answer(offer, no_crypto)
    assert isinstance(result, Rejected) and "no a=crypto line matching" in result.reason
    wrong_tag = str(answer.sdp).replace("a=crypto:2 ", "a=crypto:7 ")
    assert isinstance(accept_answer(offer, parse(wrong_tag)), Rejected)


def test_an_optional_srtp_offer_accepts_a_plain_answer() -> None:
    offer = make_offer(replace(POLICY, srtp="optional"), session_id=1, version=1, crypto_keys=KEYS)
    plain = answered(offer, replace(POLICY, address="192.0.2.20"))
    assert not plain.sdp.media[0].has("crypto")
    assert accepted(offer, plain.sdp).crypto is None


# --- offerer side ----------------------------------------------------------------------------------


def test_accept_answer_rejections() -> None:
    offer = make_offer(POLICY, session_id=1, version=1)
    peer = answered(offer, replace(POLICY, address="192.0.2.20")).sdp
    extra = replace(peer, media=(*peer.media, peer.media[0]))
    assert "2 m= lines for the 1 offered" in accept_answer(offer, extra).reason  # type: ignore[union-attr]
    declined = replace(peer, media=(replace(peer.media[0], port=0),))
    assert accept_answer(offer, declined) == Rejected("the answer accepts no audio stream")
    foreign = replace(peer, media=(replace(peer.media[0], formats=("18",), attributes=()),))
    result = accept_answer(offer, foreign)
    assert isinstance(result, Rejected) and "(G729/8000) are none of those offered" in result.reason
    no_address = replace(peer, connection=None)
    assert accept_answer(offer, no_address) == Rejected("m= line 1 of the answer has no c= address")


def test_an_answer_with_connection_0_0_0_0_stops_our_sending() -> None:
    offer = make_offer(POLICY, session_id=1, version=1)
    peer = answered(offer, replace(POLICY, address="192.0.2.20")).sdp
    held = replace(peer, connection=Connection("0.0.0.0"))
    assert accepted(offer, held).direction == "recvonly"


_POOL = (PCMU, PCMA, G722, G723, G729, G726_32, OPUS, ILBC)


@st.composite
def policies(draw: st.DrawFn, address: str, port: int) -> MediaPolicy:
    codecs = draw(st.lists(st.sampled_from(_POOL), min_size=1, max_size=len(_POOL), unique=True))
    return MediaPolicy(
        address=address,
        port=port,
        codecs=tuple(codecs),
        dtmf=draw(st.sampled_from([None, TELEPHONE_EVENT, replace(TELEPHONE_EVENT, payload_type=96)])),
        single_codec=draw(st.booleans()),
        direction=draw(st.sampled_from(["sendrecv", "sendonly", "recvonly", "inactive"])),
        ptime=draw(st.sampled_from([10, 20, 30])),
    )


@settings(max_examples=200)
@given(policies(ADDRESS, 40000), policies("192.0.2.20", 50000))
def test_both_sides_agree_on_codec_payload_types_direction_and_dtmf(a: MediaPolicy, b: MediaPolicy) -> None:
    offer = make_offer(a, session_id=1, version=1)
    result = make_answer(offer, b, session_id=2, version=1, crypto_keys=None)
    common = [c for c in a.codecs if any(c.same_format(o) for o in b.codecs)]
    if not common:
        assert isinstance(result, Rejected)
        return
    assert isinstance(result, Answer)
    caller = accept_answer(offer, result.sdp)
    callee = result.chosen
    assert isinstance(caller, NegotiatedMedia)
    assert caller.send_codec.same_format(callee.send_codec)  # both start on the same codec
    assert caller.send_codec.same_format(common[0])  # the offerer's favourite common codec
    assert caller.send_codec.payload_type in {c.payload_type for c in callee.receive_codecs}
    assert callee.send_codec.payload_type in {c.payload_type for c in caller.receive_codecs}
    assert (caller.sends, caller.receives) == (callee.receives, callee.sends)
    assert (caller.remote_address, caller.remote_port) == ("192.0.2.20", 50000)
    assert (callee.remote_address, callee.remote_port) == (ADDRESS, 40000)
    assert (caller.ptime, callee.ptime) == (b.ptime, a.ptime)
    if a.dtmf and b.dtmf:
        assert caller.telephone_event_pt == callee.telephone_event_pt == a.dtmf.payload_type
    else:
        assert caller.telephone_event_pt is None and callee.telephone_event_pt is None


# --- hold and resume -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "held", "held_inactive"),
    [
        ("sendrecv", "sendonly", "inactive"),
        ("recvonly", "inactive", "inactive"),
        ("sendonly", "sendonly", "inactive"),
        ("inactive", "inactive", "inactive"),
    ],
)
def test_hold_direction_table(before: str, held: str, held_inactive: str) -> None:
    previous = make_offer(replace(POLICY, direction=before), session_id=5, version=3)
    assert hold_offer(previous, inactive=False).media[0].direction() == held
    assert hold_offer(previous, inactive=True).media[0].direction() == held_inactive


def test_hold_and_resume_bump_the_version_and_keep_everything_else() -> None:
    previous = make_offer(replace(POLICY, srtp="optional"), session_id=5, version=3, crypto_keys=KEYS)
    previous = replace(previous, attributes=(("sendrecv", None), ("tool", "portier")))
    rejected_stream = replace(previous.media[0], port=0, media="video", attributes=())
    previous = replace(previous, media=(*previous.media, rejected_stream))
    held = hold_offer(previous)
    assert held.origin == replace(previous.origin, sess_version=4)
    assert held.attributes == (("tool", "portier"),)  # the session-level direction moved to the stream
    assert held.media[1] == rejected_stream
    assert held.media[0].crypto == previous.media[0].crypto
    assert [a for a in held.media[0].attributes if a[0] != "sendrecv" and a[0] != "sendonly"] == [
        a for a in previous.media[0].attributes if a[0] != "sendrecv"
    ]
    resumed = resume_offer(held)
    assert resumed.origin.sess_version == 5
    assert resumed.media[0].direction() == "sendrecv"
    assert resumed.media[0].attributes == previous.media[0].attributes
    assert resume_offer(held, direction="recvonly").media[0].direction() == "recvonly"


def test_hold_and_resume_through_a_peer() -> None:
    offer = make_offer(POLICY, session_id=5, version=1)
    peer = replace(POLICY, address="192.0.2.20", port=50000)
    answer = answered(offer, peer)
    assert accepted(offer, answer.sdp).direction == "sendrecv"
    for hold, ours, theirs in [
        (hold_offer(offer), "sendonly", "recvonly"),
        (hold_offer(offer, inactive=True), "inactive", "inactive"),
        (resume_offer(hold_offer(offer)), "sendrecv", "sendrecv"),
    ]:
        reply = answered(hold, peer)
        assert reply.chosen.direction == theirs
        assert accepted(hold, reply.sdp).direction == ours
