"""Session descriptions (RFC 4566 SDP): parse, read, and write them.

Why our own: SDP is small, and the offer/answer code (``offer_answer.py``) needs typed access to
exactly what RFC 3264 reads (connection, m= lines, rtpmap, fmtp, ptime, direction, RFC 3605
rtcp, RFC 4568 crypto) while keeping everything else verbatim, so that a description we parse
can be written back with the same meaning: parse -> ``encode()`` -> parse is a fixed point.

Strict where meaning is at stake, tolerant where peers are sloppy and nothing changes:

- rejected (``SdpError`` with the line number and a sentence): a missing or wrong ``v=0``, ``o=``
  or ``s=`` not in lines 2 and 3, ``t=`` missing before the first ``m=``, a session-level line
  (``t= r= z= u= e= p= v= o= s=``) inside a media section, ``r=`` not following ``t=``, a second
  session ``c=``/``i=``/``k=``..., a type letter we do not know (RFC 4566 §5 says such a
  description must be ignored as a whole), bad ports, payload types, numbers and c= addresses,
  stray CR or NUL inside a line, bytes that are not UTF-8.
- accepted: LF-only line ends, trailing blank lines, an empty ``s=`` (RFC 3264 §10 and RFC 4317
  write one), runs of blanks between fields, IPv4 multicast without a TTL, any order of the
  session lines between ``s=`` and the first ``m=`` and of the lines inside a media section
  (RFC 3264 §9's own example puts ``t=`` before ``c=``; nothing depends on that order), unknown
  and malformed attributes (a=rtpmap:31 LPC in RFC 4475 is valid SIP): the typed helpers return
  ``None`` or skip what they cannot read, the attribute itself is kept.

``encode()`` always writes RFC 4566 order with CRLF line ends.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass, replace
from typing import NamedTuple

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")

Attribute = tuple[str, str | None]
"""``a=name:value`` as ``(name, value)``; a property attribute (``a=sendonly``) has value ``None``."""


class SdpError(ValueError):
    """A session description that does not follow RFC 4566; ``line`` is 1-based when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"SDP line {line}: {reason}" if line is not None else f"SDP: {reason}")
        self.reason = reason
        self.line = line


class RtpMap(NamedTuple):
    """``a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]`` (RFC 4566 §6)."""

    encoding: str
    clock_rate: int
    channels: int = 1

    def __str__(self) -> str:
        suffix = f"/{self.channels}" if self.channels != 1 else ""
        return f"{self.encoding}/{self.clock_rate}{suffix}"


STATIC_PAYLOAD_TYPES: dict[str, RtpMap] = {
    "0": RtpMap("PCMU", 8000),
    "2": RtpMap("G726-32", 8000),  # RFC 1890; RFC 3551 made it dynamic but old peers still send 2
    "3": RtpMap("GSM", 8000),
    "4": RtpMap("G723", 8000),
    "5": RtpMap("DVI4", 8000),
    "6": RtpMap("DVI4", 16000),
    "7": RtpMap("LPC", 8000),
    "8": RtpMap("PCMA", 8000),
    "9": RtpMap("G722", 8000),  # RFC 3551 §4.5.2: 8000 on the wire although it samples at 16 kHz
    "10": RtpMap("L16", 44100, 2),
    "11": RtpMap("L16", 44100),
    "12": RtpMap("QCELP", 8000),
    "13": RtpMap("CN", 8000),
    "14": RtpMap("MPA", 90000),
    "15": RtpMap("G728", 8000),
    "16": RtpMap("DVI4", 11025),
    "17": RtpMap("DVI4", 22050),
    "18": RtpMap("G729", 8000),
    "25": RtpMap("CelB", 90000),
    "26": RtpMap("JPEG", 90000),
    "28": RtpMap("nv", 90000),
    "31": RtpMap("H261", 90000),
    "32": RtpMap("MPV", 90000),
    "33": RtpMap("MP2T", 90000),
    "34": RtpMap("H263", 90000),
}
"""RFC 3551 Table 4/5: what a static payload type means when no a=rtpmap says otherwise."""

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+")
_UINT = re.compile(r"[0-9]+")
_FQDN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?")
_BANDWIDTH = re.compile(r"([!#$%&'*+\-.^_`{|}~0-9A-Za-z]+):([0-9]+)")
_IPV4_LIKE = re.compile(r"[0-9.]+")
_NUMBER = re.compile(r"[0-9]{1,6}(?:\.[0-9]{0,6})?")


