"""RFC 4566 session descriptions: published examples, real peers' offers, exact errors, round trips.

The example texts are public and quoted as published (they are also used by test_offer_answer):
RFC 4566 §5, RFC 3264 §9/§10, RFC 4317 §2-4, the SDP bodies of the RFC 4475 torture messages, and
offers captured on loopback from the Debian builds of baresip 1.0.0 and linphonec.
"""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portier.sip.sdp import (
    Bandwidth,
    Connection,
    Crypto,
    KeyParam,
    MediaDescription,
    Origin,
    Rtcp,
    RtpMap,
    SdpError,
    SessionDescription,
    Timing,
    parse,
    parse_crypto,
    parse_fmtp,
)

from ._vectors import load, names

# --- published and captured descriptions -----------------------------------------------------

RFC4566_EXAMPLE = """\
v=0
o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5
s=SDP Seminar
i=A Seminar on the session description protocol
u=http://www.example.com/seminars/sdp.pdf
e=j.doe@example.com (Jane Doe)
c=IN IP4 224.2.17.12/127
t=2873397496 2873404696
a=recvonly
m=audio 49170 RTP/AVP 0
m=video 51372 RTP/AVP 99
a=rtpmap:99 h263-1998/90000
"""

# RFC 3264 §9 (Figure 1): note t= before c=, which RFC 4566 §5 orders the other way round.
RFC3264_CAPABILITIES = """\
v=0
o=carol 28908764872 28908764872 IN IP4 100.3.6.6
s=-
t=0 0
c=IN IP4 192.0.2.4
m=audio 0 RTP/AVP 0 1 3
a=rtpmap:0 PCMU/8000
a=rtpmap:1 1016/8000
a=rtpmap:3 GSM/8000
m=video 0 RTP/AVP 31 34
a=rtpmap:31 H261/90000
a=rtpmap:34 H263/90000
"""

RFC3264_10_1_OFFER = """\
v=0
o=alice 2890844526 2890844526 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 51372 RTP/AVP 31
a=rtpmap:31 H261/90000
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
"""

RFC3264_10_1_ANSWER = """\
v=0
o=bob 2890844730 2890844730 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 49920 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
"""

RFC3264_10_1_SECOND_OFFER = """\
v=0
o=bob 2890844730 2890844731 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 65422 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
m=audio 51434 RTP/AVP 110
a=rtpmap:110 telephone-events/8000
a=recvonly
"""

RFC3264_10_1_SECOND_ANSWER = """\
v=0
o=alice 2890844526 2890844527 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 0 RTP/AVP 31
a=rtpmap:31 H261/90000
m=video 53000 RTP/AVP 32
a=rtpmap:32 MPV/90000
m=audio 53122 RTP/AVP 110
a=rtpmap:110 telephone-events/8000
a=sendonly
"""

RFC3264_10_2_OFFER = """\
v=0
o=alice 2890844526 2890844526 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 62986 RTP/AVP 0 4 18
a=rtpmap:0 PCMU/8000
a=rtpmap:4 G723/8000
a=rtpmap:18 G729/8000
a=inactive
"""

RFC3264_10_2_ANSWER = """\
v=0
o=bob 2890844730 2890844731 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 54344 RTP/AVP 0 4
a=rtpmap:0 PCMU/8000
a=rtpmap:4 G723/8000
a=inactive
"""

RFC3264_10_2_SECOND_OFFER = """\
v=0
o=alice 2890844526 2890844527 IN IP4 host.anywhere.com
s=
c=IN IP4 host.anywhere.com
t=0 0
m=audio 62986 RTP/AVP 4
a=rtpmap:4 G723/8000
a=sendrecv
"""

RFC3264_10_2_SECOND_ANSWER = """\
v=0
o=bob 2890844730 2890844732 IN IP4 host.example.com
s=
c=IN IP4 host.example.com
t=0 0
m=audio 54344 RTP/AVP 4
a=rtpmap:4 G723/8000
a=sendrecv
"""


def rfc4317(body: str) -> str:
    """RFC 4317 §1: "the subject line (s=) contains a single space character"."""
    return body.replace("\ns=\n", "\ns= \n")


