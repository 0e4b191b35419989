"""RTP packets (RFC 3550 §5.1) and sequence-number bookkeeping (Appendix A.1, A.3, A.8), sans-IO.

Why a frozen dataclass with ``parse``/``__bytes__``: a packet is a value; the session edge parses what
the socket gives it, hands values to the jitter buffer and DTMF receiver, and serialises what it sends.
Anything a peer can send that is not RTP raises ``RtpError`` and nothing else, so the edge can drop it.
Why ``is_rtcp`` lives here: with RTP/RTCP multiplexing (RFC 5761 §4) the demultiplexer needs only the
second octet, before either parser runs.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

RTP_VERSION = 2
HEADER_SIZE = 12
SEQ_MOD = 1 << 16
TS_MOD = 1 << 32

_HEADER = struct.Struct("!BBHII")


class RtpError(ValueError):
    """Bytes that are not a well-formed RTP packet; the text says what is wrong."""


@dataclass(frozen=True, slots=True)
class RtpExtension:
    """The one header extension RFC 3550 §5.3.1 allows: a 16-bit profile word and 32-bit words."""

    profile: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.profile <= 0xFFFF:
            raise ValueError(f"RTP extension profile must be 0-65535, got {self.profile}")
        if len(self.data) % 4 or len(self.data) > 4 * 0xFFFF:
            raise ValueError(f"RTP extension data must be whole 32-bit words (at most 65535), "
                             f"got {len(self.data)} bytes")


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet (version 2). ``padding`` is the number of padding octets (0: no P bit).

    Serialised padding is zeros followed by the count octet, as RFC 3550 §5.1 describes it.
    """

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: RtpExtension | None = None
    padding: int = 0

    def __post_init__(self) -> None:
        # one combined test for the packets that are fine (50 a second each way); the sentences below
        # say what is wrong with one that is not
        if (0 <= self.payload_type <= 127 and 0 <= self.sequence < SEQ_MOD and 0 <= self.timestamp < TS_MOD
                and 0 <= self.ssrc < TS_MOD and 0 <= self.padding <= 255 and not self.csrcs):
            return
        if not 0 <= self.payload_type <= 127:
            raise ValueError(f"RTP payload type must be 0-127, got {self.payload_type}")
        if not 0 <= self.sequence < SEQ_MOD:
            raise ValueError(f"RTP sequence number must be 0-65535, got {self.sequence}")
        if not 0 <= self.timestamp < TS_MOD:
            raise ValueError(f"RTP timestamp must be a 32-bit unsigned number, got {self.timestamp}")
        if not 0 <= self.ssrc < TS_MOD:
            raise ValueError(f"RTP SSRC must be a 32-bit unsigned number, got {self.ssrc}")
        if len(self.csrcs) > 15 or any(not 0 <= c < TS_MOD for c in self.csrcs):
            raise ValueError(f"RTP allows at most 15 CSRCs of 32 bits, got {self.csrcs}")
        if not 0 <= self.padding <= 255:
            raise ValueError(f"RTP padding must be 0-255 octets, got {self.padding}")

    @property
    def version(self) -> int:
        return RTP_VERSION

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse one datagram; raises ``RtpError`` naming the first thing that is wrong."""
        size = len(data)
        if size < HEADER_SIZE:
            raise RtpError(f"RTP packet too short: {size} bytes, the fixed header alone is 12")
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if first == 0x80:  # version 2 and nothing but the fixed header: almost every packet
            if cls is RtpPacket:
                payload = bytes(data[HEADER_SIZE:])
                return _fixed_header_packet(second & 0x7F, sequence, timestamp, ssrc, payload, second > 0x7F)
            return cls(second & 0x7F, sequence, timestamp, ssrc, bytes(data[HEADER_SIZE:]), second > 0x7F)
        version = first >> 6
        if version != RTP_VERSION:
            raise RtpError(f"RTP version must be 2, got {version}")
        end = size
        padding = 0
        if first & 0x20:
            padding = data[-1]
            if padding == 0 or padding > size - HEADER_SIZE:
                raise RtpError(f"RTP padding length {padding} is invalid for a {size}-byte packet")
            end -= padding
        offset = HEADER_SIZE
        csrc_count = first & 0x0F
        if csrc_count:
            if offset + 4 * csrc_count > end:
                raise RtpError(f"RTP CSRC count {csrc_count} runs past the end of the packet")
            csrcs = struct.unpack_from(f"!{csrc_count}I", data, offset)
            offset += 4 * csrc_count
        else:
            csrcs = ()
        extension = None
        if first & 0x10:
            if offset + 4 > end:
                raise RtpError("RTP extension header runs past the end of the packet")
            profile, words = struct.unpack_from("!HH", data, offset)
            offset += 4
            if offset + 4 * words > end:
                raise RtpError(f"RTP extension length ({words} words) runs past the end of the packet")
            extension = RtpExtension(profile, bytes(data[offset:offset + 4 * words]))
            offset += 4 * words
        if offset > end:
            raise RtpError("RTP padding overlaps the header")
        return cls(second & 0x7F, sequence, timestamp, ssrc, bytes(data[offset:end]), bool(second & 0x80),
                   csrcs, extension, padding)

    def __bytes__(self) -> bytes:
        first = (RTP_VERSION << 6) | (0x20 if self.padding else 0) | (0x10 if self.extension else 0)
        first |= len(self.csrcs)
        parts = [_HEADER.pack(first, (0x80 if self.marker else 0) | self.payload_type, self.sequence,
                              self.timestamp, self.ssrc)]
        if self.csrcs:
            parts.append(struct.pack(f"!{len(self.csrcs)}I", *self.csrcs))
        if self.extension is not None:
            parts.append(struct.pack("!HH", self.extension.profile, len(self.extension.data) // 4))
            parts.append(self.extension.data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)


_new = object.__new__
_SLOTS = ("payload_type", "sequence", "timestamp", "ssrc", "payload", "marker", "csrcs", "extension",
          "padding")  # fmt: skip
_SET_PT, _SET_SEQ, _SET_TS, _SET_SSRC, _SET_PAYLOAD, _SET_MARKER, _SET_CSRCS, _SET_EXT, _SET_PAD = (
    RtpPacket.__dict__[name].__set__ for name in _SLOTS
)


def _fixed_header_packet(payload_type: int, sequence: int, timestamp: int, ssrc: int, payload: bytes,
                         marker: bool) -> RtpPacket:
    """``RtpPacket(...)`` of a parsed fixed header, built by filling its slots directly.

    Why: a stream parses 50 packets a second, and the generated frozen ``__init__`` (one
    ``object.__setattr__`` per field, then ``__post_init__``'s range checks) costs twice as much as
    the slots themselves; values unpacked from a 12-byte header are in range by construction.
    """
    packet: RtpPacket = _new(RtpPacket)
    _SET_PT(packet, payload_type)
    _SET_SEQ(packet, sequence)
    _SET_TS(packet, timestamp)
    _SET_SSRC(packet, ssrc)
    _SET_PAYLOAD(packet, payload)
    _SET_MARKER(packet, marker)
    _SET_CSRCS(packet, ())
    _SET_EXT(packet, None)
    _SET_PAD(packet, 0)
    return packet


def rtp_header(payload_type: int, sequence: int, timestamp: int, ssrc: int, marker: bool = False) -> bytes:
    """The 12-byte fixed header alone (no CSRCs, extension or padding), for the send path.

    ``rtp_header(...) + payload == bytes(RtpPacket(...))`` for such a packet; it skips building and
    validating a packet object 50 times a second, so the caller must pass values in range.
    """
    return _HEADER.pack(0x80, (0x80 if marker else 0) | payload_type, sequence, timestamp, ssrc)


def unused_payload_type(used: Iterable[int]) -> int:
    """A dynamic payload type (96-127, from the top) that is not in ``used``: RFC 6263 §4.6 keep-alives."""
    taken = set(used)
    for payload_type in range(127, 95, -1):
        if payload_type not in taken:
            return payload_type
    raise ValueError("every dynamic payload type 96-127 is in use; there is none left for keep-alives")


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 §4: on a muxed port, packet types 192-223 in the second octet are RTCP."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def seq_diff(a: int, b: int) -> int:
    """Signed distance ``a - b`` between 16-bit sequence numbers, in -32768..32767."""
    return (a - b + 0x8000) % SEQ_MOD - 0x8000


def seq_newer(a: int, b: int) -> bool:
    """True when sequence number ``a`` comes after ``b``, across the 16-bit wrap."""
    return seq_diff(a, b) > 0


def ts_diff(a: int, b: int) -> int:
    """Signed distance ``a - b`` between 32-bit RTP timestamps."""
    return (a - b + 0x80000000) % TS_MOD - 0x80000000


MAX_DROPOUT = 3000
MAX_MISORDER = 100
MIN_SEQUENTIAL = 2


class SequenceTracker:
    """Reception statistics of one source: RFC 3550 A.1 validity, A.3 loss, A.8 jitter.

    Why probation: a source is valid only after ``min_sequential`` packets in sequence, so a stray packet
    (or the tail of an old stream) is not taken for a new source; a jump of more than MAX_DROPOUT is
    accepted only when the next packet confirms it (the sender restarted). ``update`` takes the arrival
    time in RTP timestamp units, so the jitter comes out in the units RTCP reports it in.
    """

    def __init__(self, min_sequential: int = MIN_SEQUENTIAL) -> None:
        if min_sequential < 1:
            raise ValueError(f"min_sequential must be at least 1 (the first packet), got {min_sequential}")
        self.min_sequential = min_sequential
        self.probation = min_sequential
        self.max_seq = -1
        self.cycles = 0
        self.base_seq = 0
        self.bad_seq = SEQ_MOD + 1
        self.received = 0
        self._received_prior = 0
        self._expected_prior = 0
        self._transit: float | None = None
        self._jitter = 0.0

    def _init_seq(self, seq: int) -> None:
        self.base_seq = seq
        self.max_seq = seq
        self.bad_seq = SEQ_MOD + 1
        self.cycles = 0
        self.received = 0
        self._received_prior = 0
        self._expected_prior = 0

    def update(self, seq: int, timestamp: int | None = None, arrival: float | None = None) -> bool:
        """Account one packet; True when it counts (the source is valid and the packet is not stray).

        ``arrival`` is the local arrival time converted to RTP timestamp units; with ``timestamp`` it
        feeds the interarrival jitter (A.8).
        """
        if self.max_seq < 0:
            self._init_seq(seq)
            self.max_seq = (seq - 1) % SEQ_MOD
            self.probation = self.min_sequential
        valid = self._update_seq(seq)
        if valid and timestamp is not None and arrival is not None:
            transit = arrival - timestamp
            if self._transit is not None:
                d = abs((transit - self._transit + TS_MOD / 2) % TS_MOD - TS_MOD / 2)  # across the wrap
                self._jitter += (d - self._jitter) / 16.0
            self._transit = transit
        return valid

    def _update_seq(self, seq: int) -> bool:
        udelta = (seq - self.max_seq) % SEQ_MOD
        if self.probation:
            if seq == (self.max_seq + 1) % SEQ_MOD:
                self.probation -= 1
                self.max_seq = seq
                if self.probation == 0:
                    self._init_seq(seq)
                    self.received += 1
                    return True
            else:
                self.probation = self.min_sequential - 1
                self.max_seq = seq
            return False
        if udelta < MAX_DROPOUT:
            if seq < self.max_seq:
                self.cycles += SEQ_MOD
            self.max_seq = seq
        elif udelta <= SEQ_MOD - MAX_MISORDER:
            if seq == self.bad_seq:
                self._init_seq(seq)
            else:
                self.bad_seq = (seq + 1) % SEQ_MOD
                return False
        self.received += 1
        return True

    @property
    def valid(self) -> bool:
        return self.max_seq >= 0 and self.probation == 0

    @property
    def extended_max(self) -> int:
        """Extended highest sequence number received (cycles + max_seq)."""
        return self.cycles + self.max_seq

    @property
    def expected(self) -> int:
        return self.extended_max - self.base_seq + 1 if self.valid else 0

    @property
    def lost(self) -> int:
        """Cumulative packets lost; negative when duplicates outnumber losses (A.3)."""
        return self.expected - self.received

    @property
    def jitter(self) -> int:
        """Interarrival jitter in timestamp units, truncated as RTCP carries it."""
        return int(self._jitter)

    def take_fraction_lost(self) -> int:
        """Fraction lost since the previous call, in 1/256 (A.3), and start a new interval."""
        expected = self.expected
        expected_interval = expected - self._expected_prior
        self._expected_prior = expected
        received_interval = self.received - self._received_prior
        self._received_prior = self.received
        lost_interval = expected_interval - received_interval
        if expected_interval <= 0 or lost_interval <= 0:
            return 0
        return min(255, (lost_interval << 8) // expected_interval)
