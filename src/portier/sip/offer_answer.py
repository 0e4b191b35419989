"""SDP offer/answer (RFC 3264) for a door station's one audio stream, as pure functions.

Why pure: a call (``phone/``) hands in the peer's description and the Media settings turned into a
``MediaPolicy``, and gets back our description plus what the RTP session needs (where to send,
which payload types mean what, direction, SRTP keys). Session ids, versions and keys are passed
in, so the same input always gives the same bytes.

Rules kept here (section numbers are RFC 3264's unless named):

- Codecs match by encoding name (case-insensitive), clock rate and channels; static payload types
  without a=rtpmap mean what RFC 3551 says (G.722 is ``G722/8000``), PT 2 is ``G726-32/8000`` as
  old peers use it, opus is ``opus/48000/2`` (RFC 7587) and matches whatever channel count.
- We always send with the *remote's* payload type numbers; our answer reuses the offer's numbers.
- The answer has one m= line per offered one; streams we do not take get port 0 (§6). Only the
  first audio stream that negotiates is taken; a door station has one voice path.
- Direction follows the §6.1 table, intersected with the policy's own direction; an offer whose
  c= is ``0.0.0.0`` (RFC 2543 hold, §8.4) means the peer receives nothing.
- Multicast (§6.2): the answer keeps the offer's address, port and direction attribute.
- Comfort noise (RFC 3389) when the policy asks for it (Media "Enable VAD"): our offer adds the static
  ``CN/8000`` (payload type 13) when a codec runs an 8 kHz clock, and our answer keeps the offer's CN
  at the clock of the codec we send with. CN is a companion format like telephone-event, never the
  codec we send with; opus (48 kHz clock) goes without, it has its own silence handling (DTX).
- SRTP (RFC 4568 SDES): ``RTP/SAVP`` needs an acceptable a=crypto; ``compulsory`` also requires one
  on ``RTP/AVP``; ``optional`` uses crypto when offered over ``RTP/AVP`` (as baresip's ``srtp``
  does) and offers it that way; ``off`` ignores crypto and refuses ``RTP/SAVP``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from portier.sip.sdp import (
    DIRECTIONS,
    Attribute,
    Connection,
    Crypto,
    KeyParam,
    MediaDescription,
    Origin,
    RtpMap,
    SessionDescription,
)

SRTP_SUITES = ("AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32")
SRTP_MODES = ("off", "optional", "compulsory")
_KEY_LENGTHS = {"AES_CM_128_HMAC_SHA1_80": 30, "AES_CM_128_HMAC_SHA1_32": 30}
_AUXILIARY = frozenset({"telephone-event", "cn", "red"})
"""Formats that ride along with a voice codec and are never chosen as the one we send."""
_SECURE_PROTOS = frozenset({"RTP/SAVP", "RTP/SAVPF"})


@dataclass(frozen=True, kw_only=True)
class CodecSpec:
    """A payload format as SDP names it: ``clock_rate`` is the RTP clock (8000 for G.722)."""

    name: str
    clock_rate: int
    channels: int = 1
    payload_type: int
    fmtp: str | None = None

    def same_format(self, other: CodecSpec) -> bool:
        """Same encoding, whatever the payload type number (opus: any channel count)."""
        if self.name.casefold() != other.name.casefold() or self.clock_rate != other.clock_rate:
            return False
        return self.name.casefold() == "opus" or self.channels == other.channels

    @property
    def rtpmap(self) -> RtpMap:
        return RtpMap(self.name, self.clock_rate, self.channels)

    @property
    def is_auxiliary(self) -> bool:
        return self.name.casefold() in _AUXILIARY


PCMU = CodecSpec(name="PCMU", clock_rate=8000, payload_type=0)
PCMA = CodecSpec(name="PCMA", clock_rate=8000, payload_type=8)
G722 = CodecSpec(name="G722", clock_rate=8000, payload_type=9)
G723 = CodecSpec(name="G723", clock_rate=8000, payload_type=4)
G729 = CodecSpec(name="G729", clock_rate=8000, payload_type=18)
TELEPHONE_EVENT = CodecSpec(name="telephone-event", clock_rate=8000, payload_type=101, fmtp="0-16")
COMFORT_NOISE = CodecSpec(name="CN", clock_rate=8000, payload_type=13)


@dataclass(frozen=True, kw_only=True)
class MediaPolicy:
    """What the Media settings allow for one call, in the terms SDP needs.

    ``codecs`` are the enabled ones in preference order; ``single_codec`` is the Fanvil "Response
    Single Codec" (answer with the first common codec and telephone-event only); ``srtp`` is "RTP
    Encryption"; ``address``/``port`` are where we receive RTP; ``comfort_noise`` offers and accepts
    CN (RFC 3389), for "Enable VAD".
    """

    address: str
    port: int
    codecs: tuple[CodecSpec, ...]
    dtmf: CodecSpec | None = None
    ptime: int = 20
    single_codec: bool = False
    direction: str = "sendrecv"
    srtp: str = "off"
    srtp_suites: tuple[str, ...] = SRTP_SUITES
    session_name: str = "portier"
    user: str = "portier"
    comfort_noise: bool = False

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {self.direction!r}")
        if self.srtp not in SRTP_MODES:
            raise ValueError(f"srtp must be one of {', '.join(SRTP_MODES)}, got {self.srtp!r}")
        if not 0 < self.port < 65536 or self.ptime <= 0:
            raise ValueError(f"port must be 1-65535 and ptime positive, got {self.port} and {self.ptime}")
        pts = [c.payload_type for c in self.codecs] + ([self.dtmf.payload_type] if self.dtmf else [])
        if len(set(pts)) != len(pts) or not all(0 <= pt <= 127 for pt in pts):
            raise ValueError(f"payload types must be distinct and 0-127, got {pts}")


@dataclass(frozen=True)
class CryptoChoice:
    """The SDES keys of a stream: ``remote_key`` decrypts what the peer sends, ``local_key`` ours."""

    tag: int
    suite: str
    remote_key: bytes
    local_key: bytes
    remote_mki: tuple[int, int] | None = None


@dataclass(frozen=True)
class NegotiatedMedia:
    """What the RTP session of an accepted stream needs.

    ``send_codec`` and ``remote_payload_types`` carry the peer's payload type numbers (what we put
    in packets we send); ``receive_codecs`` the numbers that arrive in packets from the peer.
    ``direction`` is ours: ``sendonly`` means we send and do not expect to receive.
    """

    stream: int
    remote_address: str
    remote_port: int
    remote_rtcp_address: str
    remote_rtcp_port: int
    send_codec: CodecSpec
    receive_codecs: tuple[CodecSpec, ...]
    remote_payload_types: Mapping[int, CodecSpec]
    telephone_event_pt: int | None
    ptime: int
    direction: str
    crypto: CryptoChoice | None = None
    comfort_noise_pt: int | None = None
    """CN (RFC 3389) at the send codec's clock in the peer's numbering (what we send it with)."""
    receive_comfort_noise_pt: int | None = None
    """The same CN as the peer's packets to us carry it (our offer's number when we offered)."""

    @property
    def multicast(self) -> bool:
        try:
            return ipaddress.ip_address(self.remote_address).is_multicast
        except ValueError:
            return False

    @property
    def sends(self) -> bool:
        return self.direction in ("sendrecv", "sendonly")

    @property
    def receives(self) -> bool:
        return self.direction in ("sendrecv", "recvonly")


@dataclass(frozen=True)
class Answer:
    sdp: SessionDescription
    chosen: NegotiatedMedia


@dataclass(frozen=True)
class Rejected:
    """No acceptable stream; ``status`` is the SIP response for an offer in a request (488)."""

    reason: str
    status: int = 488


# --- small pieces ----------------------------------------------------------------------------


def _flags(direction: str) -> tuple[bool, bool]:
    return direction in ("sendrecv", "sendonly"), direction in ("sendrecv", "recvonly")


def _direction(send: bool, receive: bool) -> str:
    return {(True, True): "sendrecv", (True, False): "sendonly", (False, True): "recvonly"}.get(
        (send, receive), "inactive"
    )


def _addrtype(address: str) -> str:
    return "IP6" if ":" in address else "IP4"


def _codec_of(media: MediaDescription, pt: str) -> CodecSpec | None:
    rtpmap = media.rtpmap(pt)
    if rtpmap is None or not (pt.isascii() and pt.isdigit()):
        return None
    return CodecSpec(
        name=rtpmap.encoding,
        clock_rate=rtpmap.clock_rate,
        channels=rtpmap.channels,
        payload_type=int(pt),
        fmtp=media.fmtp(pt),
    )


def _is_comfort_noise(codec: CodecSpec, clock_rate: int) -> bool:
    return codec.name.casefold() == "cn" and codec.clock_rate == clock_rate


def _codecs_of(media: MediaDescription) -> list[CodecSpec]:
    return [c for c in (_codec_of(media, pt) for pt in media.formats) if c is not None]


def _describe(codecs: list[CodecSpec] | tuple[CodecSpec, ...]) -> str:
    return ", ".join(str(c.rtpmap) for c in codecs) or "none"


def _format_attributes(codec: CodecSpec, fmtp: str | None) -> list[Attribute]:
    attributes: list[Attribute] = [("rtpmap", f"{codec.payload_type} {codec.rtpmap}")]
    if fmtp:
        attributes.append(("fmtp", f"{codec.payload_type} {fmtp}"))
    return attributes


def _crypto_line(tag: int, suite: str, key: bytes) -> Attribute:
    return ("crypto", str(Crypto(tag, suite, (KeyParam(key),))))


def _checked_key(keys: Mapping[str, bytes] | None, suite: str) -> bytes | None:
    key = (keys or {}).get(suite)
    expected = _KEY_LENGTHS.get(suite)
    if key is not None and expected is not None and len(key) != expected:
        raise ValueError(f"the {suite} master key and salt must be {expected} bytes, got {len(key)}")
    return key


def _session(policy: MediaPolicy, session_id: int, version: int, media: tuple[MediaDescription, ...],
             timing: SessionDescription | None = None) -> SessionDescription:  # fmt: skip
    addrtype = _addrtype(policy.address)
    sdp = SessionDescription(
        origin=Origin(policy.user, session_id, version, "IN", addrtype, policy.address),
        session_name=policy.session_name,
        connection=Connection(policy.address, addrtype),
        media=media,
    )
    return replace(sdp, timing=timing.timing) if timing is not None else sdp


# --- offerer ---------------------------------------------------------------------------------


def make_offer(
    policy: MediaPolicy, *, session_id: int, version: int, crypto_keys: Mapping[str, bytes] | None = None
) -> SessionDescription:
    """Our offer: one audio stream with every enabled codec in preference order, then DTMF, then CN.

    ``crypto_keys`` maps each SRTP suite to its 30-byte master key||salt; it is required unless
    ``policy.srtp`` is ``off``. Compulsory SRTP offers ``RTP/SAVP``; optional offers the keys on
    ``RTP/AVP`` so that a peer without SRTP can still answer.
    """
    if not policy.codecs:
        raise ValueError("no codec is enabled, so there is nothing to offer")
    codecs = policy.codecs + ((policy.dtmf,) if policy.dtmf else ())
    if (policy.comfort_noise and any(c.clock_rate == 8000 and not c.is_auxiliary for c in policy.codecs)
            and not any(_is_comfort_noise(c, 8000) for c in codecs)):
        codecs += (COMFORT_NOISE,)
    attributes: list[Attribute] = []
    for codec in codecs:
        fmtp = codec.fmtp or ("0-16" if codec.name.casefold() == "telephone-event" else None)
        attributes += _format_attributes(codec, fmtp)
    attributes += [("ptime", str(policy.ptime)), (policy.direction, None)]
    if policy.srtp != "off":
        suites = [(s, k) for s in policy.srtp_suites if (k := _checked_key(crypto_keys, s)) is not None]
        if not suites:
            raise ValueError(f"SRTP is {policy.srtp} but crypto_keys has no key for {policy.srtp_suites}")
        attributes += [_crypto_line(tag, suite, key) for tag, (suite, key) in enumerate(suites, 1)]
    media = MediaDescription(
        "audio",
        policy.port,
        "RTP/SAVP" if policy.srtp == "compulsory" else "RTP/AVP",
        tuple(str(c.payload_type) for c in codecs),
        attributes=tuple(attributes),
    )
    return _session(policy, session_id, version, (media,))


def accept_answer(offer: SessionDescription, answer: SessionDescription) -> NegotiatedMedia | Rejected:
    """The offerer's view once the answer arrives: the first audio stream the answer accepted.

    We send with the answer's payload type numbers, preferring the answer's first codec (§7);
    the peer sends to us with the numbers of our offer.
    """
    if len(answer.media) != len(offer.media):
        counts = f"{len(answer.media)} m= lines for the {len(offer.media)} offered"
        return Rejected(f"the answer has {counts}; RFC 3264 §6 wants one per offered stream")
    reasons = []
    for index, (ours, theirs) in enumerate(zip(offer.media, answer.media, strict=True)):
        if ours.port == 0 or theirs.port == 0 or ours.media != "audio":
            continue
        result = _accepted(index, offer, ours, answer, theirs)
        if isinstance(result, NegotiatedMedia):
            return result
        reasons.append(result.reason)
    return Rejected("; ".join(reasons) or "the answer accepts no audio stream")


def _accepted(
    index: int, offer: SessionDescription, ours: MediaDescription, answer: SessionDescription,
    theirs: MediaDescription,
) -> NegotiatedMedia | Rejected:  # fmt: skip
    offered = _codecs_of(ours)
    send: list[CodecSpec] = []
    receive: list[CodecSpec] = []
    for codec in _codecs_of(theirs):
        mine = next((o for o in offered if o.same_format(codec)), None)
        if mine is not None:
            send.append(codec)
            receive.append(mine)
    voice = [c for c in send if not c.is_auxiliary]
    if not voice:
        return Rejected(f"the answer's codecs ({_describe(_codecs_of(theirs))}) are none of those offered")
    crypto = _answer_crypto(ours, theirs)
    if isinstance(crypto, Rejected):
        return crypto
    connection = offer.connection_for(ours)
    if connection is None or not connection.is_multicast:
        connection = answer.connection_for(theirs)
        port = theirs.port
    else:
        port = ours.port
    if connection is None:
        return Rejected(f"m= line {index + 1} of the answer has no c= address")
    offered_send, offered_receive = _flags(offer.direction_of(ours))
    their_send, their_receive = _flags(answer.direction_of(theirs))
    if connection.is_multicast:
        direction = offer.direction_of(ours)  # §6.2: the answer repeats our direction
    else:
        sending = offered_send and their_receive and not connection.is_null
        direction = _direction(sending, offered_receive and their_send)
    rtcp = theirs.rtcp
    te = next((c for c in send if c.name.casefold() == "telephone-event"), None)
    clock = voice[0].clock_rate
    noise = next(((c, m) for c, m in zip(send, receive, strict=True) if _is_comfort_noise(c, clock)), None)
    return NegotiatedMedia(
        stream=index,
        remote_address=connection.address,
        remote_port=port,
        remote_rtcp_address=rtcp.connection.address if rtcp and rtcp.connection else connection.address,
        remote_rtcp_port=rtcp.port if rtcp else port + 1,
        send_codec=voice[0],
        receive_codecs=tuple(receive),
        remote_payload_types={c.payload_type: c for c in send},
        telephone_event_pt=te.payload_type if te else None,
        ptime=theirs.ptime or ours.ptime or 20,
        direction=direction,
        crypto=crypto,
        comfort_noise_pt=noise[0].payload_type if noise else None,
        receive_comfort_noise_pt=noise[1].payload_type if noise else None,
    )


def _answer_crypto(ours: MediaDescription, theirs: MediaDescription) -> CryptoChoice | Rejected | None:
    secure = ours.proto.upper() in _SECURE_PROTOS or theirs.proto.upper() in _SECURE_PROTOS
    mine = {c.tag: c for c in ours.crypto}
    for line in theirs.crypto:
        offered = mine.get(line.tag)
        if offered is not None and offered.suite == line.suite:
            key = line.key_params[0]
            return CryptoChoice(line.tag, line.suite, key.key_salt, offered.key_salt, key.mki)
    if secure or (mine and theirs.crypto):
        return Rejected("the answer has no a=crypto line matching a tag and suite of our offer")
    return None


# --- answerer --------------------------------------------------------------------------------


def make_answer(
    offer: SessionDescription,
    policy: MediaPolicy,
    *,
    session_id: int,
    version: int,
    crypto_keys: Mapping[str, bytes] | None = None,
) -> Answer | Rejected:
    """Answer an offer: take its first audio stream we can serve, reject the others (port 0).

    Which codec we send with, when several are common: RFC 3264 §6.1 lets the answerer list the
    common formats in its own order, but RECOMMENDS keeping the offer's relative order, and says
    the answerer SHOULD send with the offerer's most preferred format that is in the answer. The
    two options were (a) the first common codec in *our* preference order, or (b) the first
    common codec in the *offerer's* order. We choose (b): the answer lists the common codecs in
    the offer's order and we send with its first, so both sides start on the same codec and the
    peer's preference (often configured by whoever runs the PBX) wins. "Response Single Codec"
    answers with that one codec (plus telephone-event) only.
    """
    media: list[MediaDescription] = []
    chosen: NegotiatedMedia | None = None
    reasons: list[str] = []
    for index, offered in enumerate(offer.media):
        result: tuple[MediaDescription, NegotiatedMedia] | Rejected | None = None
        if chosen is None and offered.port != 0 and offered.media == "audio":
            result = _answer_stream(index, offer, offered, policy, crypto_keys)
        if isinstance(result, tuple):
            media.append(result[0])
            chosen = result[1]
            continue
        if isinstance(result, Rejected):
            reasons.append(result.reason)
        media.append(MediaDescription(offered.media, 0, offered.proto, offered.formats))
    if chosen is None:
        return Rejected("; ".join(reasons) or "the offer has no audio stream")
    return Answer(_session(policy, session_id, version, tuple(media), timing=offer), chosen)


def _answer_stream(
    index: int, offer: SessionDescription, offered: MediaDescription, policy: MediaPolicy,
    keys: Mapping[str, bytes] | None,
) -> tuple[MediaDescription, NegotiatedMedia] | Rejected:  # fmt: skip
    stream = f"m= line {index + 1}"
    if not offered.is_rtp or offered.proto.upper() not in ("RTP/AVP", "RTP/SAVP"):
        return Rejected(f"{stream}: transport {offered.proto} is not RTP/AVP or RTP/SAVP")
    remote = _codecs_of(offered)
    pairs = []  # (the offer's codec, our setting for it), in the offer's order
    for codec in remote:
        mine = next((o for o in policy.codecs if codec.same_format(o)), None)
        if mine is not None and codec.name.casefold() != "telephone-event":
            pairs.append((codec, mine))
    voice = [(r, o) for r, o in pairs if not r.is_auxiliary]
    if not voice:
        enabled = _describe(policy.codecs)
        return Rejected(f"{stream}: no common codec (offered {_describe(remote)}; enabled here {enabled})")
    crypto = _offer_crypto(stream, offered, policy, keys)
    if isinstance(crypto, Rejected):
        return crypto
    connection = offer.connection_for(offered)
    if connection is None:
        return Rejected(f"{stream}: no c= address for the stream")
    chosen = [voice[0]] if policy.single_codec else pairs
    clock = voice[0][0].clock_rate
    te = _telephone_event(remote, policy, clock)
    answered = [r for r, _ in chosen] + ([te] if te else [])
    noise = next((c for c in answered if _is_comfort_noise(c, clock)), None)
    added_noise = None
    if noise is None and policy.comfort_noise:
        noise = added_noise = next((c for c in remote if _is_comfort_noise(c, clock)), None)
        answered += [noise] if noise else []
    attributes: list[Attribute] = []
    for remote_codec, mine in chosen:
        attributes += _format_attributes(remote_codec, mine.fmtp)
    if te is not None:
        attributes += _format_attributes(te, (policy.dtmf.fmtp if policy.dtmf else None) or "0-16")
    if added_noise is not None:
        attributes += _format_attributes(added_noise, None)
    attributes.append(("ptime", str(policy.ptime)))
    offer_send, offer_receive = _flags(offer.direction_of(offered))
    offer_receive = offer_receive and not connection.is_null
    our_send, our_receive = _flags(policy.direction)
    direction = _direction(offer_receive and our_send, offer_send and our_receive)
    attributes.append((offer.direction_of(offered) if connection.is_multicast else direction, None))
    if crypto is not None:
        attributes.append(_crypto_line(crypto.tag, crypto.suite, crypto.local_key))
    multicast = connection.is_multicast
    media = MediaDescription(
        "audio",
        offered.port if multicast else policy.port,
        offered.proto,
        tuple(str(c.payload_type) for c in answered),
        connections=(connection,) if multicast else (),
        attributes=tuple(attributes),
    )
    rtcp = offered.rtcp
    negotiated = NegotiatedMedia(
        stream=index,
        remote_address=connection.address,
        remote_port=offered.port,
        remote_rtcp_address=rtcp.connection.address if rtcp and rtcp.connection else connection.address,
        remote_rtcp_port=rtcp.port if rtcp else offered.port + 1,
        send_codec=voice[0][0],
        receive_codecs=tuple(answered),
        remote_payload_types={c.payload_type: c for c in answered},
        telephone_event_pt=te.payload_type if te else None,
        ptime=offered.ptime or policy.ptime,
        direction=direction,
        crypto=crypto,
        comfort_noise_pt=noise.payload_type if noise else None,
        receive_comfort_noise_pt=noise.payload_type if noise else None,
    )
    return media, negotiated


def _telephone_event(remote: list[CodecSpec], policy: MediaPolicy, clock_rate: int) -> CodecSpec | None:
    """The offer's telephone-event at the voice codec's clock, else at our configured clock."""
    if policy.dtmf is None:
        return None
    events = [c for c in remote if c.name.casefold() == "telephone-event"]
    for wanted in (clock_rate, policy.dtmf.clock_rate):
        for event in events:
            if event.clock_rate == wanted:
                return event
    return None


def _offer_crypto(
    stream: str, offered: MediaDescription, policy: MediaPolicy, keys: Mapping[str, bytes] | None
) -> CryptoChoice | Rejected | None:
    secure = offered.proto.upper() == "RTP/SAVP"
    if policy.srtp == "off":
        return Rejected(f"{stream}: RTP/SAVP offered but RTP Encryption is off") if secure else None
    for line in offered.crypto:
        key = _checked_key(keys, line.suite)
        if line.suite not in policy.srtp_suites or key is None or line.session_params:
            continue
        remote = line.key_params[0]
        if len(line.key_params) != 1 or len(remote.key_salt) != _KEY_LENGTHS.get(line.suite, 0):
            continue
        return CryptoChoice(line.tag, line.suite, remote.key_salt, key, remote.mki)
    if secure or policy.srtp == "compulsory":
        offered_suites = ", ".join(c.suite for c in offered.crypto) or "no a=crypto line"
        return Rejected(
            f"{stream}: SRTP needs one of {', '.join(policy.srtp_suites)} with a usable inline key; "
            f"the offer has {offered_suites}"
        )
    return None


# --- re-offers -------------------------------------------------------------------------------


def hold_offer(previous: SessionDescription, *, inactive: bool = False) -> SessionDescription:
    """A re-INVITE offer that holds the call (RFC 3264 §8.4, RFC 6337 §5.3).

    From our last description: ``sendrecv`` becomes ``sendonly`` and ``recvonly`` becomes
    ``inactive`` (we stop receiving, keep sending music or silence); with ``inactive`` ("Enable
    Use Inactive Hold") every active stream becomes ``inactive``. The version goes up by one.
    """

    def held(direction: str) -> str:
        send, _ = _flags(direction)
        return "inactive" if inactive else _direction(send, False)

    return _redirect(previous, held)


def resume_offer(previous: SessionDescription, *, direction: str = "sendrecv") -> SessionDescription:
    """A re-INVITE offer that takes the call off hold: every active stream back to ``direction``."""
    return _redirect(previous, lambda _: direction)


def _redirect(previous: SessionDescription, change: Callable[[str], str]) -> SessionDescription:
    media = tuple(
        m if m.port == 0 else m.with_direction(change(previous.direction_of(m))) for m in previous.media
    )
    session_attributes = tuple(a for a in previous.attributes if a[0].lower() not in DIRECTIONS)
    origin = replace(previous.origin, sess_version=previous.origin.sess_version + 1)
    return replace(previous, origin=origin, attributes=session_attributes, media=media)
