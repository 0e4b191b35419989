"""The stream's RTP socket, read by the tick: packets keep their kernel arrival time, read however late."""

from __future__ import annotations

import asyncio
import socket
import sys
import time

import pytest

from portier.media.rtp_socket import MAX_READS, RtpSocket, bind

HOST = "127.0.0.1"


def test_packets_read_late_keep_the_time_they_arrived() -> None:
    rtp = RtpSocket(bind(HOST, 0, dscp=46))
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if sys.platform.startswith("linux"):
            assert rtp.stamped, "SO_TIMESTAMPNS should be on for Linux"
        assert rtp.sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) == 46 << 2
        address = rtp.sock.getsockname()
        peer.bind((HOST, 0))
        for n in range(3):
            peer.sendto(bytes([n]) * 20, address)
        time.sleep(0.15)  # the tick comes late: the packets wait in the kernel
        got: list[tuple[bytes, tuple[str, int], float]] = []
        now = time.monotonic()
        assert rtp.drain(now, lambda data, addr, arrival: got.append((data, addr, arrival))) == 3
        assert [data[0] for data, _, _ in got] == [0, 1, 2]
        assert all(addr == peer.getsockname() for _, addr, _ in got)
        if rtp.stamped:
            assert all(now - 1.0 <= arrival <= now - 0.1 for _, _, arrival in got)  # when they came, not now
        assert rtp.drain(time.monotonic(), lambda *_: pytest.fail("nothing is waiting")) == 0
    finally:
        peer.close()
        rtp.close()


def test_a_flood_is_read_a_bounded_batch_at_a_time() -> None:
    rtp = RtpSocket(bind(HOST, 0, dscp=None))
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(MAX_READS + 10):
            peer.sendto(b"x" * 12, rtp.sock.getsockname())
        time.sleep(0.05)
        first = rtp.drain(time.monotonic(), lambda *_: None)
        second = rtp.drain(time.monotonic(), lambda *_: None)
        assert (first, second) == (MAX_READS, 10)  # the rest waits for the next tick, the loop is not held
    finally:
        peer.close()
        rtp.close()


async def test_sends_to_a_closed_port_do_not_break_the_stream() -> None:
    rtp = RtpSocket(bind(HOST, 0, dscp=None))
    nobody = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    nobody.bind((HOST, 0))
    gone = nobody.getsockname()
    nobody.close()
    try:
        assert all(rtp.send(b"x" * 12, gone) for _ in range(3))  # ICMP port unreachable comes back...
        await asyncio.sleep(0.05)
        assert rtp.drain(time.monotonic(), lambda *_: pytest.fail("an error is not a packet")) == 0
    finally:
        rtp.close()
