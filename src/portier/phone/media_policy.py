"""From the Media and line settings to what SDP may offer (manual 9.16, Table 18; 9.12 codecs).

Only codecs that can both encode and decode on this machine are ever offered (``codecs.available``);
the rest of the line's enabled list is skipped, and ``unavailable()`` says why for the Media page.
Payload types: the RFC 3551 static ones, the Media page's for opus and DTMF, fixed dynamic ones else.
"Enable VAD" offers and accepts comfort noise (RFC 3389), which the stream then sends in silences.
"""

from __future__ import annotations

from portier.media.codecs import available, codec_info
from portier.settings.intercom_media import G726Packing, Media, OpusSampleRate
from portier.settings.sip_line import SipLine
from portier.sip.offer_answer import CodecSpec, MediaPolicy

DYNAMIC_PAYLOAD_TYPES = {"G726-16": 112, "G726-24": 113, "G726-32": 114, "G726-40": 115, "iLBC": 97}


def codec_options(media: Media) -> dict[str, dict[str, object]]:
    """Encoder/decoder options the Media page sets (keyed by lower-case codec name)."""
    rate = 16000 if media.opus_sample_rate == OpusSampleRate.WB_16K else 8000
    packing = "aal2" if media.g726_packing == G726Packing.AAL2 else "rfc3551"
    options: dict[str, dict[str, object]] = {"opus": {"sample_rate": rate}}
    for bits in (16, 24, 32, 40):
        options[f"g726-{bits}"] = {"packing": packing}
    return options


def codec_specs(names: list[str], media: Media) -> tuple[CodecSpec, ...]:
    here = {name.lower(): info for name, info in available().items()}
    options = codec_options(media)
    specs: list[CodecSpec] = []
    for name in names:
        info = here.get(name.lower())
        if info is None:
            continue
        info = codec_info(info.name, **options.get(info.name.lower(), {}))
        if info.name.lower() == "opus":
            payload_type = media.opus_payload_type
        elif info.static_payload_type is not None:
            payload_type = info.static_payload_type
        else:
            payload_type = DYNAMIC_PAYLOAD_TYPES.get(info.name, 118 + len(specs))
        rtpmap = info.rtpmap.split("/")
        channels = int(rtpmap[2]) if len(rtpmap) > 2 else 1
        specs.append(
            CodecSpec(
                name=info.name,
                clock_rate=info.clock_rate,
                channels=channels,
                payload_type=payload_type,
                fmtp=info.fmtp,
            )
        )
    return tuple(specs)


def media_policy(
    line: SipLine | None, media: Media, *, address: str, port: int, codecs: list[str] | None = None
) -> MediaPolicy:
    """The policy of a call on ``line`` (None: a direct IP call, which uses the Media page's codecs)."""
    names = codecs or [str(c) for c in (line.codecs if line is not None else media.codecs.enabled)]
    dtmf = CodecSpec(
        name="telephone-event", clock_rate=8000, payload_type=media.dtmf_payload_type, fmtp="0-16"
    )
    srtp = {0: "off", 1: "optional", 2: "compulsory"}[int(line.rtp_encryption)] if line is not None else "off"
    return MediaPolicy(
        address=address,
        port=port,
        codecs=codec_specs(names, media),
        dtmf=dtmf,
        ptime=line.ptime if line is not None else 20,
        single_codec=line.single_codec if line is not None else False,
        srtp=srtp,
        comfort_noise=media.vad,
    )
