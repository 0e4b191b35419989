"""RTP keep-alive (RFC 6263) on loopback: a stream that sends no media still sends a packet every interval.

A plain UDP socket stands for the peer's NAT binding and records what arrives; a second real stream
checks that a receiver takes the keep-alives for what they are (latched on, never played).
"""

from __future__ import annotations

import asyncio
import itertools

import numpy as np

from portier.media.audio import NullSink, NullSource, ToneSource
from portier.media.comfort_noise import SILENT, ComfortNoise
from portier.media.ports import RtpPorts
from portier.media.rtp import RtpPacket
from portier.media.session import RtpStream, StreamConfig

HOST = "127.0.0.1"
INTERVAL = 0.2


class Recorder(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, RtpPacket]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.arrivals.append((asyncio.get_running_loop().time(), RtpPacket.parse(data)))


async def record(config: StreamConfig, seconds: float, source: NullSource | ToneSource | None = None,
                 ) -> tuple[RtpStream, list[tuple[float, RtpPacket]]]:  # fmt: skip
    """Run a stream towards a recording socket at ``config.remote_port`` for ``seconds``."""
    loop = asyncio.get_running_loop()
    transport, recorder = await loop.create_datagram_endpoint(Recorder, local_addr=(HOST, config.remote_port))
    stream = RtpStream(config, source or NullSource(), NullSink())
    try:
        await stream.start()
        await asyncio.sleep(seconds)
    finally:
        await stream.stop()
        transport.close()
    return stream, recorder.arrivals


def pair() -> tuple[int, int]:
    ports = RtpPorts(40000, 2000, HOST)
    return ports.acquire(), ports.acquire()


async def test_a_stream_that_only_receives_sends_empty_packets_of_an_unused_type() -> None:
    local, remote = pair()
    config = StreamConfig(HOST, local, HOST, remote, "PCMU", 0, {0: "PCMU", 8: "PCMA"}, sends=False,
                          send_dtmf_payload_type=101, receive_dtmf_payload_type=101, keep_alive=True,
                          keep_alive_interval=INTERVAL)  # fmt: skip
    stream, arrivals = await record(config, 1.1)
    packets = [packet for _, packet in arrivals]
    assert 3 <= len(packets) <= 6 and stream.stats.keep_alives_sent == len(packets)
    assert {p.payload_type for p in packets} == {127}  # none of 0, 8 or 101: the peer plays nothing
    assert all(p.payload == b"" and p.ssrc == stream.ssrc for p in packets)
    assert all((b.sequence - a.sequence) % 65536 == 1 for a, b in itertools.pairwise(packets))
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(arrivals)]
    assert all(gap > INTERVAL * 0.7 for gap in gaps)  # one per interval, not one per tick


async def test_with_cn_negotiated_the_keep_alive_is_comfort_noise() -> None:
    local, remote = pair()
    config = StreamConfig(HOST, local, HOST, remote, "PCMU", 0, {0: "PCMU"}, sends=False, receives=False,
                          send_cn_payload_type=13, keep_alive=True, keep_alive_interval=INTERVAL)  # fmt: skip
    _, arrivals = await record(config, 0.7)
    packets = [packet for _, packet in arrivals]
    assert len(packets) >= 2 and {p.payload_type for p in packets} == {13}
    assert all(ComfortNoise.parse(p.payload) == ComfortNoise(SILENT) for p in packets)  # held: silence


async def test_no_keep_alive_while_media_or_comfort_noise_flows() -> None:
    local, remote = pair()
    talking = StreamConfig(HOST, local, HOST, remote, "PCMU", 0, {0: "PCMU"}, keep_alive=True,
                           keep_alive_interval=INTERVAL)  # fmt: skip
    stream, arrivals = await record(talking, 0.6, ToneSource(440, 8000))
    assert stream.stats.keep_alives_sent == 0 and {p.payload_type for _, p in arrivals} == {0}
    local, remote = pair()
    quiet = StreamConfig(HOST, local, HOST, remote, "PCMU", 0, {0: "PCMU"}, vad=True, send_cn_payload_type=13,
                         keep_alive=True, keep_alive_interval=0.6)  # fmt: skip
    stream, arrivals = await record(quiet, 1.3)  # silence: CN every 400 ms is keep-alive enough
    assert stream.stats.keep_alives_sent == 0
    assert stream.stats.comfort_noise_sent == len(arrivals) >= 3


async def test_the_receiver_latches_onto_keep_alives_and_plays_nothing_of_them() -> None:
    ports = RtpPorts(42000, 2000, HOST)
    a_port, b_port, elsewhere = ports.acquire(), ports.acquire(), ports.acquire()
    quiet = StreamConfig(HOST, a_port, HOST, b_port, "PCMU", 0, {0: "PCMU"}, sends=False, keep_alive=True,
                         keep_alive_interval=INTERVAL)  # fmt: skip
    listener = StreamConfig(HOST, b_port, HOST, elsewhere, "PCMU", 0, {0: "PCMU"})  # signalled elsewhere
    heard: list[np.typing.NDArray[np.int16]] = []

    class Sink(NullSink):
        def write(self, samples: np.typing.NDArray[np.int16]) -> None:
            heard.append(samples)

    a = RtpStream(quiet, NullSource(), NullSink())
    b = RtpStream(listener, ToneSource(440, 8000), Sink())
    try:
        await b.start()
        await a.start()
        await asyncio.sleep(0.9)
    finally:
        await a.stop()
        await b.stop()
    assert b.stats.received == b.stats.ignored >= 3
    assert b.remote == (HOST, a_port)  # latched: its audio now goes where the keep-alives came from
    assert a.stats.received > 10  # ...and arrives
    assert b.jitter.stats.received == 0 and b.jitter.stats.lost == 0
    assert heard and not any(frame.any() for frame in heard)  # silence, and no concealment of "lost" audio
