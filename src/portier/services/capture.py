"""Network Packets Capture (manual 10.4): a pcap of the device's own SIP (and RTP) traffic.

Why not a packet socket: that needs root (CAP_NET_RAW) and sees the whole host. portier's own
transports show every message they send and receive to a tap instead (``sip/transport.py``
``add_packet_tap``; RTP and RTCP streams through ``media/session.py``'s ``add_media_tap``),
and this service writes them as a classic libpcap file (LINKTYPE_RAW: each record is an IP packet)
with IPv4 or IPv6 and UDP or TCP headers made up around the payload, so tshark and Wireshark
decode SIP, SDP, STUN and RTP as if sniffed from the wire:

- UDP datagrams are written as they were sent or received.
- TCP and TLS messages are written as TCP segments, one message each, with the real ports and
  sequence numbers counted per direction; TLS flows appear *decrypted* (the tap sits above TLS).
  Wireshark may show a TLS port (5061) as TLS: "Decode As... SIP" reads it.
- Nothing else of the host is in the file: no handshakes, no ICMP, no other programs.

The file is bounded (``MAX_BYTES``): past it the capture stops by itself and says so. Only the
latest capture is kept, in the data directory (``captures/capture.pcap``).
"""

from __future__ import annotations

import ipaddress
import logging
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from portier.media.session import add_media_tap
from portier.settings.declare import Leaf
from portier.sip.transport import Endpoint, add_packet_tap

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

MAX_BYTES = 32 * 1024 * 1024
LINKTYPE_RAW = 101
SNAPLEN = 65535
MAX_FLOWS = 1024

_GLOBAL_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, LINKTYPE_RAW)
_UDP, _TCP = 17, 6


def _checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(f"!{len(header) // 2}H", header))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return ipaddress.IPv4Address(0)  # not an address (should not happen): keep the payload anyway
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def ip_packet(protocol: int, source: Endpoint, destination: Endpoint, segment: bytes, ident: int) -> bytes:
    """``segment`` (a UDP or TCP header and its payload) inside an IPv4 or IPv6 header."""
    src, dst = _address(source.host), _address(destination.host)
    if src.version == 4 and dst.version == 4:
        header = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), ident & 0xFFFF, 0x4000, 64, protocol, 0,
            src.packed, dst.packed,
        )  # fmt: skip
        return header[:10] + struct.pack("!H", _checksum(header)) + header[12:] + segment
    src6 = src if src.version == 6 else ipaddress.IPv6Address(f"::ffff:{src}")
    dst6 = dst if dst.version == 6 else ipaddress.IPv6Address(f"::ffff:{dst}")
    header = struct.pack("!IHBB16s16s", 6 << 28, len(segment), protocol, 64, src6.packed, dst6.packed)
    return header + segment


class PcapWriter:
    """Records of synthesized IP packets in a libpcap file; TCP sequence numbers per direction."""

    def __init__(self, out: BinaryIO, limit: int = MAX_BYTES) -> None:
        self.out = out
        self.limit = limit
        self.size = len(_GLOBAL_HEADER)
        self.packets = 0
        self.full = False
        self._ident = 0
        self._next_seq: OrderedDict[tuple[Endpoint, Endpoint], int] = OrderedDict()
        out.write(_GLOBAL_HEADER)

    def write(self, data: bytes, source: Endpoint, destination: Endpoint, now: float) -> bool:
        """Add one message; False (and nothing written) once the file would pass its limit."""
        if self.full:
            return False
        payload = data[: SNAPLEN - 60]
        if source.transport == "UDP":
            segment = struct.pack("!HHHH", source.port, destination.port, 8 + len(payload), 0) + payload
            protocol = _UDP
        else:
            seq = self._advance((source, destination), len(payload))
            ack = self._next_seq.get((destination, source), 1)
            segment = struct.pack(
                "!HHIIBBHHH", source.port, destination.port, seq, ack, 5 << 4, 0x18, 65535, 0, 0
            ) + payload  # fmt: skip
            protocol = _TCP
        self._ident += 1
        packet = ip_packet(protocol, source, destination, segment, self._ident)
        record = struct.pack("<IIII", int(now), int(now % 1 * 1e6), len(packet), len(packet))
        if self.size + len(record) + len(packet) > self.limit:
            self.full = True
            return False
        self.out.write(record)
        self.out.write(packet)
        self.size += len(record) + len(packet)
        self.packets += 1
        return True

    def _advance(self, flow: tuple[Endpoint, Endpoint], length: int) -> int:
        seq = self._next_seq.pop(flow, 1)
        self._next_seq[flow] = (seq + length) & 0xFFFFFFFF
        while len(self._next_seq) > MAX_FLOWS:
            self._next_seq.popitem(last=False)
        return seq


@dataclass(frozen=True)
class CaptureStatus:
    running: bool
    packets: int
    size: int
    started: float | None
    stopped: float | None
    full: bool
    available: bool
    """A finished capture file can be downloaded."""


class CaptureService:
    """Service ``capture``: idle until :meth:`begin`; :meth:`end` (or stopping the device) closes the file."""

    name = "capture"
    watches: tuple[str, ...] = ()

    def __init__(self, device: Device, clock: Callable[[], float] = time.time) -> None:
        self.device = device
        self.clock = clock
        self.path = device.data_dir / "captures" / "capture.pcap"
        self._writer: PcapWriter | None = None
        self._file: BinaryIO | None = None
        self._remove_tap: Callable[[], None] | None = None
        self._remove_media_tap: Callable[[], None] | None = None
        self._started: float | None = None
        self._stopped: float | None = None
        self._last = (0, 0, False)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.end()

    async def apply(self, changed: list[Leaf]) -> None:
        return None

    @property
    def running(self) -> bool:
        return self._writer is not None

    def status(self) -> CaptureStatus:
        writer = self._writer
        packets, size, full = (writer.packets, writer.size, writer.full) if writer else self._last
        return CaptureStatus(
            writer is not None, packets, size, self._started, self._stopped, full,
            writer is None and self.path.is_file(),
        )  # fmt: skip

    def begin(self) -> None:
        """Start a new capture (the previous file is replaced); a running one goes on."""
        if self._writer is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("wb")
        self._writer = PcapWriter(self._file)
        self._started, self._stopped = self.clock(), None
        self._remove_tap = add_packet_tap(self._sip)
        self._remove_media_tap = add_media_tap(self._media)
        log.info("packet capture started")

    def end(self) -> None:
        """Stop capturing and close the file (nothing happens when no capture runs)."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        if self._remove_tap is not None:
            self._remove_tap()
            self._remove_tap = None
        if self._remove_media_tap is not None:
            self._remove_media_tap()
            self._remove_media_tap = None
        if self._file is not None:
            self._file.close()
            self._file = None
        self._stopped = self.clock()
        self._last = (writer.packets, writer.size, writer.full)
        log.info("packet capture stopped: %d packets, %d bytes", writer.packets, writer.size)

    def _sip(self, data: bytes, source: Endpoint, destination: Endpoint) -> None:
        writer = self._writer
        if writer is not None and not writer.write(data, source, destination, self.clock()):
            log.warning("packet capture stopped: the file reached its limit of %d bytes", writer.limit)
            self.end()

    def _media(self, data: bytes, source: tuple[str, int], destination: tuple[str, int]) -> None:
        self._sip(data, Endpoint("UDP", *source), Endpoint("UDP", *destination))