def _uint(text: str, what: str, line: int | None, maximum: int | None = None) -> int:
    if not _UINT.fullmatch(text):
        raise SdpError(f"{what} must be a whole number, got {text!r}", line)
    value = int(text)
    if maximum is not None and value > maximum:
        raise SdpError(f"{what} must be at most {maximum}, got {text!r}", line)
    return value


@dataclass(frozen=True)
class Origin:
    """``o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>``."""

    username: str
    sess_id: int
    sess_version: int
    nettype: str
    addrtype: str
    address: str

    def __str__(self) -> str:
        fields = (self.username, self.sess_id, self.sess_version, self.nettype, self.addrtype, self.address)
        return " ".join(str(f) for f in fields)


@dataclass(frozen=True)
class Connection:
    """``c=<nettype> <addrtype> <address>[/<ttl>][/<count>]`` (RFC 4566 §5.7).

    IPv4 multicast carries ``ttl`` (and optionally ``count``); IPv6 multicast only ``count``.
    """

    address: str
    addrtype: str = "IP4"
    nettype: str = "IN"
    ttl: int | None = None
    count: int | None = None

    @property
    def is_multicast(self) -> bool:
        try:
            return ipaddress.ip_address(self.address).is_multicast
        except ValueError:
            return False

    @property
    def is_null(self) -> bool:
        """``0.0.0.0``: RFC 2543 hold, still sent by old peers (RFC 3264 §8.4)."""
        return self.address in ("0.0.0.0", "::")

    def __str__(self) -> str:
        text = f"{self.nettype} {self.addrtype} {self.address}"
        if self.ttl is not None:
            text += f"/{self.ttl}"
        if self.count is not None:
            text += f"/{self.count}"
        return text


@dataclass(frozen=True)
class Bandwidth:
    """``b=<bwtype>:<bandwidth>`` (kbit/s for AS and CT)."""

    type: str
    value: int

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


@dataclass(frozen=True)
class Timing:
    """``t=<start> <stop>`` with its ``r=`` repeat lines kept verbatim."""

    start: int = 0
    stop: int = 0
    repeats: tuple[str, ...] = ()


class Rtcp(NamedTuple):
    """RFC 3605 ``a=rtcp:<port> [<nettype> <addrtype> <address>]``."""

    port: int
    connection: Connection | None = None


@dataclass(frozen=True)
class KeyParam:
    """One RFC 4568 ``inline:<key||salt>[|<lifetime>][|<MKI>:<length>]`` key parameter."""

    key_salt: bytes
    lifetime: int | None = None
    mki: tuple[int, int] | None = None
    """``(value, length in bytes)`` of the master key identifier."""

    def __str__(self) -> str:
        text = "inline:" + base64.b64encode(self.key_salt).decode("ascii")
        if self.lifetime is not None:
            power = self.lifetime.bit_length() - 1
            is_power = self.lifetime > 1 and self.lifetime == 1 << power
            text += f"|2^{power}" if is_power else f"|{self.lifetime}"
        if self.mki is not None:
            text += f"|{self.mki[0]}:{self.mki[1]}"
        return text


@dataclass(frozen=True)
class Crypto:
    """RFC 4568 ``a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]``."""

    tag: int
    suite: str
    key_params: tuple[KeyParam, ...]
    session_params: tuple[str, ...] = ()

    @property
    def key_salt(self) -> bytes:
        """The first (usually only) master key and salt, concatenated."""
        return self.key_params[0].key_salt

    def __str__(self) -> str:
        text = f"{self.tag} {self.suite} " + ";".join(str(k) for k in self.key_params)
        return " ".join((text, *self.session_params))


