"""The far end's RTP socket, owned by the test: what the device really sent, decoded independently.

SIPp carries the signalling (``scenarios/intercom_uac_rtp.xml`` offers ``rtp_port``), and this
socket on 127.0.0.1 is the media address of that offer, so every packet the device sends for the
call lands here. It answers nothing: it is a receiver, like a phone whose microphone is off.
PCMU is decoded with the G.711 formula written out here (not portier's codec, so a bug there is not
shared), RFC 4733 telephone-events are read from their payload (RFC 4733 §2.3), and the audio can
be written to a WAV for ``audio_check.analyse``/``assert_tone``.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from .sipp import LOOPBACK

PCMU = 0
TELEPHONE_EVENT = 101
EVENT_DIGITS = "0123456789*#ABCD"

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RtpPacket:
    at: float
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


@dataclass(frozen=True)
class TelephoneEvent:
    """One keypress as the receiver sees it: its RTP timestamp, digit, whether an end packet came
    (E bit), the longest duration reported (in timestamp units) and how many packets carried it."""

    timestamp: int
    digit: str
    ended: bool
    duration: int
    packets: int


def parse_rtp(data: bytes, at: float) -> RtpPacket | None:
    """An RTP packet (RFC 3550 §5.1) without padding handling beyond the P bit; None if not RTP."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    first, second, sequence, timestamp, ssrc = struct.unpack_from("!BBHII", data)
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension
        if len(data) < offset + 4:
            return None
        (words,) = struct.unpack_from("!2xH", data, offset)
        offset += 4 + 4 * words
    end = len(data) - (data[-1] if first & 0x20 else 0)
    return RtpPacket(at, second & 0x7F, bool(second & 0x80), sequence, timestamp, ssrc, data[offset:end])


def ulaw_decode(payload: bytes) -> Floats:
    """G.711 mu-law to linear samples in [-1, 1] (ITU-T G.711; 0xFF and 0x7F are both 0)."""
    code = ~np.frombuffer(payload, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    linear = np.where(code & 0x80, -magnitude, magnitude)
    result: Floats = linear / 32768.0
    return result


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, capture: RtpCapture) -> None:
        self.capture = capture

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        packet = parse_rtp(data, asyncio.get_running_loop().time())
        if packet is not None:
            self.capture.packets.append(packet)


@dataclass
class RtpCapture:
    """``async with RtpCapture() as rtp``: RTP on 127.0.0.1:``rtp.port`` (even) and RTCP taken on
    ``port + 1`` (so the device's RTCP meets a bound port, not an ICMP error), both in the test's loop."""

    packets: list[RtpPacket] = field(default_factory=list)
    port: int = 0
    _transports: list[asyncio.DatagramTransport] = field(default_factory=list)

    async def __aenter__(self) -> RtpCapture:
        loop = asyncio.get_running_loop()
        for _ in range(50):
            rtp, rtcp = _bound_pair()
            if rtp is None or rtcp is None:
                continue
            self.port = rtp.getsockname()[1]
            for sock in (rtp, rtcp):
                transport, _ = await loop.create_datagram_endpoint(lambda: _Receiver(self), sock=sock)
                self._transports.append(transport)
            return self
        raise AssertionError(f"found no free even/odd UDP port pair on {LOOPBACK}")

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for transport in self._transports:
            transport.close()

    def of(self, payload_type: int) -> list[RtpPacket]:
        """The packets of ``payload_type``, in sequence order (one stream, no wrap in a short call)."""
        return sorted((p for p in self.packets if p.payload_type == payload_type), key=lambda p: p.sequence)

    def audio(self) -> Floats:
        """The PCMU stream decoded, packet after packet."""
        packets = self.of(PCMU)
        assert packets, f"no PCMU packet reached {LOOPBACK}:{self.port} ({len(self.packets)} RTP in all)"
        return np.concatenate([ulaw_decode(p.payload) for p in packets])

    def write_wav(self, path: Path) -> Path:
        """The PCMU audio as a 16-bit 8 kHz WAV, for ``audio_check``."""
        samples = np.clip(np.round(self.audio() * 32768.0), -32768, 32767).astype("<i2")
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(samples.tobytes())
        return path

    def events(self, payload_type: int = TELEPHONE_EVENT) -> list[TelephoneEvent]:
        """The keypresses received, in the order they started: packets of one event share its RTP
        timestamp (RFC 4733 §2.5.1.2), whatever their number or repetitions."""
        grouped: dict[int, list[RtpPacket]] = {}
        for packet in sorted(self.packets, key=lambda p: p.at):
            if packet.payload_type == payload_type and len(packet.payload) >= 4:
                grouped.setdefault(packet.timestamp, []).append(packet)
        found = []
        for timestamp, packets in grouped.items():
            codes = {p.payload[0] for p in packets}
            assert len(codes) == 1, f"event at timestamp {timestamp} names several events: {sorted(codes)}"
            (code,) = codes
            found.append(
                TelephoneEvent(
                    timestamp=timestamp,
                    digit=EVENT_DIGITS[code] if code < len(EVENT_DIGITS) else f"<{code}>",
                    ended=any(p.payload[1] & 0x80 for p in packets),
                    duration=max(struct.unpack_from("!H", p.payload, 2)[0] for p in packets),
                    packets=len(packets),
                )
            )
        return found


def _bound_pair() -> tuple[socket.socket | None, socket.socket | None]:
    """An even port and the next one, both bound on 127.0.0.1 (None where one was taken)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind((LOOPBACK, 0))
    port = probe.getsockname()[1]
    if port % 2:
        probe.close()
        return None, None
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        other.bind((LOOPBACK, port + 1))
    except OSError:
        probe.close()
        other.close()
        return None, None
    probe.setblocking(False)
    other.setblocking(False)
    return probe, other
