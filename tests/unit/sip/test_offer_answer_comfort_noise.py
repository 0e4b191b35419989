"""Comfort noise (RFC 3389) in offer/answer: offered and kept with "Enable VAD", at the send codec's clock."""

from __future__ import annotations

from dataclasses import replace

from portier.phone.media_policy import media_policy
from portier.settings.intercom_media import Media
from portier.sip.offer_answer import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    Answer,
    CodecSpec,
    MediaPolicy,
    NegotiatedMedia,
    accept_answer,
    make_answer,
    make_offer,
)
from portier.sip.sdp import parse

OPUS = CodecSpec(name="opus", clock_rate=48000, channels=2, payload_type=107)
VAD = MediaPolicy(address="192.0.2.10", port=40000, codecs=(PCMU, PCMA), dtmf=TELEPHONE_EVENT,
                  comfort_noise=True)  # fmt: skip


HEAD = "v=0\r\no=peer 5 5 IN IP4 192.0.2.99\r\ns=-\r\nc=IN IP4 192.0.2.99\r\nt=0 0\r\n"
CN = "a=rtpmap:13 CN/8000"
EVENTS = "a=rtpmap:101 telephone-event/8000"


def offer_of(*lines: str) -> str:
    return HEAD + "\r\n".join(lines) + "\r\n"


def answered(offer: str, policy: MediaPolicy = VAD) -> Answer:
    result = make_answer(parse(offer), policy, session_id=1, version=1)
    assert isinstance(result, Answer), result
    assert parse(result.sdp.encode()) == result.sdp
    return result


def test_with_vad_our_offer_adds_the_static_cn_last() -> None:
    offer = make_offer(VAD, session_id=1, version=1)
    media = offer.media[0]
    assert media.formats == ("0", "8", "101", "13")
    assert "a=rtpmap:13 CN/8000" in str(offer)
    plain = make_offer(replace(VAD, comfort_noise=False), session_id=1, version=1)
    assert plain.media[0].formats == ("0", "8", "101")


def test_no_cn_for_opus_alone_and_none_twice() -> None:
    opus = make_offer(replace(VAD, codecs=(OPUS,)), session_id=1, version=1)
    assert opus.media[0].formats == ("107", "101")  # opus has its own DTX; CN/8000 would not fit its clock
    cn = CodecSpec(name="CN", clock_rate=8000, payload_type=13)
    listed = make_offer(replace(VAD, codecs=(PCMU, cn)), session_id=1, version=1)
    assert listed.media[0].formats == ("0", "13", "101")


def test_with_vad_our_answer_keeps_the_offers_cn() -> None:
    offer = offer_of("m=audio 5004 RTP/AVP 8 0 13 101", CN, EVENTS)
    result = answered(offer)
    assert result.sdp.media[0].formats == ("8", "0", "101", "13")
    assert (result.chosen.comfort_noise_pt, result.chosen.receive_comfort_noise_pt) == (13, 13)
    without = answered(offer, replace(VAD, comfort_noise=False))
    assert without.sdp.media[0].formats == ("8", "0", "101")
    assert without.chosen.comfort_noise_pt is None and without.chosen.receive_comfort_noise_pt is None
    single = answered(offer, replace(VAD, single_codec=True))
    assert single.sdp.media[0].formats == ("8", "101", "13")  # one codec, and its companions


def test_a_static_13_without_rtpmap_and_a_dynamic_cn_are_both_understood() -> None:
    bare = answered(offer_of("m=audio 5004 RTP/AVP 0 13"))
    assert bare.chosen.comfort_noise_pt == 13 and bare.sdp.media[0].formats == ("0", "13")
    dynamic = answered(offer_of("m=audio 5004 RTP/AVP 0 105", "a=rtpmap:105 CN/8000"))
    assert dynamic.chosen.comfort_noise_pt == 105
    assert "a=rtpmap:105 CN/8000" in str(dynamic.sdp)


def test_cn_at_another_clock_than_the_send_codec_is_left_out() -> None:
    offer = offer_of("m=audio 5004 RTP/AVP 107 13", "a=rtpmap:107 opus/48000/2", CN)
    result = answered(offer, replace(VAD, codecs=(OPUS,)))
    assert result.sdp.media[0].formats == ("107",) and result.chosen.comfort_noise_pt is None
    wideband = offer_of("m=audio 5004 RTP/AVP 0 118", "a=rtpmap:118 CN/16000")
    assert answered(wideband).chosen.comfort_noise_pt is None


def test_as_offerer_we_send_cn_with_the_answers_number_and_hear_it_with_ours() -> None:
    offer = make_offer(VAD, session_id=1, version=1)
    answer = offer_of("m=audio 6000 RTP/AVP 0 13 101", CN, EVENTS)
    chosen = accept_answer(offer, parse(answer))
    assert isinstance(chosen, NegotiatedMedia)
    assert (chosen.comfort_noise_pt, chosen.receive_comfort_noise_pt) == (13, 13)
    plain = accept_answer(offer, parse(offer_of("m=audio 6000 RTP/AVP 0 101", EVENTS)))
    assert isinstance(plain, NegotiatedMedia) and plain.comfort_noise_pt is None


def test_enable_vad_on_the_media_page_is_what_asks_for_cn() -> None:
    off = media_policy(None, Media(), address="192.0.2.10", port=40000, codecs=["PCMU"])
    on = media_policy(None, Media(vad=True), address="192.0.2.10", port=40000, codecs=["PCMU"])
    assert not off.comfort_noise and on.comfort_noise
    assert make_offer(on, session_id=1, version=1).media[0].formats[-1] == "13"