RFC4317_ALICE = """\
v=0
o=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com
s=
c=IN IP4 host.atlanta.example.com
t=0 0
"""
RFC4317_BOB = """\
v=0
o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com
s=
c=IN IP4 host.biloxi.example.com
t=0 0
"""
RFC4317_2_1_OFFER = rfc4317(
    RFC4317_ALICE
    + """\
m=audio 49170 RTP/AVP 0 8 97
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
m=video 51372 RTP/AVP 31 32
a=rtpmap:31 H261/90000
a=rtpmap:32 MPV/90000
"""
)
RFC4317_2_1_ANSWER = rfc4317(
    RFC4317_BOB
    + """\
m=audio 49174 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 49170 RTP/AVP 32
a=rtpmap:32 MPV/90000
"""
)
RFC4317_2_3_ANSWER = rfc4317(
    RFC4317_BOB
    + """\
m=audio 49172 RTP/AVP 99
a=rtpmap:99 iLBC/8000
m=video 51374 RTP/AVP 31
a=rtpmap:31 H261/90000
"""
)
RFC4317_2_6_OFFER = rfc4317(
    RFC4317_ALICE
    + """\
m=audio 49170 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=audio 51372 RTP/AVP 97 101
a=rtpmap:97 iLBC/8000
a=rtpmap:101 telephone-event/8000
"""
)
RFC4317_2_6_ANSWER = rfc4317(
    RFC4317_BOB
    + """\
m=audio 0 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=audio 49170 RTP/AVP 97 101
a=rtpmap:97 iLBC/8000
a=rtpmap:101 telephone-event/8000
"""
)
RFC4317_2_8_ANSWER = rfc4317(
    RFC4317_BOB
    + """\
m=audio 49174 RTP/AVP 0
a=rtpmap:0 PCMU/8000
m=video 49172 RTP/AVP 32
c=IN IP4 otherhost.biloxi.example.com
a=rtpmap:32 MPV/90000
"""
)
RFC4317_3_1_OFFER = rfc4317(
    RFC4317_ALICE
    + """\
m=audio 49170 RTP/AVP 0 97
a=rtpmap:0 PCMU/8000
a=rtpmap:97 iLBC/8000
"""
)
RFC4317_3_1_ANSWER = rfc4317(
    RFC4317_BOB.replace("c=IN IP4 host.biloxi", "c=IN IP4 placeholder.biloxi")
    + """\
m=audio 49172 RTP/AVP 97
a=rtpmap:97 iLBC/8000
a=sendonly
"""
)
RFC4317_3_1_SECOND_OFFER = rfc4317(
    RFC4317_BOB.replace("2808844564 IN", "2808844565 IN")
    + """\
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
"""
)
RFC4317_3_2_SECOND_OFFER = rfc4317(
    RFC4317_BOB.replace("2808844564 IN", "2808844565 IN")
    + """\
m=audio 49172 RTP/AVP 97
a=rtpmap:97 iLBC/8000
a=sendonly
m=audio 49174 RTP/AVP 98
a=rtpmap:98 telephone-event/8000
a=recvonly
"""
)
RFC4317_4_1_SECOND_OFFER = rfc4317(
    RFC4317_BOB.replace("2808844564 IN", "2808844565 IN")
    + """\
m=audio 49170 RTP/AVP 97
a=rtpmap:97 iLBC/8000
m=audio 48282 RTP/AVP 98
c=IN IP4 mediaserver.biloxi.example.com
a=rtpmap:98 telephone-event/8000
a=recvonly
"""
)

# Captured on loopback from Debian's baresip 1.0.0 (``/dial``) and linphonec (``-s``); the
# addresses are the ones the tools chose on the test machine. CRLF as sent.
BARESIP_OFFER = (
    "v=0\r\n"
    "o=- 1773869339 1407521608 IN IP4 192.0.2.2\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.2\r\n"
    "t=0 0\r\n"
    "a=tool:baresip 1.0.0\r\n"
    "m=audio 30864 RTP/AVP 0 8 9 96 97 98 99 100 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:96 G726-40/8000\r\n"
    "a=rtpmap:97 G726-32/8000\r\n"
    "a=rtpmap:98 G726-24/8000\r\n"
    "a=rtpmap:99 G726-16/8000\r\n"
    "a=rtpmap:100 opus/48000/2\r\n"
    "a=fmtp:100 stereo=1;sprop-stereo=1\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-rsize\r\n"
    "a=ssrc:2122347844 cname:sip:door@127.0.0.1\r\n"
    "a=minptime:20\r\n"
    "a=ptime:20\r\n"
)
BARESIP_SRTP_MANDATORY_OFFER = (
    "v=0\r\n"
    "o=- 2156767931 2017937441 IN IP4 192.0.2.2\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.2\r\n"
    "t=0 0\r\n"
    "a=tool:baresip 1.0.0\r\n"
    "m=audio 23264 RTP/SAVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-rsize\r\n"
    "a=ssrc:2942110523 cname:sip:door@127.0.0.1\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:YKDYcayYaYbD7GmONwFq+DWLzgQz+hnqHSfLDVu+\r\n"
    "a=minptime:20\r\n"
    "a=ptime:20\r\n"
)
BARESIP_SRTP_BEST_EFFORT_OFFER = BARESIP_SRTP_MANDATORY_OFFER.replace("RTP/SAVP", "RTP/AVP")
LINPHONE_OFFER = (
    "v=0\r\n"
    "o=door 1903 1819 IN IP6 fd00::2\r\n"
    "s=Talk\r\n"
    "c=IN IP6 fd00::2\r\n"
    "t=0 0\r\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n"
    "m=audio 40064 RTP/AVP 96 97 98 0 8 18 99 100 101\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 useinbandfec=1\r\n"
    "a=rtpmap:97 speex/16000\r\n"
    "a=fmtp:97 vbr=on\r\n"
    "a=rtpmap:98 speex/8000\r\n"
    "a=fmtp:98 vbr=on\r\n"
    "a=fmtp:18 annexb=yes\r\n"
    "a=rtpmap:99 telephone-event/48000\r\n"
    "a=rtpmap:100 telephone-event/16000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=rtcp-fb:* trr-int 5000\r\n"
    "a=rtcp-fb:* ccm tmmbr\r\n"
)

