"""Multicast paging from a call button (Table 23) and multicast RTP itself.

A MULTICAST button pages its address:port with its codec; a PTT button with the Multicast subtype
pages while held. The audio is decoded here with the standard library's G.711 (not portier's) and
checked by FFT. On the host the page goes to a unicast loopback address; the group path (join,
TTL, loop) is proven inside a network namespace that has only loopback, with a route for 224/4 on
``lo``, so no datagram can leave the machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

from .device import running_device
from .netns import LoopbackNamespace
from .peers import require
from .sipp import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # independent G.711 decoder (stdlib, removed only in 3.13)


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.argmax(spectrum) * rate / samples.size)


class Receiver:
    """A plain UDP socket on 127.0.0.1 collecting RTP packets."""

    def __init__(self) -> None:
        self.port = free_port("udp")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.setblocking(False)
        self.packets: list[bytes] = []

    def drain(self) -> list[bytes]:
        while True:
            try:
                self.packets.append(self.sock.recv(2048))
            except BlockingIOError:
                return self.packets

    def close(self) -> None:
        self.sock.close()


def check_pcmu_440(packets: list[bytes]) -> None:
    assert len(packets) >= 20, f"only {len(packets)} RTP packets arrived"
    headers = [(p[1] & 0x7F, int.from_bytes(p[2:4], "big"), int.from_bytes(p[4:8], "big")) for p in packets]
    assert {pt for pt, _, _ in headers} == {0}, "the page is not PCMU (payload type 0)"
    steps = {(b[1] - a[1]) & 0xFFFF for a, b in itertools.pairwise(headers)}
    ticks = {(b[2] - a[2]) & 0xFFFFFFFF for a, b in itertools.pairwise(headers)}
    assert steps == {1} and ticks == {160}, (steps, ticks)
    pcm = np.frombuffer(b"".join(audioop.ulaw2lin(p[12:], 2) for p in packets), dtype=np.int16).astype(float)
    hz = peak_hz(pcm, 8000)
    assert abs(hz - 440) <= 4.4, f"the page carries {hz:.1f} Hz, not 440 Hz"


async def test_a_multicast_button_pages_and_a_second_press_ends_it(tmp_path: Path) -> None:
    receiver = Receiver()
    values = {"Fkey2 Type": 14, "Fkey2 Subtype": 11, "Fkey2 Value": f"127.0.0.1:{receiver.port}"}  # G.711U
    try:
        async with running_device(tmp_path / "dut", values, audio_in="tone:440") as dut:
            door = dut.device.service("door")
            door.press(2)
            door.release(2)
            await asyncio.sleep(1.0)
            door.press(2)
            door.release(2)
            await asyncio.sleep(0.3)
            during = len(receiver.drain())
            await asyncio.sleep(0.5)
            after = len(receiver.drain())
        assert after == during, f"{after - during} packets after the second press ended the page"
        check_pcmu_440(receiver.packets)
    finally:
        receiver.close()


async def test_a_ptt_multicast_button_pages_while_held(tmp_path: Path) -> None:
    receiver = Receiver()
    values = {"Fkey3 Type": 16, "Fkey3 Subtype": 3, "Fkey3 Value": f"127.0.0.1:{receiver.port}"}
    try:
        async with running_device(tmp_path / "dut", values, audio_in="tone:440") as dut:
            door = dut.device.service("door")
            door.press(3)
            await asyncio.sleep(1.0)
            door.release(3)
            await asyncio.sleep(0.3)
            held = len(receiver.drain())
            await asyncio.sleep(0.5)
            assert len(receiver.drain()) == held, "packets kept coming after the release"
        check_pcmu_440(receiver.packets)
    finally:
        receiver.close()


GROUP_SCRIPT = r"""
import asyncio, json, socket, struct, sys
from portier.media.audio import ToneSource
from portier.media.multicast import MulticastListener, MulticastSender

class Collect:
    def __init__(self): self.frames = []
    def write(self, samples): self.frames.append(samples)
    def close(self): pass

async def main(group, port):
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # an independent member of the group
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    raw.bind((group, port))
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                   struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0")))
    raw.setblocking(False)
    sink = Collect()
    listener = MulticastListener(group, port, {0: "PCMU"}, sink)
    await listener.start()
    sender = MulticastSender(group, port, "PCMU", ToneSource(440.0, 8000))
    await sender.start()
    await asyncio.sleep(1.0)
    await sender.stop()
    await asyncio.sleep(0.1)
    await listener.stop()
    packets = []
    while True:
        try: packets.append(raw.recv(2048).hex())
        except BlockingIOError: break
    print(json.dumps({"sent": sender.sent, "heard": listener.received, "raw": packets}))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def test_multicast_rtp_reaches_the_group_inside_a_loopback_namespace(
    loopback_namespace: LoopbackNamespace,
) -> None:
    ip = require("ip")
    for command in (["link", "set", "lo", "multicast", "on"], ["route", "add", "224.0.0.0/4", "dev", "lo"]):
        subprocess.run([ip, "-n", loopback_namespace.name, *command], check=True, timeout=10)
    result = loopback_namespace.run([sys.executable, "-c", GROUP_SCRIPT, "239.255.42.1", "40000"], timeout=30)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sent"] >= 40, report["sent"]
    assert report["heard"] >= report["sent"] - 2, f"the listener heard {report['heard']} of {report['sent']}"
    check_pcmu_440([bytes.fromhex(p) for p in report["raw"]])
