"""Enumerated choices shared by several pages.

Integer values are the codes Fanvil config files use; member names are what people
type on the command line and see in the API.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Transport(IntEnum):
    UDP = 0
    TCP = 1
    TLS = 2


class DtmfMode(IntEnum):
    INBAND = 0
    RFC2833 = 1
    SIP_INFO = 2
    AUTO = 3


class DtmfInfoMode(IntEnum):
    """How SIP INFO carries ``*`` and ``#``."""

    SEND_STAR_POUND = 0
    SEND_10_11 = 1


class DnsMode(IntEnum):
    A = 0
    SRV = 1
    NAPTR = 2


class KeepAliveType(IntEnum):
    OFF = 0
    UDP = 1
    SIP_OPTIONS = 2


class RtpEncryption(IntEnum):
    DISABLED = 0
    OPTIONAL = 1
    COMPULSORY = 2


class SrtpAuthTag(IntEnum):
    AES_CM_128_HMAC_SHA1_80 = 0
    AES_CM_128_HMAC_SHA1_32 = 1


class TlsVersion(IntEnum):
    TLS_1_0 = 0
    TLS_1_1 = 1
    TLS_1_2 = 2
    TLS_1_3 = 3


class Codec(StrEnum):
    """Audio codecs by the names Fanvil files use (``SIP1 VoiceCodecMap``)."""

    PCMU = "PCMU"
    PCMA = "PCMA"
    G729 = "G729"
    ILBC = "iLBC"
    OPUS = "opus"
    G722 = "G722"
    G726_16 = "G726-16"
    G726_24 = "G726-24"
    G726_32 = "G726-32"
    G726_40 = "G726-40"
    G723 = "G723"
    MPA = "MPA"


DEFAULT_CODECS = [Codec.PCMU, Codec.PCMA, Codec.G729, Codec.ILBC, Codec.OPUS, Codec.G722]
"""Enabled codecs in the manual's Picture 25, in its order."""


class OnOff(IntEnum):
    OFF = 0
    ON = 1
