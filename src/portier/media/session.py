"""One call's RTP stream on the device's loop: paced sending, jitter-buffered playout, RTCP, DTMF.

Every ptime one timer tick reads a frame from the source, encodes and sends it, reads the packets that
arrived since the last tick (``rtp_socket``: one wake-up per ptime, not one more per packet, with the
kernel's arrival stamps for the jitter buffer), and plays one frame from the jitter buffer into the
sink; ticks are scheduled from the start time (``t0 + n * ptime``), not from the previous tick, so
pacing never drifts. Received telephone-events go to the RFC 4733 receiver and come out as digits
exactly once. RTP is symmetric (RFC 4961): we send from the port we receive on, and latch onto the
address the peer's packets really come from (NAT). RTCP SR/RR with our CNAME go out every 5 s on the
next port up, and a BYE when the stream stops.

With VAD (and CN negotiated) the sender sends comfort noise instead of silence (``vad``); received CN
is played as noise at its level (``comfort_noise``). With keep-alive on, a stream that has sent nothing
for ``keep_alive_interval`` (on hold, or the peer's sendonly) sends one packet to keep NAT bindings
open (RFC 6263): CN (§4.2) when CN was negotiated, which the peer knows how to play; else an empty RTP
packet of a payload type the session does not use (§4.6), which a receiver drops. Why not the others:
a zero-length datagram (§4.1) cannot be SRTP-protected and some stacks log it as an error, and our RTCP
goes to the next port up, so without rtcp-mux (§4.3) it refreshes another binding. Why 15 s: the
interval RFC 6263 works with (baresip's rtpkeep uses it too), well inside the 30 s for which some NATs
keep an idle UDP binding.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from portier.media.audio import Samples, Sink, Source
from portier.media.codecs import Decoder, Encoder, decoder, encoder
from portier.media.comfort_noise import (
    CN_PAYLOAD_TYPE,
    SILENT,
    ComfortNoise,
    ComfortNoiseError,
    NoiseGenerator,
)
from portier.media.dtmf import DtmfReceiver, DtmfSender
from portier.media.goertzel import DtmfDetector
from portier.media.jitterbuffer import Frame, JitterBuffer
from portier.media.rtcp import (
    RemoteSource,
    RtcpError,
    SenderReport,
    SenderStats,
    make_bye,
    make_report,
    parse_compound,
    serialize_compound,
)
from portier.media.rtp import RtpError, RtpPacket, rtp_header, unused_payload_type
from portier.media.rtp_socket import RtpSocket, bind
from portier.media.tones import dtmf_tone
from portier.media.vad import AUDIO, NOTHING, SilenceSuppressor
from portier.packet_taps import Taps

log = logging.getLogger(__name__)

RTCP_INTERVAL = 5.0
KEEP_ALIVE_INTERVAL = 15.0

Address = tuple[str, int]
MediaTap = Callable[[bytes, Address, Address], None]
_taps: Taps[Address] = Taps("RTP")


def add_media_tap(tap: MediaTap) -> Callable[[], None]:
    """Show ``tap`` every RTP and RTCP datagram this process's streams send and receive, as on the
    wire (SRTP still protected), with source and destination (the packet capture: ``services/capture``);
    returns the function that removes it."""
    return _taps.add(tap)


@dataclass(frozen=True)
class StreamConfig:
    """What offer/answer decided, in the media layer's terms (no SDP objects down here)."""

    local_host: str
    local_port: int
    remote_host: str
    remote_port: int
    send_codec: str
    send_payload_type: int
    receive_codecs: Mapping[int, str]
    """Payload type -> codec name for what the peer may send us."""
    ptime: int = 20
    send_dtmf_payload_type: int | None = None
    receive_dtmf_payload_type: int | None = None
    remote_rtcp_port: int | None = None
    dscp: int | None = None
    cname: str = "portier@localhost"
    codec_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    sends: bool = True
    receives: bool = True
    inband_dtmf: bool = False
    """Listen for DTMF tones in the decoded audio (DTMF Type In-band, or AUTO without telephone-event)."""
    srtp: SrtpKeys | None = None
    vad: bool = False
    """Media "Enable VAD": suppress silence, sending comfort noise; only when CN was negotiated."""
    send_cn_payload_type: int | None = None
    """CN (RFC 3389) at the send codec's clock, in the peer's numbering; None: not negotiated."""
    receive_cn_payload_type: int | None = None
    """CN as the peer sends it to us (static 13 is always understood)."""
    keep_alive: bool = False
    """Media "RTP Keep Alive": a packet after ``keep_alive_interval`` seconds of sending nothing."""
    keep_alive_interval: float = KEEP_ALIVE_INTERVAL