EXAMPLES = {
    "rfc4566": RFC4566_EXAMPLE,
    "rfc3264-9": RFC3264_CAPABILITIES,
    "rfc3264-10.1-offer": RFC3264_10_1_OFFER,
    "rfc3264-10.1-answer": RFC3264_10_1_ANSWER,
    "rfc3264-10.1-offer2": RFC3264_10_1_SECOND_OFFER,
    "rfc3264-10.1-answer2": RFC3264_10_1_SECOND_ANSWER,
    "rfc3264-10.2-offer": RFC3264_10_2_OFFER,
    "rfc3264-10.2-answer": RFC3264_10_2_ANSWER,
    "rfc3264-10.2-offer2": RFC3264_10_2_SECOND_OFFER,
    "rfc3264-10.2-answer2": RFC3264_10_2_SECOND_ANSWER,
    "rfc4317-2.1-offer": RFC4317_2_1_OFFER,
    "rfc4317-2.1-answer": RFC4317_2_1_ANSWER,
    "rfc4317-2.3-answer": RFC4317_2_3_ANSWER,
    "rfc4317-2.6-offer": RFC4317_2_6_OFFER,
    "rfc4317-2.6-answer": RFC4317_2_6_ANSWER,
    "rfc4317-2.8-answer": RFC4317_2_8_ANSWER,
    "rfc4317-3.1-offer": RFC4317_3_1_OFFER,
    "rfc4317-3.1-answer": RFC4317_3_1_ANSWER,
    "rfc4317-3.1-offer2": RFC4317_3_1_SECOND_OFFER,
    "rfc4317-3.2-offer2": RFC4317_3_2_SECOND_OFFER,
    "rfc4317-4.1-offer2": RFC4317_4_1_SECOND_OFFER,
    "baresip": BARESIP_OFFER,
    "baresip-srtp": BARESIP_SRTP_MANDATORY_OFFER,
    "linphone": LINPHONE_OFFER,
}


