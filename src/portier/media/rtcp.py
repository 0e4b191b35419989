"""RTCP packets (RFC 3550 §6): SR, RR, SDES, BYE, APP and compound packets, sans-IO.

Why every type keeps what it does not interpret (profile extensions of SR/RR, unknown packet types
such as RFC 4585 feedback or RFC 3611 XR): a compound packet from a peer parses and serialises back
unchanged, and the session can ignore what it does not use. Why ``make_report`` takes both ``now``
(any monotonic clock, seconds) and ``wallclock`` (Unix time): DLSR is an interval on our clock, the SR
timestamp is absolute NTP time; sans-IO code reads neither clock itself.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from .rtp import RTP_VERSION, SequenceTracker

SR = 200
RR = 201
SDES = 202
BYE = 203
APP = 204

CNAME = 1
NAME = 2
EMAIL = 3
PHONE = 4
LOC = 5
TOOL = 6
NOTE = 7
PRIV = 8

NTP_UNIX_OFFSET = 2_208_988_800
"""Seconds from the NTP epoch (1900) to the Unix epoch (1970)."""

_REPORT_BLOCK = struct.Struct("!IIIIII")


class RtcpError(ValueError):
    """Bytes that are not well-formed RTCP; the text says what is wrong."""


def ntp_from_unix(seconds: float) -> int:
    """64-bit NTP timestamp (32.32 fixed point) for a Unix time."""
    return round((seconds + NTP_UNIX_OFFSET) * (1 << 32)) & 0xFFFF_FFFF_FFFF_FFFF


def unix_from_ntp(ntp: int) -> float:
    """Unix time of a 64-bit NTP timestamp."""
    return ntp / (1 << 32) - NTP_UNIX_OFFSET


def ntp_middle(ntp: int) -> int:
    """The middle 32 bits of an NTP timestamp: the LSR field of a report block (§6.4.1)."""
    return (ntp >> 16) & 0xFFFF_FFFF


def round_trip_time(arrival_ntp: int, lsr: int, dlsr: int) -> float:
    """Round trip in seconds from a report block received at ``arrival_ntp`` (§6.4.1, Figure 2)."""
    return ((ntp_middle(arrival_ntp) - lsr - dlsr) & 0xFFFF_FFFF) / 65536.0


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """Reception report about one source (§6.4.1). ``cumulative_lost`` is signed 24-bit."""

    ssrc: int
    fraction_lost: int = 0
    cumulative_lost: int = 0
    highest_sequence: int = 0
    jitter: int = 0
    lsr: int = 0
    dlsr: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.fraction_lost <= 255:
            raise ValueError(f"fraction lost must be 0-255 (1/256 units), got {self.fraction_lost}")
        if not -0x800000 <= self.cumulative_lost <= 0x7FFFFF:
            raise ValueError(f"cumulative lost must fit 24 signed bits, got {self.cumulative_lost}")

    @classmethod
    def parse(cls, data: bytes, offset: int) -> ReportBlock:
        ssrc, lost_word, highest, jitter, lsr, dlsr = _REPORT_BLOCK.unpack_from(data, offset)
        cumulative = lost_word & 0xFFFFFF
        if cumulative & 0x800000:
            cumulative -= 0x1000000
        return cls(ssrc, lost_word >> 24, cumulative, highest, jitter, lsr, dlsr)

    def __bytes__(self) -> bytes:
        lost_word = (self.fraction_lost << 24) | (self.cumulative_lost & 0xFFFFFF)
        return _REPORT_BLOCK.pack(self.ssrc, lost_word, self.highest_sequence, self.jitter, self.lsr,
                                  self.dlsr)


def _header(count: int, packet_type: int, body: bytes) -> bytes:
    if len(body) % 4:
        raise ValueError(f"RTCP packet body must be whole 32-bit words, got {len(body)} bytes")
    return struct.pack("!BBH", (RTP_VERSION << 6) | count, packet_type, len(body) // 4) + body


def _blocks(data: bytes, offset: int, count: int, end: int, what: str) -> tuple[ReportBlock, ...]:
    if offset + 24 * count > end:
        raise RtcpError(f"RTCP {what} announces {count} report blocks but has room for "
                        f"{max(0, end - offset) // 24}")
    return tuple(ReportBlock.parse(data, offset + 24 * i) for i in range(count))


@dataclass(frozen=True, slots=True)
class SenderReport:
    ssrc: int
    ntp_timestamp: int
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""

    def __bytes__(self) -> bytes:
        body = struct.pack("!IQIII", self.ssrc, self.ntp_timestamp, self.rtp_timestamp,
                           self.packet_count & 0xFFFFFFFF, self.octet_count & 0xFFFFFFFF)
        body += b"".join(bytes(b) for b in self.reports) + self.extension
        return _header(len(self.reports), SR, body)


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    ssrc: int
    reports: tuple[ReportBlock, ...] = ()
    extension: bytes = b""

    def __bytes__(self) -> bytes:
        body = struct.pack("!I", self.ssrc) + b"".join(bytes(b) for b in self.reports) + self.extension
        return _header(len(self.reports), RR, body)


@dataclass(frozen=True, slots=True)
class SdesChunk:
    """One source's items: (type, value) pairs such as ``(CNAME, b"door@192.0.2.1")``."""

    ssrc: int
    items: tuple[tuple[int, bytes], ...] = ()

    def __bytes__(self) -> bytes:
        out = bytearray(struct.pack("!I", self.ssrc))
        for kind, value in self.items:
            if not 1 <= kind <= 255 or len(value) > 255:
                raise ValueError(f"SDES item type must be 1-255 and its value at most 255 bytes, "
                                 f"got type {kind} with {len(value)} bytes")
            out += bytes((kind, len(value))) + value
        out += bytes(4 - len(out) % 4)  # the null item ending the list, then padding to a word
        return bytes(out)

    def get(self, kind: int) -> bytes | None:
        return next((value for k, value in self.items if k == kind), None)


