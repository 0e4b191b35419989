"""A tiny classic-libpcap reader for the RTP captures SIPp ships (Ethernet / IPv4 / UDP only).

Why here and not a dependency: the captures are test data from outside, and reading them takes forty
lines; anything the reader does not understand fails the test loudly instead of being skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

SIPP_PCAPS = Path("/usr/share/sip-tester")


@dataclass(frozen=True)
class Datagram:
    time: float
    payload: bytes


def sipp_pcap(name: str) -> Path:
    path = SIPP_PCAPS / name
    assert path.is_file(), f"{path} is missing: install the Debian package sip-tester (SIPp's RTP captures)"
    return path


def udp_payloads(path: Path) -> list[Datagram]:
    data = path.read_bytes()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise AssertionError(f"{path} is not a classic libpcap file (magic {magic.hex()})")
    scale = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    link_type = struct.unpack_from(endian + "I", data, 20)[0]
    assert link_type == 1, f"{path}: link type {link_type}, only Ethernet (1) is read here"
    out = []
    offset = 24
    while offset < len(data):
        seconds, fraction, captured, _ = struct.unpack_from(endian + "IIII", data, offset)
        offset += 16
        frame = data[offset:offset + captured]
        offset += captured
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        assert ethertype == 0x0800, f"{path}: ethertype {ethertype:#06x}, only IPv4 is read here"
        ip = frame[14:]
        header = (ip[0] & 0x0F) * 4
        total = struct.unpack_from("!H", ip, 2)[0]
        assert ip[9] == 17, f"{path}: IP protocol {ip[9]}, only UDP is read here"
        udp = ip[header:total]
        length = struct.unpack_from("!H", udp, 4)[0]
        out.append(Datagram(seconds + fraction * scale, bytes(udp[8:length])))
    return out