def canonical(text: str) -> str:
    """The text with CRLF line ends, as ``encode()`` writes it."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


# --- published examples ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_parse_and_round_trip(name: str) -> None:
    sd = parse(EXAMPLES[name])
    assert parse(sd.encode()) == sd
    assert parse(EXAMPLES[name].encode()) == sd  # bytes and str alike


@pytest.mark.parametrize("name", [n for n in sorted(EXAMPLES) if n != "rfc3264-9"])
def test_examples_in_rfc_order_serialize_byte_for_byte(name: str) -> None:
    assert str(parse(EXAMPLES[name])) == canonical(EXAMPLES[name])


def test_rfc4566_example_fields() -> None:
    sd = parse(RFC4566_EXAMPLE)
    assert sd.origin == Origin("jdoe", 2890844526, 2890842807, "IN", "IP4", "10.47.16.5")
    assert sd.session_name == "SDP Seminar"
    assert sd.information == "A Seminar on the session description protocol"
    assert sd.uri == "http://www.example.com/seminars/sdp.pdf"
    assert sd.emails == ("j.doe@example.com (Jane Doe)",)
    assert sd.connection == Connection("224.2.17.12", ttl=127)
    assert sd.connection.is_multicast
    assert sd.timing == (Timing(2873397496, 2873404696),)
    assert sd.direction == "recvonly"
    audio, video = sd.media
    assert (audio.media, audio.port, audio.proto, audio.formats) == ("audio", 49170, "RTP/AVP", ("0",))
    assert sd.direction_of(audio) == "recvonly"  # the session level is the default
    assert sd.connection_for(audio) == sd.connection
    assert audio.rtpmap("0") == RtpMap("PCMU", 8000)
    assert video.rtpmap("99") == RtpMap("h263-1998", 90000)


def test_rfc3264_capabilities_accept_t_before_c_and_write_rfc4566_order() -> None:
    sd = parse(RFC3264_CAPABILITIES)
    assert sd.connection == Connection("192.0.2.4")
    assert [m.port for m in sd.media] == [0, 0]
    assert sd.media[0].rtpmap("1") == RtpMap("1016", 8000)
    text = str(sd)
    assert text.index("c=IN IP4 192.0.2.4") < text.index("t=0 0")


def test_rfc3264_empty_session_name_and_fqdn_connection() -> None:
    sd = parse(RFC3264_10_1_OFFER)
    assert sd.session_name == ""
    assert sd.connection == Connection("host.anywhere.com")
    assert not sd.connection.is_multicast
    assert parse(RFC4317_2_1_OFFER).session_name == " "


def test_rfc4317_media_level_connection_overrides_the_session() -> None:
    sd = parse(RFC4317_2_8_ANSWER)
    audio, video = sd.media
    assert sd.connection_for(audio) == Connection("host.biloxi.example.com")
    assert sd.connection_for(video) == Connection("otherhost.biloxi.example.com")
    assert video.connection == Connection("otherhost.biloxi.example.com")


# --- RFC 4475 torture messages -----------------------------------------------------------------

# Every vector with an SDP body: the media count, or the line of the error.
TWO_STREAMS = (
    "baddate", "badinv01", "bcast", "clerr", "esc01", "escruri", "insuf", "longreq", "ltgtruri",
    "lwsruri", "lwsstart", "multi01", "ncl", "quotbal", "sdp01", "unreason", "wsinv",
)  # fmt: skip
VECTOR_BODIES: dict[str, int | SdpError] = {
    **dict.fromkeys(TWO_STREAMS, 2),
    "inv2543": 1,
    "dblreq": SdpError("expected '<letter>=<value>' with no blanks around '='", 7),  # "m =video"
    "mismatch02": SdpError("got 'c=' where RFC 4566 requires s= (session name) right after o=", 3),
}


def sdp_body(message: bytes) -> bytes:
    """The SDP of a vector: from the first ``v=0`` line after a blank line to the next blank line."""
    start = message.index(b"\r\n\r\nv=0") + 4
    end = message.find(b"\r\n\r\n", start)
    return message[start : end + 2 if end >= 0 else len(message)]


def test_the_table_covers_every_vector_with_sdp() -> None:
    with_sdp = {n for n in names() if b"\r\n\r\nv=0" in load(n)}
    assert with_sdp == set(VECTOR_BODIES)


@pytest.mark.parametrize("name", sorted(VECTOR_BODIES))
def test_rfc4475_sdp_bodies(name: str) -> None:
    expected = VECTOR_BODIES[name]
    body = sdp_body(load(name))
    if isinstance(expected, SdpError):
        with pytest.raises(SdpError) as caught:
            parse(body)
        assert caught.value.line == expected.line
        assert expected.reason in caught.value.reason
        return
    sd = parse(body)
    assert len(sd.media) == expected
    assert parse(sd.encode()) == sd
    audio = sd.media[0]
    assert audio.port == 49217
    assert audio.rtpmap("0") == RtpMap("PCMU", 8000)
    if expected == 2:
        assert audio.rtpmap("12") == RtpMap("QCELP", 8000)
        assert sd.media[1].values("rtpmap") == ["31 LPC"]
        assert sd.media[1].rtpmap("31") is None  # malformed: no clock rate, and no guessing


def test_rfc4475_wsinv_keeps_distinct_origin_and_connection() -> None:
    sd = parse(sdp_body(load("wsinv")))
    assert sd.origin.address == "192.0.2.3"
    assert sd.connection == Connection("192.0.2.4")


# --- errors ------------------------------------------------------------------------------------

HEAD = "v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\n"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "empty"),
        ("\r\n\r\n", 1, "empty"),
        ("o=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n", 1, "must start with v=0"),
        ("v=1\no=- 1 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n", 1, "only v=0"),
        ("v=0\ns=-\nt=0 0\n", 2, "o= (origin)"),
        ("v=0\no=- 1 1 IN IP4\ns=-\nt=0 0\n", 2, "got 5 fields"),
        ("v=0\no=- x 1 IN IP4 192.0.2.1\ns=-\nt=0 0\n", 2, "session id"),
        ("v=0\no=- 1 1 IN IP4 192.0.2.1\nt=0 0\n", 3, "s= (session name)"),
        ("v=0\no=- 1 1 IN IP4 192.0.2.1\n", None, "ends early"),
        (HEAD, None, "no t= line"),
        (HEAD + "m=audio 4000 RTP/AVP 0\n", 4, "m= before any t="),
        (HEAD + "t=0 0\nm=audio 4000 RTP/AVP 0\nt=0 0\n", 6, "t= is a session-level line"),
        (HEAD + "t=0 0\nm=audio 4000 RTP/AVP 0\ns=x\n", 6, "s= is a session-level line"),
        (HEAD + "t=0 0\nv=0\n", 5, "a second v= line"),
        (HEAD + "r=7d 1h 0 25h\nt=0 0\n", 4, "r= (repeat times) must directly follow"),
        (HEAD + "t=0 0\na=x\nr=7d 1h 0 25h\n", 6, "r= (repeat times) must directly follow"),
        (HEAD + "t=0\n", 4, "t= needs"),
        (HEAD + "t=now 0\n", 4, "t= start time"),
        (HEAD + "t=0 0\nm=audio 70000 RTP/AVP 0\n", 5, "m= port must be at most 65535"),
        (HEAD + "t=0 0\nm=audio 4x00 RTP/AVP 0\n", 5, "m= port must be a whole number"),
        (HEAD + "t=0 0\nm=audio -1 RTP/AVP 0\n", 5, "m= port must be a whole number"),
        (HEAD + "t=0 0\nm=audio 4000/0 RTP/AVP 0\n", 5, "port count must be at least 1"),
        (HEAD + "t=0 0\nm=audio 4000 RTP/AVP 128\n", 5, "payload type '128' must be at most 127"),
        (HEAD + "t=0 0\nm=audio 4000 RTP/AVP PCMU\n", 5, "payload type 'PCMU'"),
        (HEAD + "t=0 0\nm=audio 4000 RTP/AVP\n", 5, "lists no media formats"),
        (HEAD + "t=0 0\nm=audio 4000\n", 5, "m= needs"),
        (HEAD + "c=IN IP4 999.1.1.1\nt=0 0\n", 4, "'999.1.1.1' is not a valid IP4 address"),
        (HEAD + "c=IN IP4 192.0.2.256\nt=0 0\n", 4, "not a valid IP4 address"),
        (HEAD + "c=IN IP4 1.2.3\nt=0 0\n", 4, "not a valid IP4 address"),
        (HEAD + "c=IN IP4 host_name.example\nt=0 0\n", 4, "neither an IP4 address nor a host name"),
        (HEAD + "c=IN IP6 fe80:::1\nt=0 0\n", 4, "not a valid IP6 address"),
        (HEAD + "c=IN IP4 192.0.2.1/127\nt=0 0\n", 4, "only a multicast address may carry"),
        (HEAD + "c=IN IP4 224.2.1.1/256\nt=0 0\n", 4, "TTL must be at most 255"),
        (HEAD + "c=IN IP4 224.2.1.1/127/3/4\nt=0 0\n", 4, "expected <address>/<ttl>[/<count>]"),
        (HEAD + "c=IN IP6 FF15::101/3/4\nt=0 0\n", 4, "takes only /<count>"),
        (HEAD + "c=IN IP4\nt=0 0\n", 4, "c= needs"),
        (HEAD + "c=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2\nt=0 0\n", 5, "second session-level c="),
        (HEAD + "t=0 0\nm=audio 4000 RTP/AVP 0\ni=a\ni=b\n", 7, "second i= (media title)"),
        (HEAD + "b=AS\nt=0 0\n", 4, "b= needs"),
        (HEAD + "t=0 0\na=:x\n", 5, "attribute name ''"),
        (HEAD + "t=0 0\na=foo bar\n", 5, "attribute name 'foo bar'"),
        (HEAD + "t=0 0\nx=unknown\n", 5, "unknown line type 'x='"),
        (HEAD + "t=0 0\nm =video 4000 RTP/AVP 31\n", 5, "no blanks around '='"),
        (HEAD + "t=0 0\nA=sendonly\n", 5, "'<letter>=<value>'"),
        (HEAD + "\nt=0 0\n", 4, "'<letter>=<value>'"),
        (HEAD + "t=0 0\na=x\ry\n", 5, "stray CR or NUL"),
        (HEAD + "t=0 0\na=x\x00\n", 5, "stray CR or NUL"),
    ],
)
def test_errors_name_the_line_and_the_problem(text: str, line: int | None, words: str) -> None:
    with pytest.raises(SdpError) as caught:
        parse(text)
    assert caught.value.line == line
    assert words in caught.value.reason
    prefix = f"SDP line {line}: " if line is not None else "SDP: "
    assert str(caught.value).startswith(prefix)


def test_bytes_that_are_not_utf8_are_an_error() -> None:
    with pytest.raises(SdpError, match="not UTF-8"):
        parse(HEAD.encode() + b"t=0 0\na=x:\xff\n")


def test_tolerated_input() -> None:
    text = HEAD + "c=IN IP4 224.0.1.75\nt=0 0\nm=audio  4000   RTP/AVP  0 \nm=video 0 RTP/AVP\na=x:\n\n\n"
    sd = parse(text)
    assert sd.connection == Connection("224.0.1.75")  # multicast without a TTL
    assert sd.media[0].formats == ("0",)
    assert sd.media[1].formats == ()  # a rejected stream without formats
    assert sd.media[1].attributes == (("x", ""),)  # an empty value is not a missing one
    assert parse(str(sd)) == sd


# --- connection, attributes and their helpers ----------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("IN IP4 224.2.1.1/127/3", Connection("224.2.1.1", ttl=127, count=3)),
        ("IN IP4 224.2.36.42/127", Connection("224.2.36.42", ttl=127)),
        ("IN IP6 FF15::101/3", Connection("FF15::101", "IP6", count=3)),
        ("IN IP6 fd00::2", Connection("fd00::2", "IP6")),
        ("IN IP6 host.example.com", Connection("host.example.com", "IP6")),
        ("IN IP4 0.0.0.0", Connection("0.0.0.0")),
        ("ATM NSAP 47.0091.8100.0000.0060.3e64.fd01.0060.3e64.fd01.00", None),
    ],
)
def test_connection_lines(line: str, expected: Connection | None) -> None:
    sd = parse(f"{HEAD}c={line}\nt=0 0\n")
    assert sd.connection is not None
    if expected is not None:
        assert sd.connection == expected
    assert str(sd.connection) == line


def test_connection_properties() -> None:
    assert Connection("224.0.1.75").is_multicast
    assert Connection("ff02::1", "IP6").is_multicast
    assert not Connection("192.0.2.1").is_multicast
    assert not Connection("host.example.com").is_multicast
    assert Connection("0.0.0.0").is_null
    assert not Connection("192.0.2.1").is_null


MEDIA = HEAD + "t=0 0\n"


def media(*lines: str, session: str = "") -> tuple[SessionDescription, MediaDescription]:
    sd = parse(MEDIA + session + "\n".join(lines) + "\n")
    return sd, sd.media[0]


def test_rtpmap_static_dynamic_and_special_cases() -> None:
    _, m = media(
        "m=audio 4000 RTP/AVP 0 9 2 18 96 97 98 99",
        "a=rtpmap:96 opus/48000/2",
        "a=rtpmap:97 G726-32/8000",
        "a=rtpmap:98 telephone-event/8000",
        "a=rtpmap:99 L16",
    )
    assert m.rtpmap("0") == RtpMap("PCMU", 8000, 1)
    assert m.rtpmap("9") == RtpMap("G722", 8000)  # RFC 3551: 8000 although G.722 samples at 16 kHz
    assert m.rtpmap("2") == RtpMap("G726-32", 8000)  # old peers' static G.726-32
    assert m.rtpmap("18") == RtpMap("G729", 8000)
    assert m.rtpmap("96") == RtpMap("opus", 48000, 2)
    assert str(m.rtpmap("96")) == "opus/48000/2"
    assert str(m.rtpmap("0")) == "PCMU/8000"
    assert m.rtpmap("97") == RtpMap("G726-32", 8000)
    assert m.rtpmap("98") == RtpMap("telephone-event", 8000)
    assert m.rtpmap("99") is None
    assert m.rtpmap("100") is None


def test_an_explicit_rtpmap_wins_over_the_static_table() -> None:
    _, m = media("m=audio 4000 RTP/AVP 0", "a=rtpmap:0 PCMA/8000")
    assert m.rtpmap("0") == RtpMap("PCMA", 8000)


def test_fmtp() -> None:
    sd = parse(BARESIP_OFFER)
    m = sd.media[0]
    assert m.fmtp("100") == "stereo=1;sprop-stereo=1"
    assert m.fmtp_params("100") == {"stereo": "1", "sprop-stereo": "1"}
    assert m.fmtp("101") == "0-15"
    assert m.fmtp_params("101") == {"0-15": ""}
    assert m.fmtp("0") is None
    assert parse_fmtp(" Mode=30 ; annexb=no ") == {"mode": "30", "annexb": "no"}
    assert parse(LINPHONE_OFFER).media[0].fmtp("18") == "annexb=yes"  # fmtp without rtpmap


def test_ptime_and_maxptime() -> None:
    _, m = media("m=audio 4000 RTP/AVP 0", "a=ptime:30", "a=maxptime:150")
    assert (m.ptime, m.maxptime) == (30, 150)
    _, m = media("m=audio 4000 RTP/AVP 0", "a=ptime:20.0", "a=maxptime:x")
    assert (m.ptime, m.maxptime) == (20, None)
    _, m = media("m=audio 4000 RTP/AVP 0", "a=ptime:0")
    assert m.ptime is None


@pytest.mark.parametrize(
    ("session", "attributes", "expected"),
    [
        ("", [], "sendrecv"),
        ("", ["a=sendonly"], "sendonly"),
        ("a=recvonly\n", [], "recvonly"),
        ("a=recvonly\n", ["a=inactive"], "inactive"),
        ("a=inactive\n", ["a=sendrecv"], "sendrecv"),
        ("", ["a=sendonly", "a=recvonly"], "recvonly"),  # the last one counts
    ],
)
def test_direction_with_the_session_level_default(session: str, attributes: list[str], expected: str) -> None:
    sd, m = media("m=audio 4000 RTP/AVP 0", *attributes, session=session)
    assert sd.direction_of(m) == expected


def test_with_direction_replaces_every_direction_attribute() -> None:
    _, m = media("m=audio 4000 RTP/AVP 0", "a=sendonly", "a=ptime:20", "a=recvonly")
    assert m.with_direction("inactive").attributes == (("inactive", None), ("ptime", "20"))
    _, m = media("m=audio 4000 RTP/AVP 0", "a=ptime:20")
    assert m.with_direction("sendonly").attributes == (("ptime", "20"), ("sendonly", None))
    with pytest.raises(ValueError, match="direction must be one of"):
        m.with_direction("hold")


def test_rfc3605_rtcp() -> None:
    for line, expected in [
        ("a=rtcp:53020", Rtcp(53020)),
        ("a=rtcp:53020 IN IP4 126.16.64.4", Rtcp(53020, Connection("126.16.64.4"))),
        (
            "a=rtcp:53020 IN IP6 2001:2345:6789:ABCD:EF01:2345:6789:ABCD",
            Rtcp(53020, Connection("2001:2345:6789:ABCD:EF01:2345:6789:ABCD", "IP6")),
        ),
    ]:
        _, m = media("m=audio 49170 RTP/AVP 0", line)
        assert m.rtcp == expected
    _, m = media("m=audio 49170 RTP/AVP 0", "a=rtcp:99999", "a=rtcp:x")
    assert m.rtcp is None
    _, m = media("m=audio 49170 RTP/AVP 0")
    assert m.rtcp is None and not m.rtcp_mux
    _, m = media("m=audio 49170 RTP/AVP 0", "a=rtcp-mux")
    assert m.rtcp_mux


# RFC 4568 §4 and §6.1 examples (also quoted in many SDP libraries' tests).
RFC4568_KEY = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"


def test_rfc4568_crypto_lines() -> None:
    _, m = media(
        "m=audio 49170 RTP/SAVP 0",
        f"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{RFC4568_KEY}|2^20|1:32",
        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:YUJDZGVmZ2hpSktMbW9QUXJzVHVWd3l6MTIzNDU2|1066:4",
        f"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{RFC4568_KEY}|2^20|1:4;inline:{RFC4568_KEY}|2^20|2:4"
        " FEC_ORDER=FEC_SRTP",
        "a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:not*base64",
        "a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:" + RFC4568_KEY,
    )
    first, second, third = m.crypto  # the two malformed lines are left out
    key = base64.b64decode(RFC4568_KEY)
    assert first == Crypto(1, "AES_CM_128_HMAC_SHA1_80", (KeyParam(key, 1 << 20, (1, 32)),))
    assert len(first.key_salt) == 30
    assert second.key_params[0].lifetime is None and second.key_params[0].mki == (1066, 4)
    assert third.session_params == ("FEC_ORDER=FEC_SRTP",)
    assert [k.mki for k in third.key_params] == [(1, 4), (2, 4)]
    for crypto in (first, second, third):
        assert parse_crypto(str(crypto)) == crypto
    assert str(first) == f"1 AES_CM_128_HMAC_SHA1_80 inline:{RFC4568_KEY}|2^20|1:32"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1 AES_CM_128_HMAC_SHA1_80", "needs"),
        ("1 AES_CM_128_HMAC_SHA1_80 key:abcd", "not 'inline:"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:@@@@", "not base64"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:", "empty key"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD|1|2:3|4", "more than lifetime and MKI"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD|2^x", "lifetime exponent"),
        ("one AES_CM_128_HMAC_SHA1_80 inline:QUJD", "crypto tag"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD|1:x", "MKI length"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:QUJD|1:129", "MKI length must be at most 128"),
    ],
)
def test_crypto_errors(value: str, words: str) -> None:
    with pytest.raises(SdpError, match=re.escape(words)):
        parse_crypto(value)


def test_crypto_lifetime_in_decimal_is_written_as_a_power_of_two() -> None:
    crypto = parse_crypto(f"7 AES_CM_128_HMAC_SHA1_32 inline:{RFC4568_KEY}|1048576")
    assert crypto.key_params[0].lifetime == 1 << 20
    assert str(crypto) == f"7 AES_CM_128_HMAC_SHA1_32 inline:{RFC4568_KEY}|2^20"
    assert str(KeyParam(b"k", 1000)) == "inline:aw==|1000"


def test_crypto_tolerates_missing_base64_padding() -> None:
    key = bytes(range(46))  # a 256-bit suite's key and salt: base64 with "==" padding
    text = base64.b64encode(key).decode().rstrip("=")
    assert parse_crypto(f"1 AES_256_CM_HMAC_SHA1_80 inline:{text}").key_salt == key


def test_attribute_lookup_is_case_insensitive_and_ordered() -> None:
    sd, m = media("m=audio 4000 RTP/AVP 0", "a=X-Foo:1", "a=x-foo:2", "a=flag", session="a=tool:t\n")
    assert m.values("x-foo") == ["1", "2"]
    assert m.value("X-FOO") == "1"
    assert m.has("flag") and m.value("flag") is None
    assert not m.has("other")
    assert sd.value("tool") == "t"
    assert sd.values("nothing") == []


# --- writing ---------------------------------------------------------------------------------


def test_encode_writes_rfc4566_order_with_crlf() -> None:
    sd = SessionDescription(
        origin=Origin("portier", 7, 8, "IN", "IP4", "192.0.2.1"),
        session_name="portier",
        connection=Connection("192.0.2.1"),
        bandwidths=(Bandwidth("AS", 64),),
        attributes=(("tool", "portier"),),
        media=(
            MediaDescription(
                "audio",
                4000,
                "RTP/AVP",
                ("0", "101"),
                information="voice",
                connections=(Connection("192.0.2.2"),),
                bandwidths=(Bandwidth("TIAS", 64000),),
                key="prompt",
                attributes=(("rtpmap", "101 telephone-event/8000"), ("sendonly", None)),
            ),
        ),
        information="door",
        uri="http://example.com/",
        emails=("a@example.com",),
        phones=("+1 555 0100",),
        timing=(Timing(0, 0, ("7d 1h 0 25h",)),),
        time_zones="2882844526 -1h",
        key="clear:secret",
    )
    assert sd.encode() == (
        b"v=0\r\no=portier 7 8 IN IP4 192.0.2.1\r\ns=portier\r\ni=door\r\nu=http://example.com/\r\n"
        b"e=a@example.com\r\np=+1 555 0100\r\nc=IN IP4 192.0.2.1\r\nb=AS:64\r\nt=0 0\r\nr=7d 1h 0 25h\r\n"
        b"z=2882844526 -1h\r\nk=clear:secret\r\na=tool:portier\r\nm=audio 4000 RTP/AVP 0 101\r\n"
        b"i=voice\r\nc=IN IP4 192.0.2.2\r\nb=TIAS:64000\r\nk=prompt\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"
    )
    assert parse(sd.encode()) == sd


def test_lf_only_input_is_written_back_with_crlf() -> None:
    sd = parse(RFC3264_10_2_OFFER)
    assert "\r\n" not in RFC3264_10_2_OFFER
    assert sd.encode() == canonical(RFC3264_10_2_OFFER).encode()


def test_port_count_and_repeat_lines_round_trip() -> None:
    text = HEAD + "t=2873397496 2873404696\nr=7d 1h 0 25h\nr=604800 3600 0 90000\n"
    text += "m=video 49170/2 RTP/AVP 31\n"
    sd = parse(text)
    assert sd.timing[0].repeats == ("7d 1h 0 25h", "604800 3600 0 90000")
    assert sd.media[0].port_count == 2
    assert str(sd) == canonical(text)


# --- hypothesis: generated descriptions and mutated published ones -------------------------------

_token = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+", min_size=1, max_size=9)
_free_text = st.text(st.characters(exclude_characters="\r\n\x00", codec="utf-8"), max_size=20)
_unicast4 = st.ip_addresses(v=4).filter(lambda ip: not ip.is_multicast).map(str)
_attribute = st.tuples(_token, st.none() | _free_text)


@st.composite
def connections(draw: st.DrawFn) -> Connection:
    kind = draw(st.sampled_from(["unicast4", "multicast4", "ip6", "fqdn"]))
    if kind == "unicast4":
        return Connection(draw(_unicast4))
    if kind == "multicast4":
        address = str(draw(st.ip_addresses(network="224.0.0.0/4")))
        ttl = draw(st.integers(0, 255))
        return Connection(address, ttl=ttl, count=draw(st.none() | st.integers(1, 9)))
    if kind == "ip6":
        return Connection(str(draw(st.ip_addresses(v=6))), "IP6")
    return Connection(draw(st.from_regex(r"[a-z][a-z0-9-]{0,8}(\.[a-z0-9-]{1,8}){0,3}", fullmatch=True)))


@st.composite
def media_descriptions(draw: st.DrawFn) -> MediaDescription:
    rtp = draw(st.booleans())
    formats = draw(
        st.lists(st.integers(0, 127).map(str) if rtp else _token, min_size=1, max_size=5).map(tuple)
    )
    return MediaDescription(
        draw(st.sampled_from(["audio", "video", "application"])),
        draw(st.integers(0, 65535)),
        draw(st.sampled_from(["RTP/AVP", "RTP/SAVP"]) if rtp else st.sampled_from(["udp", "TCP/MSRP"])),
        formats,
        port_count=draw(st.none() | st.integers(1, 4)),
        information=draw(st.none() | _free_text),
        connections=tuple(draw(st.lists(connections(), max_size=2))),
        bandwidths=tuple(draw(st.lists(st.builds(Bandwidth, _token, st.integers(0, 10**6)), max_size=2))),
        key=draw(st.none() | _free_text),
        attributes=tuple(draw(st.lists(_attribute, max_size=5))),
    )


@st.composite
def descriptions(draw: st.DrawFn) -> SessionDescription:
    origin = Origin(
        draw(_token),
        draw(st.integers(0, 2**64)),
        draw(st.integers(0, 2**64)),
        "IN",
        "IP4",
        draw(_unicast4),
    )
    repeats = st.lists(_free_text, max_size=2).map(tuple)
    timing = st.builds(Timing, st.integers(0, 2**40), st.integers(0, 2**40), repeats)
    return SessionDescription(
        origin=origin,
        session_name=draw(_free_text),
        connection=draw(st.none() | connections()),
        bandwidths=tuple(draw(st.lists(st.builds(Bandwidth, _token, st.integers(0, 10**6)), max_size=2))),
        timing=tuple(draw(st.lists(timing, min_size=1, max_size=2))),
        attributes=tuple(draw(st.lists(_attribute, max_size=4))),
        media=tuple(draw(st.lists(media_descriptions(), max_size=3))),
        information=draw(st.none() | _free_text),
        uri=draw(st.none() | _free_text),
        emails=tuple(draw(st.lists(_free_text, max_size=2))),
        phones=tuple(draw(st.lists(_free_text, max_size=2))),
        time_zones=draw(st.none() | _free_text),
        key=draw(st.none() | _free_text),
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(descriptions())
def test_generated_descriptions_survive_encode_and_parse(sd: SessionDescription) -> None:
    assert parse(sd.encode()) == sd
    assert parse(str(sd)) == sd


_ALPHABET = " \t\r\n=:/.0123456789abcmstvoIP4RTP/AVP-"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = list(draw(st.sampled_from(sorted(EXAMPLES.values()))))
    for _ in range(draw(st.integers(1, 5))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        char = draw(st.sampled_from(_ALPHABET))
        if op == "replace" and pos < len(text):
            text[pos] = char
        elif op == "insert":
            text.insert(pos, char)
        elif op == "delete" and pos < len(text):
            del text[pos]
        elif op == "truncate":
            del text[pos:]
    return "".join(text)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_descriptions_raise_only_sdp_error_and_parse_serialize_parse_is_a_fixed_point(
    text: str,
) -> None:
    try:
        sd = parse(text)
    except SdpError as exc:
        assert exc.reason
        return
    again = parse(sd.encode())
    assert again == sd
    assert again.encode() == sd.encode()
    for m in sd.media:  # the helpers never raise, whatever the attributes say
        for pt in m.formats:
            m.rtpmap(pt)
            m.fmtp(pt)
        _ = (m.ptime, m.maxptime, m.rtcp, m.crypto, m.rtcp_mux, sd.direction_of(m))