@dataclass(frozen=True, slots=True)
class SourceDescription:
    chunks: tuple[SdesChunk, ...] = ()

    def __bytes__(self) -> bytes:
        return _header(len(self.chunks), SDES, b"".join(bytes(c) for c in self.chunks))


@dataclass(frozen=True, slots=True)
class Bye:
    ssrcs: tuple[int, ...] = ()
    reason: bytes = b""

    def __bytes__(self) -> bytes:
        body = b"".join(struct.pack("!I", s) for s in self.ssrcs)
        if self.reason:
            text = bytes((len(self.reason),)) + self.reason
            body += text + bytes(-len(text) % 4)
        return _header(len(self.ssrcs), BYE, body)


@dataclass(frozen=True, slots=True)
class App:
    subtype: int
    ssrc: int
    name: bytes
    data: bytes = b""

    def __bytes__(self) -> bytes:
        if len(self.name) != 4:
            raise ValueError(f"APP name must be 4 ASCII characters, got {self.name!r}")
        return _header(self.subtype, APP, struct.pack("!I", self.ssrc) + self.name + self.data)


@dataclass(frozen=True, slots=True)
class UnknownRtcp:
    """A packet type this module does not interpret, kept whole (count field and body)."""

    packet_type: int
    count: int
    body: bytes = b""

    def __bytes__(self) -> bytes:
        return _header(self.count, self.packet_type, self.body)


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Bye | App | UnknownRtcp


def _parse_sdes(data: bytes, offset: int, count: int, end: int) -> SourceDescription:
    chunks = []
    for _ in range(count):
        if offset + 4 > end:
            raise RtcpError("RTCP SDES chunk runs past the end of the packet")
        (ssrc,) = struct.unpack_from("!I", data, offset)
        offset += 4
        items = []
        while True:
            if offset >= end:
                raise RtcpError("RTCP SDES item list has no terminating null octet")
            kind = data[offset]
            if kind == 0:
                offset += 4 - (offset % 4) if offset % 4 else 4
                break
            if offset + 2 > end or offset + 2 + data[offset + 1] > end:
                raise RtcpError(f"RTCP SDES item of type {kind} runs past the end of the packet")
            length = data[offset + 1]
            items.append((kind, bytes(data[offset + 2:offset + 2 + length])))
            offset += 2 + length
        chunks.append(SdesChunk(ssrc, tuple(items)))
    return SourceDescription(tuple(chunks))


def _words(data: bytes, start: int, end: int, what: str) -> bytes:
    if (end - start) % 4:
        raise RtcpError(f"RTCP {what} is {end - start} bytes, not whole 32-bit words")
    return bytes(data[start:end])


def _parse_one(data: bytes, offset: int, count: int, packet_type: int, end: int) -> RtcpPacket:
    if packet_type == SR:
        if offset + 24 > end:
            raise RtcpError("RTCP SR too short for its sender info")
        ssrc, ntp, rtp_ts, packets, octets = struct.unpack_from("!IQIII", data, offset)
        blocks = _blocks(data, offset + 24, count, end, "SR")
        return SenderReport(ssrc, ntp, rtp_ts, packets, octets, blocks,
                            _words(data, offset + 24 + 24 * count, end, "SR extension"))
    if packet_type == RR:
        if offset + 4 > end:
            raise RtcpError("RTCP RR too short for its SSRC")
        (ssrc,) = struct.unpack_from("!I", data, offset)
        blocks = _blocks(data, offset + 4, count, end, "RR")
        return ReceiverReport(ssrc, blocks, _words(data, offset + 4 + 24 * count, end, "RR extension"))
    if packet_type == SDES:
        return _parse_sdes(data, offset, count, end)
    if packet_type == BYE:
        if offset + 4 * count > end:
            raise RtcpError(f"RTCP BYE announces {count} SSRCs but is shorter")
        ssrcs = struct.unpack_from(f"!{count}I", data, offset)
        reason = b""
        rest = offset + 4 * count
        if rest < end:
            length = data[rest]
            if rest + 1 + length > end:
                raise RtcpError("RTCP BYE reason runs past the end of the packet")
            reason = bytes(data[rest + 1:rest + 1 + length])
        return Bye(ssrcs, reason)
    if packet_type == APP:
        if offset + 8 > end:
            raise RtcpError("RTCP APP too short for its SSRC and name")
        (ssrc,) = struct.unpack_from("!I", data, offset)
        return App(count, ssrc, bytes(data[offset + 4:offset + 8]), _words(data, offset + 8, end, "APP data"))
    return UnknownRtcp(packet_type, count, _words(data, offset, end, f"packet of type {packet_type}"))


