"""DTMF as RTP events (RFC 4733 §2.3, §3.2), sans-IO: payload codec, sender schedule, receiver.

Why the sender returns a whole schedule: an event is a fixed pattern in time (an update every ptime,
the final packet three times, §2.5.1.4), so the edge just sends each packet at its ``at``; the
caller hands over its next sequence number and takes back how many were used, because events share
the audio stream's SSRC and sequence space (§2.1).
Why the receiver keys on (SSRC, timestamp): every packet of one event carries the timestamp of its
start (§2.5.1.2), so that pair names the keypress. A digit is reported on the first packet that shows
it, which survives a lost start packet and makes the retransmitted end packets harmless.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from .rtp import RtpPacket

DIGITS = "0123456789*#ABCD"
FLASH = "!"
"""Event 16 (hook flash); written ``!`` so a digit string stays one character per event."""

_PAYLOAD = struct.Struct("!BBH")


class DtmfError(ValueError):
    """A telephone-event payload or digit that cannot be used; the text says why."""


def event_code(digit: str) -> int:
    """RFC 4733 §3.2 event code of ``0-9 * # A-D`` (case-insensitive) or ``!`` (flash, 16)."""
    if digit == FLASH:
        return 16
    index = DIGITS.find(digit.upper()) if len(digit) == 1 else -1
    if index < 0:
        raise DtmfError(f"{digit!r} is not a DTMF digit (0-9, *, #, A-D, or ! for flash)")
    return index


def event_digit(code: int) -> str | None:
    """The digit of an event code, or None for events that are not DTMF (17 and up)."""
    if 0 <= code < 16:
        return DIGITS[code]
    return FLASH if code == 16 else None


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """One telephone-event payload: event code, end bit, volume (0-63, -dBm0), duration in samples."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.event <= 255:
            raise DtmfError(f"event code must be 0-255, got {self.event}")
        if not 0 <= self.volume <= 63:
            raise DtmfError(f"event volume must be 0-63 (-dBm0), got {self.volume}")
        if not 0 <= self.duration <= 0xFFFF:
            raise DtmfError(f"event duration must be 0-65535 samples, got {self.duration}")

    @classmethod
    def parse(cls, payload: bytes) -> DtmfEvent:
        if len(payload) < 4:
            raise DtmfError(f"telephone-event payload needs 4 bytes, got {len(payload)}")
        event, flags, duration = _PAYLOAD.unpack_from(payload)
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def __bytes__(self) -> bytes:
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


@dataclass(frozen=True, slots=True)
class ScheduledPacket:
    """A packet and the time (seconds, caller's clock) to send it."""

    at: float
    packet: RtpPacket


class DtmfSender:
    """Builds the packets of one keypress: updates every ptime, the final one sent three times."""

    def __init__(self, ssrc: int, payload_type: int = 101, clock_rate: int = 8000, ptime: float = 0.02,
                 volume: int = 10) -> None:
        self.ssrc = ssrc
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        self.ptime = ptime
        self.volume = volume

    def schedule(self, digit: str, now: float, timestamp: int, sequence: int,
                 duration: float = 0.1) -> list[ScheduledPacket]:
        """Packets for ``digit`` starting at ``now``, at RTP ``timestamp``, first sequence ``sequence``.

        Packet k goes at ``now + k * ptime`` and reports the event as lasting to the end of its
        interval; the last of those carries the E bit and is repeated at the next two intervals
        (with new sequence numbers, §2.5.1.6). The marker bit is set on the first packet only.
        The caller's next sequence number afterwards is ``sequence + len(result)`` (mod 2^16).
        """
        code = event_code(digit)
        step = round(self.clock_rate * self.ptime)
        total = round(self.clock_rate * duration)
        if not 0 < total <= 0xFFFF:
            raise DtmfError(f"a DTMF event must last 1 sample to 65535 samples, got {duration} s")
        updates = max(1, -(-total // step))
        out = []
        for k in range(updates + 2):
            end = k >= updates - 1
            length = total if end else (k + 1) * step
            payload = bytes(DtmfEvent(code, end, self.volume, length))
            packet = RtpPacket(self.payload_type, (sequence + k) % 65536, timestamp % (1 << 32), self.ssrc,
                               payload, marker=k == 0)
            out.append(ScheduledPacket(now + k * self.ptime, packet))
        return out


class DtmfReceiver:
    """Telephone-event packets in, each keypress out exactly once."""

    def __init__(self, memory: int = 32) -> None:
        self._reported: deque[tuple[int, int]] = deque(maxlen=memory)

    def feed(self, packet: RtpPacket) -> str | None:
        """The digit this packet reveals, the first time its event is seen; None otherwise.

        Packets that do not parse, non-DTMF events, and start packets of zero duration (some senders
        begin with one; the next update names the same event) report nothing.
        """
        try:
            event = DtmfEvent.parse(packet.payload)
        except DtmfError:
            return None
        digit = event_digit(event.event)
        if digit is None or (event.duration == 0 and not event.end):
            return None
        key = (packet.ssrc, packet.timestamp)
        if key in self._reported:
            return None
        self._reported.append(key)
        return digit
