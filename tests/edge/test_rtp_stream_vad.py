"""VAD with comfort noise between two RTP streams on loopback, through a relay that records the wire.

Stream A talks in bursts (a tone, then background noise); its packets pass a small UDP relay on their
way to stream B, which records what it plays. The relay's log shows the RFC 3389 pattern; B's
recording shows that the silences are filled with noise at the background's level, not dead air.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import wave
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from portier.media.audio import WavSink
from portier.media.comfort_noise import ComfortNoise
from portier.media.ports import RtpPorts
from portier.media.rtp import RtpPacket
from portier.media.session import RtpStream, StreamConfig

HOST = "127.0.0.1"
RATE = 8000
TONE_DBOV, NOISE_DBOV = -20.0, -50.0
TONE_FRAMES, QUIET_FRAMES = 30, 50  # 600 ms of tone, 1 s of background: a period of 1.6 s


class BurstySource:
    """A 1 kHz tone at -20 dBov RMS for 600 ms, then white noise at -50 dBov for 1 s, over and over."""

    def __init__(self) -> None:
        n = np.arange(TONE_FRAMES * 160)
        amplitude = 32767 * 10 ** (TONE_DBOV / 20) * math.sqrt(2)
        tone = amplitude * np.sin(2 * np.pi * 1000 * n / RATE)
        noise = np.random.default_rng(5).normal(0, 32767 * 10 ** (NOISE_DBOV / 20), QUIET_FRAMES * 160)
        self.period = np.round(np.concatenate((tone, noise))).astype(np.int16)
        self.position = 0

    def read(self, count: int) -> npt.NDArray[np.int16]:
        index = (self.position + np.arange(count)) % self.period.size
        self.position += count
        return self.period[index]

    def close(self) -> None:
        return None


class Relay(asyncio.DatagramProtocol):
    """Forwards A's datagrams to B and keeps each one, parsed."""

    def __init__(self, to: tuple[str, int]) -> None:
        self.to = to
        self.packets: list[RtpPacket] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr[1] == self.to[1] or self.transport is None:
            return  # B's own packets back to the relay: not part of what is checked
        self.packets.append(RtpPacket.parse(data))
        self.transport.sendto(data, self.to)


def frame_levels(path: Path) -> npt.NDArray[np.float64]:
    with wave.open(str(path), "rb") as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    frames = samples[: samples.size // 160 * 160].reshape(-1, 160)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-3) / 32767), dtype=np.float64)


async def test_vad_sends_comfort_noise_in_silences_and_the_receiver_plays_it(tmp_path: Path) -> None:
    ports = RtpPorts(36000, 2000, HOST)
    a_port, b_port = ports.acquire(), ports.acquire()
    loop = asyncio.get_running_loop()
    relay_transport, relay = await loop.create_datagram_endpoint(
        lambda: Relay((HOST, b_port)), local_addr=(HOST, 0)
    )
    relay_port = relay_transport.get_extra_info("sockname")[1]

    def config(local: int, remote: int, *, vad: bool) -> StreamConfig:
        return StreamConfig(
            HOST, local, HOST, remote, "PCMU", 0, {0: "PCMU"},
            vad=vad, send_cn_payload_type=13, receive_cn_payload_type=13,
        )  # fmt: skip

    a = RtpStream(config(a_port, relay_port, vad=True), BurstySource(), WavSink(tmp_path / "a.wav", RATE))
    b = RtpStream(config(b_port, relay_port, vad=False), BurstySource(), WavSink(tmp_path / "b.wav", RATE))
    try:
        await b.start()
        await a.start()
        await asyncio.sleep(3 * 1.6 + 0.3)
    finally:
        await a.stop()
        await b.stop()
        relay_transport.close()

    packets = relay.packets
    kinds = [p.payload_type for p in packets]
    assert set(kinds) == {0, 13}
    # runs of voice between comfort noise: each whole talkspurt is the tone and 200 ms of hangover
    runs: list[list[RtpPacket]] = [[]]
    for packet in packets:
        if packet.payload_type == 13:
            runs.append([])
        else:
            runs[-1].append(packet)
    talkspurts = [run for run in runs[1:-1] if run]
    assert len(talkspurts) >= 2
    assert all(len(run) == TONE_FRAMES + 10 for run in talkspurts)
    assert all(run[0].marker and not any(p.marker for p in run[1:]) for run in talkspurts)
    assert packets[0].marker and not any(p.marker for p in runs[0][1:])  # the call's first packet
    # comfort noise: at the start of each silence, then every 400 ms on the same timeline
    noise = [p for p in packets if p.payload_type == 13]
    assert all(abs(ComfortNoise.parse(p.payload).level + NOISE_DBOV) <= 2 for p in noise)
    for first, second in itertools.pairwise(noise):
        if second.sequence == (first.sequence + 1) % 65536:  # two CN packets of one silence
            assert (second.timestamp - first.timestamp) % 2**32 == 20 * 160
    silences = len(talkspurts) + 1
    assert silences * 2 <= len(noise) <= silences * 3  # 800 ms of each silence: CN at 0 and 400 ms
    sequences = [p.sequence for p in packets]
    assert all((y - x) % 65536 == 1 for x, y in itertools.pairwise(sequences))
    # half the packets of a call like this are saved
    assert len(packets) < 0.65 * (3 * 1.6 + 0.3) / 0.02

    # B played the silences as noise at the background's level, and counted nothing lost
    assert len(noise) - 1 <= b.stats.comfort_noise_received <= len(noise)  # the last may still be buffered
    assert b.jitter.stats.lost == 0
    levels = frame_levels(tmp_path / "b.wav")
    heard = levels[np.argmax(levels > -30) :]  # from the first tone on
    loud, quiet = heard[heard > -30], heard[heard <= -30]
    assert abs(float(np.median(loud)) - TONE_DBOV) < 1.5
    assert abs(float(np.median(quiet)) - NOISE_DBOV) < 3
    assert float(np.min(heard)) > -60  # no frame of dead air: comfort noise filled every silence


async def test_without_negotiated_cn_vad_sends_every_frame(tmp_path: Path) -> None:
    """The peer did not take CN: a silence it cannot fill would sound like a dropped call, so send it."""
    ports = RtpPorts(36000, 2000, HOST)
    a_port, b_port = ports.acquire(), ports.acquire()
    loop = asyncio.get_running_loop()
    relay_transport, relay = await loop.create_datagram_endpoint(
        lambda: Relay((HOST, b_port)), local_addr=(HOST, 0)
    )
    relay_port = relay_transport.get_extra_info("sockname")[1]
    config = StreamConfig(HOST, a_port, HOST, relay_port, "PCMU", 0, {0: "PCMU"}, vad=True)
    a = RtpStream(config, BurstySource(), WavSink(tmp_path / "a.wav", RATE))
    try:
        await a.start()
        await asyncio.sleep(1.0)
    finally:
        await a.stop()
        relay_transport.close()
    assert len(relay.packets) >= 40 and {p.payload_type for p in relay.packets} == {0}
    assert a.stats.comfort_noise_sent == 0