@dataclass(frozen=True)
class SrtpKeys:
    """SDES (RFC 4568) outcome: the suite, our master key+salt (30 bytes) and the peer's."""

    suite: str
    send_key: bytes
    receive_key: bytes


class _Srtp:
    """RFC 3711 protection with libsrtp (pylibsrtp): one session each way, any SSRC."""

    def __init__(self, keys: SrtpKeys) -> None:
        import pylibsrtp

        profile = (
            pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32
            if keys.suite.endswith("_32")
            else pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
        )
        self.error = pylibsrtp.Error
        self.tx = pylibsrtp.Session(
            pylibsrtp.Policy(keys.send_key, pylibsrtp.Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)
        )
        self.rx = pylibsrtp.Session(
            pylibsrtp.Policy(keys.receive_key, pylibsrtp.Policy.SSRC_ANY_INBOUND, srtp_profile=profile)
        )


@dataclass
class StreamStats:
    sent: int = 0
    received: int = 0
    dropped: int = 0
    dtmf_received: int = 0
    comfort_noise_sent: int = 0
    comfort_noise_received: int = 0
    keep_alives_sent: int = 0
    ignored: int = 0
    """Packets of payload types not negotiated (a peer's RFC 6263 keep-alives): latched on, not played."""


class _Rtcp(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.on_packet = on_packet
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.on_packet(data, addr)
        except Exception:
            log.exception("RTCP packet handling failed")

    def error_received(self, exc: Exception) -> None:
        log.debug("RTCP socket error: %s", exc)


class RtpStream:
    def __init__(
        self,
        config: StreamConfig,
        source: Source,
        sink: Sink,
        on_dtmf: Callable[[str, str], None] = lambda digit, method: None,
    ) -> None:
        self.config = config
        self.source = source
        self.sink = sink
        self.on_dtmf = on_dtmf
        self.stats = StreamStats()
        self.encoder: Encoder = encoder(
            config.send_codec, ptime_ms=config.ptime, **_opts(config, config.send_codec)
        )
        self.decoders: dict[int, Decoder] = {
            pt: decoder(name, **_opts(config, name)) for pt, name in config.receive_codecs.items()
        }
        info = self.encoder.info
        self.samples = self.encoder.samples_per_packet
        self._clock_rate = info.clock_rate
        self.ticks = info.rtp_ticks(self.samples)
        self.interval = self.samples / info.sample_rate
        passthrough = () if config.receive_dtmf_payload_type is None else (config.receive_dtmf_payload_type,)
        cn = config.receive_cn_payload_type
        self._cn_types = frozenset({CN_PAYLOAD_TYPE} if cn is None else {CN_PAYLOAD_TYPE, cn})
        self._known_types = frozenset(self.decoders) | self._cn_types | frozenset(passthrough)
        self.jitter = JitterBuffer(
            clock_rate=info.clock_rate, ptime=self.interval, passthrough=passthrough,
            comfort_noise=self._cn_types,
        )  # fmt: skip
        self.dtmf_in = DtmfReceiver()
        self.ssrc = secrets.randbits(32)
        self.sequence = secrets.randbits(16)
        self.timestamp = secrets.randbits(32)
        self.remote = (config.remote_host, config.remote_port)
        self._latched = False
        self._rtp: RtpSocket | None = None
        self._rtcp: _Rtcp | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._rtcp_timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start = 0.0
        self._tick = 0
        self._dtmf_until = 0.0
        self._last_sent = 0.0
        self._sent_before = 0
        self._octets = 0
        self._sources: dict[int, RemoteSource] = {}
        self._last_decoder: Decoder | None = None
        self._fifo: Samples = _EMPTY
        self._previous: RtpPacket | None = None
        self._remote_ticks = self.ticks
        self._remote_samples = self.samples
        rate = self.encoder.info.sample_rate
        self._srtp = _Srtp(config.srtp) if config.srtp is not None else None
        self._detector = DtmfDetector(rate) if config.inband_dtmf and rate in (8000, 16000) else None
        self._tones: Samples = _EMPTY
        self._spoken: Samples = _EMPTY
        self._heard: Samples = _EMPTY
        self._noise = NoiseGenerator()
        vad = config.vad and config.send_cn_payload_type is not None
        self._suppressor = SilenceSuppressor(self.interval) if vad else None
        used = {config.send_payload_type, *self._known_types}
        used |= {pt for pt in (config.send_dtmf_payload_type, config.send_cn_payload_type) if pt is not None}
        self._keep_alive_type = unused_payload_type(used)

    @property
    def local_port(self) -> int:
        return self.config.local_port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        host, port = self.config.local_host, self.config.local_port
        self._rtp = RtpSocket(bind(host, port, self.config.dscp))
        try:
            _, self._rtcp = await loop.create_datagram_endpoint(
                lambda: _Rtcp(self._on_rtcp), sock=bind(host, port + 1, self.config.dscp)
            )
        except BaseException:
            self._rtp.close()
            self._rtp = None
            raise
        self._start = self._last_sent = loop.time()
        self._tick = 0
        self._timer = loop.call_at(self._start, self._on_tick)
        self._rtcp_timer = loop.call_later(RTCP_INTERVAL / 2, self._send_rtcp)

    async def stop(self) -> None:
        for timer in (self._timer, self._rtcp_timer):
            if timer is not None:
                timer.cancel()
        self._timer = self._rtcp_timer = None
        if self._rtcp is not None and self._rtcp.transport is not None:
            self._rtcp_send(serialize_compound(make_bye(self.ssrc, "call ended")))
            self._rtcp.transport.close()
        if self._rtp is not None:
            self._rtp.close()
        self._rtp = None
        self._rtcp = None
        await asyncio.sleep(0)  # let the sockets close before the port goes back to the pool
        self.sink.close()
        self.source.close()

    def levels(self) -> tuple[float | None, float | None]:
        """Sound level (dBFS) of the last frame sent and of the last frame played; None: no such frame.

        Worked out when asked (the virtual panel's meter, a few times a second), not on every tick.
        """
        sent = _dbfs(self._spoken) if self.config.sends else None
        return sent, (_dbfs(self._heard) if self.config.receives else None)

    def redirect(self, host: str, port: int, *, sends: bool, receives: bool) -> None:
        """A re-INVITE changed where the peer listens or the direction (hold, resume)."""
        self.remote = (host, port)
        self._latched = False
        self.config = replace(self.config, remote_host=host, remote_port=port, sends=sends, receives=receives)

    def send_tone_digit(self, digit: str, duration: float = 0.1) -> None:
        """In-band DTMF: the digit's two tones replace the source's audio for ``duration``."""
        tone = dtmf_tone(digit, duration, self.encoder.info.sample_rate)
        gap = np.zeros(round(0.05 * self.encoder.info.sample_rate), dtype=np.int16)
        self._tones = np.concatenate((self._tones, tone, gap))

    def send_dtmf(self, digit: str, duration: float = 0.1) -> None:
        """RFC 4733 telephone-event; audio pauses while the event is sent."""
        loop = self._loop
        if loop is None or self.config.send_dtmf_payload_type is None or self._rtp is None:
            raise RuntimeError("this stream cannot send RFC 4733 events (no telephone-event negotiated)")
        now = loop.time()
        dtmf_ts = self.timestamp
        sender = DtmfSender(
            self.ssrc,
            payload_type=self.config.send_dtmf_payload_type,
            clock_rate=self.encoder.info.clock_rate,
            ptime=self.interval,
        )
        packets = sender.schedule(digit, now, dtmf_ts, self.sequence, duration)
        self.sequence = (self.sequence + len(packets)) % 65536
        self._dtmf_until = packets[-1].at
        for item in packets:
            loop.call_at(item.at, self._send_packet, bytes(item.packet))

    # --- timing -----------------------------------------------------------------------------------

    def _on_tick(self) -> None:
        loop = self._loop
        if loop is None:
            return
        now = loop.time()
        try:
            config = self.config
            if config.sends and now >= self._dtmf_until:
                self._send_audio()
            elif config.sends:
                self.timestamp = (self.timestamp + self.ticks) % 2**32
            if config.keep_alive:
                self._keep_alive(now, config.keep_alive_interval)
            if self._rtp is not None:
                self._rtp.drain(now, self._on_rtp)
            self._play(now)
        except Exception:
            log.exception("RTP tick failed")
        self._tick += 1
        next_at = self._start + self._tick * self.interval
        if next_at < now - 1.0:  # the loop was blocked for a second: do not burst to catch up
            self._start = now - self._tick * self.interval
            next_at = now
        self._timer = loop.call_at(next_at, self._on_tick)

    def _send_audio(self) -> None:
        pcm = self.source.read(self.samples)
        if self._tones.size:
            take = min(self._tones.size, self.samples)
            pcm = pcm.copy()
            pcm[:take] = self._tones[:take]
            if take < self.samples:
                pcm[take:] = 0
            self._tones = self._tones[take:]
        self._spoken = pcm
        marker = self.stats.sent == 0
        suppressor = self._suppressor
        if suppressor is not None:
            decision = suppressor.decide(pcm)
            if decision.send != AUDIO:
                if decision.send != NOTHING:
                    self._send_comfort_noise(decision.level)
                self.timestamp = (self.timestamp + self.ticks) % 2**32
                return
            marker = marker or decision.marker
        payload = self.encoder.encode(pcm)
        if payload:
            pt = self.config.send_payload_type
            header = rtp_header(pt, self.sequence, self.timestamp, self.ssrc, marker)
            self.sequence = (self.sequence + 1) % 65536
            self._send_packet(header + payload)
            self._octets += len(payload)
        self.timestamp = (self.timestamp + self.ticks) % 2**32

    def _send_comfort_noise(self, level: int) -> None:
        payload_type = self.config.send_cn_payload_type
        if payload_type is None:
            return
        payload = bytes(ComfortNoise(level))
        self._send_packet(rtp_header(payload_type, self.sequence, self.timestamp, self.ssrc) + payload)
        self.sequence = (self.sequence + 1) % 65536
        self._octets += len(payload)
        self.stats.comfort_noise_sent += 1

    def _keep_alive(self, now: float, interval: float) -> None:
        """RFC 6263: a packet when nothing at all went out for ``interval`` seconds."""
        if self.stats.sent != self._sent_before:
            self._sent_before = self.stats.sent
            self._last_sent = now
        elif now - self._last_sent >= interval:
            self._send_keep_alive()

    def _send_keep_alive(self) -> None:
        """CN at the background's level when CN was negotiated, else an empty unknown-type packet."""
        if self.config.send_cn_payload_type is not None:
            noise = self._suppressor.vad.noise if self._suppressor is not None else None
            self._send_comfort_noise(SILENT if noise is None else min(SILENT, max(0, round(-noise))))
        else:
            self._send_packet(rtp_header(self._keep_alive_type, self.sequence, self.timestamp, self.ssrc))
            self.sequence = (self.sequence + 1) % 65536
        self.stats.keep_alives_sent += 1

    def _send_packet(self, data: bytes) -> None:
        rtp = self._rtp
        if rtp is None:
            return
        if self._srtp is not None:
            data = bytes(self._srtp.tx.protect(data))
        if rtp.send(data, self.remote):
            self.stats.sent += 1
            if _taps.active:
                _taps.show(data, self._local(0), self.remote)

    def _play(self, now: float) -> None:
        """One tick of playout: our frame size from the peer's frames, whatever their length.

        The peer may send 30 or 40 ms packets while we tick every 20 ms; decoded audio goes through a
        small FIFO and the jitter buffer runs at the peer's packet duration, so nothing is stretched.
        """
        if not self.config.receives:
            return
        samples = self.samples
        fifo = self._fifo
        frames = 0
        if not fifo.size:
            fifo = self._next_frame(now)
            frames = 1
            if fifo.size == samples:  # the usual case, same frame length both ways: no FIFO
                self._output(fifo)
                return
        while fifo.size < samples and frames < 8:
            fifo = np.concatenate((fifo, self._next_frame(now)))
            frames += 1
        if fifo.size < samples:
            self._fifo = fifo
            return
        self._fifo = fifo[samples:]
        self._output(fifo[:samples])

    def _output(self, frame: Samples) -> None:
        self._heard = frame
        self.sink.write(frame)
        if self._detector is not None:
            for digit in self._detector.feed(frame):
                self.stats.dtmf_received += 1
                self.on_dtmf(digit, "inband")

    def _next_frame(self, now: float) -> Samples:
        item = self.jitter.pop(now)
        frame = self._remote_samples
        if isinstance(item, Frame):
            packet = item.packet
            payload_type = packet.payload_type
            found = self.decoders.get(payload_type)
            if found is None:
                if payload_type in self._cn_types:
                    return self._comfort_noise(packet.payload, frame)
                return np.zeros(frame, dtype=np.int16)
            self._last_decoder = found
            if self._noise.active:
                self._noise.stop()
            try:
                return found.decode(packet.payload)
            except Exception as exc:  # a bad payload is concealed, never the end of the call
                log.debug("undecodable payload: %s", exc)
                return found.conceal(frame)
        if item.idle and self._noise.active:  # a silence the peer described: its noise, not dead air
            return self._noise.frame(frame)
        if self._last_decoder is not None and not item.idle:
            return self._last_decoder.conceal(frame)
        if self.stats.received:  # the peer paused (silence suppression): keep the recording's clock
            return np.zeros(frame, dtype=np.int16)
        return _EMPTY

    def _comfort_noise(self, payload: bytes, samples: int) -> Samples:
        try:
            self._noise.heard(ComfortNoise.parse(payload))
        except ComfortNoiseError as exc:
            log.debug("unreadable comfort noise: %s", exc)
        self.stats.comfort_noise_received += 1
        return self._noise.frame(samples)

    def _learn_packet_time(self, packet: RtpPacket) -> None:
        """The peer's packet duration from consecutive audio packets; the jitter buffer follows it."""
        previous = self._previous
        if packet.payload_type not in self.decoders:
            return
        self._previous = packet
        if previous is None:
            return
        if (packet.sequence - previous.sequence) % 65536 != 1 or previous.payload_type != packet.payload_type:
            return
        ticks = (packet.timestamp - previous.timestamp) % 2**32
        info = self.encoder.info
        if not 0 < ticks <= info.clock_rate // 5 or ticks == self._remote_ticks:
            return
        self._remote_ticks = ticks
        self._remote_samples = round(ticks * info.sample_rate / info.clock_rate)
        passthrough = self.jitter.passthrough
        self.jitter = JitterBuffer(
            clock_rate=info.clock_rate, ptime=ticks / info.clock_rate, passthrough=passthrough,
            comfort_noise=self._cn_types,
        )
        log.info("RTP: the peer sends %d ms packets", round(1000 * ticks / info.clock_rate))

    # --- receiving --------------------------------------------------------------------------------

    def _on_rtp(self, data: bytes, addr: tuple[str, int], arrival: float) -> None:
        if _taps.active:
            _taps.show(data, addr, self._local(0))
        if self._srtp is not None:
            try:
                data = bytes(self._srtp.rx.unprotect(data))
            except self._srtp.error:  # forged, replayed or not ours: dropped, counted
                self.stats.dropped += 1
                return
        try:
            packet = RtpPacket.parse(data)
        except RtpError:
            self.stats.dropped += 1
            return
        if not self._latched:
            if addr != self.remote:
                log.info("RTP: latching onto %s:%d (signalled %s:%d)", *addr, *self.remote)
                self.remote = addr
            self._latched = True
        self.stats.received += 1
        source = self._sources.get(packet.ssrc)
        if source is None:  # not setdefault: that would build a RemoteSource for every packet
            source = self._sources[packet.ssrc] = RemoteSource(packet.ssrc)
        source.tracker.update(packet.sequence, packet.timestamp, round(arrival * self._clock_rate))
        if packet.payload_type not in self._known_types:  # a keep-alive (RFC 6263 §4.6): nothing to play
            self.stats.ignored += 1
            self.jitter.ignore(packet)
            return
        self._learn_packet_time(packet)
        passed = self.jitter.push(packet, arrival)
        if passed is not None:
            digit = self.dtmf_in.feed(passed)
            if digit is not None:
                self.stats.dtmf_received += 1
                self.on_dtmf(digit, "rfc4733")

    def _on_rtcp(self, data: bytes, addr: tuple[str, int]) -> None:
        if _taps.active:
            _taps.show(data, addr, self._local(1))
        if self._srtp is not None:
            try:
                data = bytes(self._srtp.rx.unprotect_rtcp(data))
            except self._srtp.error:
                return
        try:
            packets = parse_compound(data)
        except RtcpError:
            return
        now = self._loop.time() if self._loop else time.monotonic()
        for packet in packets:
            if isinstance(packet, SenderReport) and packet.ssrc in self._sources:
                self._sources[packet.ssrc].note_sender_report(packet, now)

    def _rtcp_send(self, report: bytes) -> None:
        """Send one compound RTCP packet (SRTCP-protected under SRTP) to the peer's RTCP port."""
        rtcp = self._rtcp
        if rtcp is None or rtcp.transport is None:
            return
        data = bytes(self._srtp.tx.protect_rtcp(report)) if self._srtp is not None else report
        remote = self._rtcp_remote()
        with contextlib.suppress(OSError):
            rtcp.transport.sendto(data, remote)
            if _taps.active:
                _taps.show(data, self._local(1), remote)

    def _local(self, offset: int) -> Address:
        """Our address as the capture shows it: RTP port (offset 0) or RTCP port (offset 1)."""
        host = self.config.local_host
        if host in ("", "0.0.0.0"):  # bound to all addresses: the one the kernel routes to the peer from
            host = _route_source(self.remote[0])
        return host, self.config.local_port + offset

    def _rtcp_remote(self) -> tuple[str, int]:
        return self.remote[0], self.config.remote_rtcp_port or self.remote[1] + 1

    def _send_rtcp(self) -> None:
        loop = self._loop
        if loop is None or self._rtcp is None or self._rtcp.transport is None:
            return
        sent = SenderStats(self.timestamp, self.stats.sent, self._octets) if self.stats.sent else None
        report = make_report(
            self.ssrc,
            self.config.cname,
            loop.time(),
            time.time(),
            sent=sent,
            sources=list(self._sources.values()),
        )
        self._rtcp_send(serialize_compound(report))
        self._rtcp_timer = loop.call_later(RTCP_INTERVAL, self._send_rtcp)


_EMPTY: Samples = np.zeros(0, dtype=np.int16)
_EMPTY.flags.writeable = False


SILENCE_DBFS = -96.0
"""What a frame of digital silence reads as: the floor of 16-bit audio."""


def _dbfs(frame: Samples) -> float | None:
    if not frame.size:
        return None
    rms = float(np.sqrt(np.mean(np.square(frame, dtype=np.float64))))
    return max(SILENCE_DBFS, 20.0 * float(np.log10(rms / 32768.0))) if rms > 0 else SILENCE_DBFS


@functools.lru_cache(maxsize=64)
def _route_source(remote: str) -> str:
    """The local address the kernel would send to ``remote`` from (a connected UDP socket sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((remote, 9))
            return str(probe.getsockname()[0])
    except OSError:
        return "0.0.0.0"


def _opts(config: StreamConfig, name: str) -> dict[str, object]:
    return dict(config.codec_options.get(name.lower(), {}))