def _key_param(text: str) -> KeyParam:
    method, sep, info = text.partition(":")
    if not sep or method.lower() != "inline":
        raise SdpError(f"crypto key parameter {text!r} is not 'inline:<key||salt>'")
    key_text, *rest = info.split("|")
    if len(rest) > 2:
        raise SdpError(f"crypto key parameter {text!r} has more than lifetime and MKI after the key")
    try:
        key = base64.b64decode(key_text + "=" * (-len(key_text) % 4), validate=True)
    except binascii.Error as exc:
        raise SdpError(f"crypto key {key_text!r} is not base64") from exc
    if not key:
        raise SdpError(f"crypto key parameter {text!r} has an empty key")
    lifetime: int | None = None
    mki: tuple[int, int] | None = None
    for part in rest:
        if ":" in part:
            value, _, length = part.partition(":")
            mki = (_uint(value, "crypto MKI value", None), _uint(length, "crypto MKI length", None, 128))
        elif part.startswith("2^"):
            lifetime = 1 << _uint(part[2:], "crypto lifetime exponent", None, 64)
        else:
            lifetime = _uint(part, "crypto lifetime", None)
    return KeyParam(key, lifetime, mki)


def parse_crypto(value: str) -> Crypto:
    """Read the value of one ``a=crypto`` attribute; ``SdpError`` says what is wrong."""
    fields = value.split()
    if len(fields) < 3:
        raise SdpError(f"a=crypto:{value} needs '<tag> <suite> <key-params>'")
    tag = _uint(fields[0], "crypto tag", None, 999_999_999)
    if not _TOKEN.fullmatch(fields[1]):
        raise SdpError(f"crypto suite {fields[1]!r} is not a token")
    keys = tuple(_key_param(k) for k in fields[2].split(";"))
    return Crypto(tag, fields[1], keys, tuple(fields[3:]))


def _named(attributes: tuple[Attribute, ...], name: str) -> list[str | None]:
    wanted = name.lower()
    return [value for key, value in attributes if key.lower() == wanted]


def _direction(attributes: tuple[Attribute, ...]) -> str | None:
    found = None
    for key, _ in attributes:
        if key.lower() in DIRECTIONS:
            found = key.lower()
    return found


def _int_attribute(attributes: tuple[Attribute, ...], name: str) -> int | None:
    for value in _named(attributes, name):
        text = (value or "").strip()
        if _NUMBER.fullmatch(text) and round(float(text)) > 0:
            return round(float(text))  # a few peers write ptime:20.0
    return None


