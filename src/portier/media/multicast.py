"""Multicast RTP (manual 8.2, 9.18, Table 23 "Mcast Paging"): one-way audio to or from a group.

A page is plain RTP with no signalling: the sender encodes its source every ptime and sends to
``group:port`` with a TTL; listeners join the group and play what arrives. The same classes work
with a unicast address (one listener), which is how tests on 127.0.0.1 check the audio; the group
path (IP_ADD_MEMBERSHIP, IP_MULTICAST_TTL/LOOP) is proven inside a loopback-only namespace.
Priorities and the 10 listening groups are the paging issue's; this is the transport.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import socket
import struct
from collections.abc import Callable

from portier.media.audio import Sink, Source
from portier.media.codecs import codec_info, decoder, encoder
from portier.media.rtp import RtpError, RtpPacket, rtp_header

log = logging.getLogger(__name__)

STATIC_PAYLOAD_TYPES = {"PCMU": 0, "PCMA": 8, "G722": 9, "G729": 18}


def is_multicast(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_multicast
    except ValueError:
        return False


def parse_target(text: str) -> tuple[str, int]:
    """``239.1.1.1:10000`` -> (host, port), with a sentence when it is not one."""
    host, _, port = text.strip().rpartition(":")
    try:
        ipaddress.IPv4Address(host)
        number = int(port)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address:port such as 239.1.1.1:10000") from None
    if not 1 <= number <= 65535:
        raise ValueError(f"{text!r}: the port must be 1-65535")
    return host, number


class MulticastSender:
    """Sends ``source`` encoded with ``codec`` to ``host:port`` every ptime until stopped."""

    def __init__(
        self,
        host: str,
        port: int,
        codec: str,
        source: Source,
        *,
        payload_type: int | None = None,
        ttl: int = 1,
        ptime_ms: int = 20,
        bind_host: str = "0.0.0.0",
    ) -> None:
        self.host, self.port = host, port
        self.info = codec_info(codec)
        self.encoder = encoder(codec, ptime_ms=ptime_ms)
        self.payload_type = payload_type if payload_type is not None else STATIC_PAYLOAD_TYPES[self.info.name]
        self.source = source
        self.ssrc = secrets.randbits(32)
        self.sequence = secrets.randbits(16)
        self.timestamp = secrets.randbits(32)
        self.sent = 0
        self._interval = self.encoder.samples_per_packet / self.info.sample_rate
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._socket.bind((bind_host, 0))
        if is_multicast(host):
            self._socket.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
            self._socket.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)  # listeners here too
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"page-{self.host}:{self.port}")
        log.info(
            "paging %s:%d with %s (payload type %d)", self.host, self.port, self.info.name, self.payload_type
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._socket.close()
        self.source.close()
        log.info("paging %s:%d ended after %d packets", self.host, self.port, self.sent)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        first = True
        while True:
            pcm = self.source.read(self.encoder.samples_per_packet)
            payload = self.encoder.encode(pcm)
            if payload:
                header = rtp_header(self.payload_type, self.sequence, self.timestamp, self.ssrc, marker=first)
                try:
                    self._socket.sendto(header + payload, (self.host, self.port))
                    self.sent += 1
                except OSError as exc:
                    log.warning("paging %s:%d: %s", self.host, self.port, exc)
                self.sequence = (self.sequence + 1) & 0xFFFF
                first = False
            self.timestamp = (
                self.timestamp + self.info.rtp_ticks(self.encoder.samples_per_packet)
            ) & 0xFFFFFFFF
            due += self._interval
            await asyncio.sleep(max(0.0, due - loop.time()))


class _Listen(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes], None]) -> None:
        self.on_packet = on_packet

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_packet(data)


class MulticastListener:
    """Joins ``group:port`` (or listens on a unicast address) and plays what arrives into ``sink``."""

    def __init__(self, group: str, port: int, codecs: dict[int, str], sink: Sink) -> None:
        self.group, self.port = group, port
        self.decoders = {pt: decoder(name) for pt, name in codecs.items()}
        self.sink = sink
        self.received = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if is_multicast(self.group):
            sock.bind((self.group, self.port))  # only this group's datagrams, not every one to the port
            membership = struct.pack("4s4s", socket.inet_aton(self.group), socket.inet_aton("0.0.0.0"))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        else:
            sock.bind((self.group, self.port))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Listen(self._on_packet), sock=sock)
        self._transport = transport

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self.sink.close()

    def _on_packet(self, data: bytes) -> None:
        try:
            packet = RtpPacket.parse(data)
        except RtpError:
            return
        decode = self.decoders.get(packet.payload_type)
        if decode is None:
            return
        self.received += 1
        self.sink.write(decode.decode(packet.payload))