def parse_compound(data: bytes) -> list[RtcpPacket]:
    """Parse a compound RTCP packet (one or more packets back to back).

    Padding is removed; serialising never pads. Raises ``RtcpError`` for anything malformed.
    """
    packets: list[RtcpPacket] = []
    offset = 0
    size = len(data)
    if size == 0:
        raise RtcpError("RTCP packet is empty")
    while offset < size:
        if offset + 4 > size:
            raise RtcpError(f"RTCP header truncated at byte {offset}")
        first, packet_type, words = struct.unpack_from("!BBH", data, offset)
        if first >> 6 != RTP_VERSION:
            raise RtcpError(f"RTCP version must be 2, got {first >> 6} at byte {offset}")
        end = offset + 4 + 4 * words
        if end > size:
            raise RtcpError(f"RTCP packet at byte {offset} claims {4 + 4 * words} bytes, only "
                            f"{size - offset} remain")
        body_end = end
        if first & 0x20:
            padding = data[end - 1]
            if padding == 0 or padding > 4 * words:
                raise RtcpError(f"RTCP padding length {padding} is invalid")
            body_end -= padding
        packets.append(_parse_one(data, offset + 4, first & 0x1F, packet_type, body_end))
        offset = end
    return packets


def serialize_compound(packets: Sequence[RtcpPacket]) -> bytes:
    return b"".join(bytes(p) for p in packets)


@dataclass
class RemoteSource:
    """What we know of one sender we receive from: its sequence statistics and its last SR."""

    ssrc: int
    tracker: SequenceTracker = field(default_factory=SequenceTracker)
    last_sr_ntp: int | None = None
    last_sr_arrival: float = 0.0

    def note_sender_report(self, report: SenderReport, now: float) -> None:
        self.last_sr_ntp = report.ntp_timestamp
        self.last_sr_arrival = now


def report_block(source: RemoteSource, now: float) -> ReportBlock:
    """A report block for ``source`` at ``now``; starts a new fraction-lost interval."""
    tracker = source.tracker
    lost = max(-0x800000, min(0x7FFFFF, tracker.lost))
    lsr = dlsr = 0
    if source.last_sr_ntp is not None:
        lsr = ntp_middle(source.last_sr_ntp)
        dlsr = min(0xFFFFFFFF, max(0, round((now - source.last_sr_arrival) * 65536)))
    return ReportBlock(source.ssrc, tracker.take_fraction_lost(), lost, tracker.extended_max & 0xFFFFFFFF,
                       tracker.jitter & 0xFFFFFFFF, lsr, dlsr)


@dataclass(frozen=True, slots=True)
class SenderStats:
    """What we sent since the session began, for the SR sender info (§6.4.1)."""

    rtp_timestamp: int
    packet_count: int
    octet_count: int


def make_report(
    ssrc: int,
    cname: str,
    now: float,
    wallclock: float,
    *,
    sent: SenderStats | None = None,
    sources: Sequence[RemoteSource] = (),
) -> list[RtcpPacket]:
    """A compound report: SR when we sent media (else RR), its blocks, then SDES with our CNAME.

    At most 31 sources fit one SR/RR (§6.4); the rest wait for the next interval.
    """
    blocks = tuple(report_block(source, now) for source in sources[:31] if source.tracker.valid)
    first: RtcpPacket
    if sent is not None:
        first = SenderReport(ssrc, ntp_from_unix(wallclock), sent.rtp_timestamp, sent.packet_count,
                             sent.octet_count, blocks)
    else:
        first = ReceiverReport(ssrc, blocks)
    return [first, SourceDescription((SdesChunk(ssrc, ((CNAME, cname.encode()),)),))]


def make_bye(ssrc: int, reason: str = "") -> list[RtcpPacket]:
    """A compound BYE (§6.6): an empty RR first, as every compound packet must start with a report."""
    return [ReceiverReport(ssrc), Bye((ssrc,), reason.encode())]