@dataclass(frozen=True)
class MediaDescription:
    """One ``m=`` section: ``m=<media> <port>[/<count>] <proto> <fmt> ...`` and its lines."""

    media: str
    port: int
    proto: str
    formats: tuple[str, ...]
    port_count: int | None = None
    information: str | None = None
    connections: tuple[Connection, ...] = ()
    bandwidths: tuple[Bandwidth, ...] = ()
    key: str | None = None
    attributes: tuple[Attribute, ...] = ()

    @property
    def connection(self) -> Connection | None:
        """The media-level ``c=`` (the first, when layered multicast gives several)."""
        return self.connections[0] if self.connections else None

    @property
    def is_rtp(self) -> bool:
        return "RTP/" in self.proto.upper()

    def values(self, name: str) -> list[str | None]:
        """Every value of attribute ``name`` (case-insensitive), in order."""
        return _named(self.attributes, name)

    def value(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None

    def has(self, name: str) -> bool:
        return bool(self.values(name))

    def _per_format(self, name: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for value in self.values(name):
            pt, _, rest = (value or "").strip().partition(" ")
            if pt and pt not in found:
                found[pt] = rest.strip()
        return found

    def rtpmap(self, pt: str) -> RtpMap | None:
        """What payload type ``pt`` means: its a=rtpmap, else the RFC 3551 static meaning.

        A malformed explicit rtpmap (``a=rtpmap:31 LPC``) gives ``None``: the peer said something
        we cannot read, so the static table would be a guess.
        """
        text = self._per_format("rtpmap").get(pt)
        if text is None:
            return STATIC_PAYLOAD_TYPES.get(pt)
        parts = text.split("/")
        if len(parts) not in (2, 3) or not parts[0] or not all(_UINT.fullmatch(p) for p in parts[1:]):
            return None
        channels = int(parts[2]) if len(parts) == 3 else 1
        return RtpMap(parts[0], int(parts[1]), channels)

    def fmtp(self, pt: str) -> str | None:
        """The raw ``a=fmtp:<pt> <params>`` text (``0-16``, ``useinbandfec=1;stereo=0``)."""
        return self._per_format("fmtp").get(pt)

    def fmtp_params(self, pt: str) -> dict[str, str]:
        """``a=fmtp`` as ``key=value`` pairs split at ``;`` (keys lower-cased)."""
        return parse_fmtp(self.fmtp(pt) or "")

    @property
    def ptime(self) -> int | None:
        return _int_attribute(self.attributes, "ptime")

    @property
    def maxptime(self) -> int | None:
        return _int_attribute(self.attributes, "maxptime")

    def direction(self, default: str = "sendrecv") -> str:
        """The last direction attribute here, else ``default`` (pass the session's)."""
        return _direction(self.attributes) or default

    @property
    def rtcp(self) -> Rtcp | None:
        for value in self.values("rtcp"):
            fields = (value or "").split()
            if not fields or not _UINT.fullmatch(fields[0]) or int(fields[0]) > 65535:
                continue
            if len(fields) == 4:
                return Rtcp(int(fields[0]), Connection(fields[3], fields[2], fields[1]))
            if len(fields) == 1:
                return Rtcp(int(fields[0]))
        return None

    @property
    def rtcp_mux(self) -> bool:
        return self.has("rtcp-mux")

    @property
    def crypto(self) -> tuple[Crypto, ...]:
        """The readable ``a=crypto`` lines in offer order; malformed ones are left out."""
        found = []
        for value in self.values("crypto"):
            try:
                found.append(parse_crypto(value or ""))
            except SdpError:
                continue
        return tuple(found)

    def with_direction(self, direction: str) -> MediaDescription:
        """This section with one ``a=<direction>`` where the first direction attribute was (else last)."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        attributes: list[Attribute] = []
        for attribute in self.attributes:
            if attribute[0].lower() not in DIRECTIONS:
                attributes.append(attribute)
            elif (direction, None) not in attributes:
                attributes.append((direction, None))
        if (direction, None) not in attributes:
            attributes.append((direction, None))
        return replace(self, attributes=tuple(attributes))


def parse_fmtp(text: str) -> dict[str, str]:
    """``key=value;key2=value2`` -> dict; a bare item (``0-16``) maps to ``""``."""
    params: dict[str, str] = {}
    for item in text.split(";"):
        key, _, value = item.strip().partition("=")
        if key:
            params[key.strip().lower()] = value.strip()
    return params


@dataclass(frozen=True)
class SessionDescription:
    """A whole description: session-level lines, then the media sections in order."""

    origin: Origin
    session_name: str = "-"
    connection: Connection | None = None
    bandwidths: tuple[Bandwidth, ...] = ()
    timing: tuple[Timing, ...] = (Timing(),)
    attributes: tuple[Attribute, ...] = ()
    media: tuple[MediaDescription, ...] = ()
    version: int = 0
    information: str | None = None
    uri: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    time_zones: str | None = None
    key: str | None = None

    def values(self, name: str) -> list[str | None]:
        """Every value of session-level attribute ``name`` (case-insensitive)."""
        return _named(self.attributes, name)

    def value(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None

    @property
    def direction(self) -> str:
        """The session-level direction, ``sendrecv`` when none is given (RFC 4566 §6)."""
        return _direction(self.attributes) or "sendrecv"

    def direction_of(self, media: MediaDescription) -> str:
        """A media section's direction, falling back to the session level."""
        return media.direction(self.direction)

    def connection_for(self, media: MediaDescription) -> Connection | None:
        """Where a media section's packets go: its own c=, else the session's."""
        return media.connection or self.connection

    def encode(self) -> bytes:
        return str(self).encode("utf-8")

    def __str__(self) -> str:
        lines = [f"v={self.version}", f"o={self.origin}", f"s={self.session_name}"]
        _optional(lines, "i", self.information)
        _optional(lines, "u", self.uri)
        lines += [f"e={e}" for e in self.emails] + [f"p={p}" for p in self.phones]
        _optional(lines, "c", self.connection)
        lines += [f"b={b}" for b in self.bandwidths]
        for timing in self.timing:
            lines.append(f"t={timing.start} {timing.stop}")
            lines += [f"r={r}" for r in timing.repeats]
        _optional(lines, "z", self.time_zones)
        _optional(lines, "k", self.key)
        lines += [_attribute_line(a) for a in self.attributes]
        for m in self.media:
            port = f"{m.port}/{m.port_count}" if m.port_count is not None else str(m.port)
            lines.append(" ".join((f"m={m.media} {port} {m.proto}", *m.formats)))
            _optional(lines, "i", m.information)
            lines += [f"c={c}" for c in m.connections] + [f"b={b}" for b in m.bandwidths]
            _optional(lines, "k", m.key)
            lines += [_attribute_line(a) for a in m.attributes]
        return "\r\n".join(lines) + "\r\n"


def _optional(lines: list[str], kind: str, value: object) -> None:
    if value is not None:
        lines.append(f"{kind}={value}")


def _attribute_line(attribute: Attribute) -> str:
    name, value = attribute
    return f"a={name}" if value is None else f"a={name}:{value}"


# --- parsing ---------------------------------------------------------------------------------

_SESSION_ONCE = {"i": "i= (session information)", "u": "u= (URI)", "c": "c= (connection)",
                 "z": "z= (time zones)", "k": "k= (encryption key)"}  # fmt: skip
_MEDIA_ONCE = {"i": "i= (media title)", "k": "k= (encryption key)"}
_SESSION_ONLY = set("vosuepzrt")
_KNOWN = set("vosiuepcbtrzkam")
_HEAD = (
    ("v", "a description must start with v=0"),
    ("o", "RFC 4566 requires o= (origin) right after v=0"),
    ("s", "RFC 4566 requires s= (session name) right after o="),
)


def _connection(value: str, line: int) -> Connection:
    fields = value.split()
    if len(fields) != 3:
        raise SdpError(f"c= needs '<nettype> <addrtype> <address>', got {value!r}", line)
    nettype, addrtype, address = fields
    if nettype != "IN" or addrtype not in ("IP4", "IP6"):
        return Connection(address, addrtype, nettype)  # another network: kept verbatim
    base, *suffix = address.split("/")
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    try:
        if addrtype == "IP6" and ":" in base:
            ip = ipaddress.IPv6Address(base)
        elif addrtype == "IP4" and _IPV4_LIKE.fullmatch(base):
            ip = ipaddress.IPv4Address(base)
    except ValueError as exc:
        raise SdpError(f"c= address {base!r} is not a valid {addrtype} address", line) from exc
    if ip is None and not (_FQDN.fullmatch(base) and re.search("[A-Za-z]", base)):
        raise SdpError(f"c= address {base!r} is neither an {addrtype} address nor a host name", line)
    if not suffix:
        return Connection(base, addrtype, nettype)
    if ip is None or not ip.is_multicast:
        raise SdpError(f"c= {address!r}: only a multicast address may carry /ttl or /count", line)
    if addrtype == "IP6":
        if len(suffix) != 1:
            raise SdpError(f"c= {address!r}: an IPv6 multicast address takes only /<count>", line)
        return Connection(base, addrtype, nettype, count=_count(suffix[0], line))
    if len(suffix) > 2:
        raise SdpError(f"c= {address!r}: expected <address>/<ttl>[/<count>]", line)
    ttl = _uint(suffix[0], "c= multicast TTL", line, 255)
    count = _count(suffix[1], line) if len(suffix) == 2 else None
    return Connection(base, addrtype, nettype, ttl, count)


def _count(text: str, line: int) -> int:
    count = _uint(text, "c= address count", line)
    if count < 1:
        raise SdpError("c= address count must be at least 1", line)
    return count


def _origin(value: str, line: int) -> Origin:
    fields = value.split()
    if len(fields) != 6:
        raise SdpError(
            "o= needs '<username> <sess-id> <sess-version> <nettype> <addrtype> <address>', "
            f"got {len(fields)} fields",
            line,
        )
    sess_id = _uint(fields[1], "o= session id", line)
    sess_version = _uint(fields[2], "o= session version", line)
    return Origin(fields[0], sess_id, sess_version, fields[3], fields[4], fields[5])


def _media(value: str, line: int) -> MediaDescription:
    fields = value.split()
    if len(fields) < 3:
        raise SdpError(f"m= needs '<media> <port> <proto> <fmt> ...', got {value!r}", line)
    media, port_text, proto, *formats = fields
    if not _TOKEN.fullmatch(media):
        raise SdpError(f"m= media type {media!r} is not a token", line)
    port_part, slash, count_part = port_text.partition("/")
    port = _uint(port_part, "m= port", line, 65535)
    port_count = None
    if slash:
        port_count = _uint(count_part, "m= port count", line)
        if port_count < 1:
            raise SdpError("m= port count must be at least 1", line)
    if not re.fullmatch(r"[!#$%&'*+\-.^_`{|}~0-9A-Za-z/]+", proto):
        raise SdpError(f"m= transport {proto!r} is not a protocol name like RTP/AVP", line)
    if not formats and port != 0:
        raise SdpError("m= lists no media formats (only a rejected stream, port 0, may omit them)", line)
    if "RTP/" in proto.upper():
        for fmt in formats:
            _uint(fmt, f"m= payload type {fmt!r}", line, 127)
    return MediaDescription(media, port, proto, tuple(formats), port_count)


def _attribute(value: str, line: int) -> Attribute:
    name, sep, rest = value.partition(":")
    if not _TOKEN.fullmatch(name):
        raise SdpError(f"a= attribute name {name!r} is not a token", line)
    return (name, rest if sep else None)


def _bandwidth(value: str, line: int) -> Bandwidth:
    match = _BANDWIDTH.fullmatch(value.strip())
    if not match:
        raise SdpError(f"b= needs '<bwtype>:<kbit/s>', got {value!r}", line)
    return Bandwidth(match.group(1), int(match.group(2)))


def _timing(value: str, line: int) -> Timing:
    fields = value.split()
    if len(fields) != 2:
        raise SdpError(f"t= needs '<start> <stop>', got {value!r}", line)
    return Timing(_uint(fields[0], "t= start time", line), _uint(fields[1], "t= stop time", line))


def _lines(text: str) -> list[tuple[int, str, str]]:
    raw = text.split("\n")
    raw = [r[:-1] if r.endswith("\r") else r for r in raw]
    while raw and raw[-1] == "":
        raw.pop()
    if not raw:
        raise SdpError("the description is empty; it must start with v=0", 1)
    out = []
    for number, line in enumerate(raw, 1):
        if "\r" in line or "\x00" in line:
            raise SdpError("stray CR or NUL inside the line", number)
        if len(line) < 2 or line[1] != "=" or not ("a" <= line[0] <= "z"):
            raise SdpError(f"expected '<letter>=<value>' with no blanks around '=', got {line!r}", number)
        if line[0] not in _KNOWN:
            raise SdpError(
                f"unknown line type '{line[0]}=' (RFC 4566 §5: such a description must be ignored)", number
            )
        out.append((number, line[0], line[2:]))
    return out


class _Builder:
    """Collects the fields of one section while the lines are read."""

    def __init__(self) -> None:
        self.fields: dict[str, object] = {}
        self.connections: list[Connection] = []
        self.bandwidths: list[Bandwidth] = []
        self.attributes: list[Attribute] = []


def parse(data: str | bytes) -> SessionDescription:
    """Read a description (a SIP body); ``SdpError`` names the line and what is wrong."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SdpError(f"the description is not UTF-8 (byte {exc.start})") from exc
    else:
        text = data
    lines = _lines(text)
    for index, (kind, rule) in enumerate(_HEAD):
        if index >= len(lines):
            raise SdpError(f"the description ends early: {rule}")
        number, found, _ = lines[index]
        if found != kind:
            raise SdpError(f"got '{found}=' where {rule}", number)
    if lines[0][2] != "0":
        raise SdpError(f"unsupported SDP version {lines[0][2]!r}; only v=0 exists", 1)
    origin = _origin(lines[1][2], lines[1][0])
    session = _Builder()
    timing: list[Timing] = []
    media: list[tuple[MediaDescription, _Builder]] = []
    emails: list[str] = []
    phones: list[str] = []
    previous = "s"
    for number, kind, value in lines[3:]:
        if kind == "m":
            if not timing:
                raise SdpError("m= before any t= line (RFC 4566 requires a time description first)", number)
            media.append((_media(value, number), _Builder()))
        elif media:
            _media_line(media[-1][1], number, kind, value)
        elif kind == "t":
            timing.append(_timing(value, number))
        elif kind == "r":
            if previous not in "tr":
                raise SdpError("r= (repeat times) must directly follow its t= line", number)
            timing[-1] = replace(timing[-1], repeats=(*timing[-1].repeats, value))
        elif kind == "e":
            emails.append(value)
        elif kind == "p":
            phones.append(value)
        elif kind in "vos":
            raise SdpError(f"a second {kind}= line; {kind}= appears once, at the top", number)
        else:
            _session_line(session, number, kind, value)
        previous = kind
    if not timing:
        raise SdpError("no t= line; RFC 4566 requires at least one time description")
    return SessionDescription(
        origin=origin,
        session_name=lines[2][2],
        connection=session.connections[0] if session.connections else None,
        bandwidths=tuple(session.bandwidths),
        timing=tuple(timing),
        attributes=tuple(session.attributes),
        media=tuple(_finish(m, b) for m, b in media),
        information=_text(session, "i"),
        uri=_text(session, "u"),
        emails=tuple(emails),
        phones=tuple(phones),
        time_zones=_text(session, "z"),
        key=_text(session, "k"),
    )


def _text(builder: _Builder, kind: str) -> str | None:
    value = builder.fields.get(kind)
    return value if isinstance(value, str) else None


def _session_line(session: _Builder, number: int, kind: str, value: str) -> None:
    if kind in _SESSION_ONCE:
        if kind in session.fields:
            raise SdpError(f"a second session-level {_SESSION_ONCE[kind]} line", number)
        session.fields[kind] = value
    if kind == "c":
        session.connections.append(_connection(value, number))
    elif kind == "b":
        session.bandwidths.append(_bandwidth(value, number))
    elif kind == "a":
        session.attributes.append(_attribute(value, number))


def _media_line(section: _Builder, number: int, kind: str, value: str) -> None:
    if kind in _SESSION_ONLY:
        raise SdpError(f"{kind}= is a session-level line and cannot follow an m= line", number)
    if kind in _MEDIA_ONCE:
        if kind in section.fields:
            raise SdpError(f"a second {_MEDIA_ONCE[kind]} line in one media section", number)
        section.fields[kind] = value
    elif kind == "c":
        section.connections.append(_connection(value, number))
    elif kind == "b":
        section.bandwidths.append(_bandwidth(value, number))
    elif kind == "a":
        section.attributes.append(_attribute(value, number))


def _finish(m: MediaDescription, section: _Builder) -> MediaDescription:
    return replace(
        m,
        information=_text(section, "i"),
        connections=tuple(section.connections),
        bandwidths=tuple(section.bandwidths),
        key=_text(section, "k"),
        attributes=tuple(section.attributes),
    )
