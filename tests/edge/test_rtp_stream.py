"""Two RTP streams on loopback exchange real audio; what each records is checked by FFT."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from portier.media.audio import NullSink, ToneSource, WavSink
from portier.media.codecs import available
from portier.media.ports import RtpPorts
from portier.media.session import RtpStream, SrtpKeys, StreamConfig

HOST = "127.0.0.1"
CODECS = [("PCMU", 0), ("PCMA", 8), ("G722", 9), ("G726-32", 114), ("opus", 107)]


def peak_hz(path: Path) -> tuple[float, float]:
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    active = samples[rate // 4 :]  # skip the jitter buffer's start
    spectrum = np.abs(np.fft.rfft(active * np.hanning(active.size)))
    return float(np.argmax(spectrum) * rate / active.size), active.size / rate


@pytest.mark.parametrize(("codec", "payload_type"), CODECS)
async def test_audio_both_ways(tmp_path: Path, codec: str, payload_type: int) -> None:
    if codec not in available():
        pytest.fail(f"{codec} is not available here: the test command installs what it needs")
    ports = RtpPorts(30000, 2000, HOST)
    a_port, b_port = ports.acquire(), ports.acquire()
    rate = available()[codec].sample_rate if codec != "opus" else 8000

    def config(local: int, remote: int) -> StreamConfig:
        return StreamConfig(
            HOST,
            local,
            HOST,
            remote,
            codec,
            payload_type,
            {payload_type: codec},
            send_dtmf_payload_type=101,
            receive_dtmf_payload_type=101,
            codec_options={"opus": {"sample_rate": 8000}},
        )

    digits: list[str] = []
    a = RtpStream(config(a_port, b_port), ToneSource(440, rate), WavSink(tmp_path / "a.wav", rate))
    b = RtpStream(
        config(b_port, a_port),
        ToneSource(1000, rate),
        WavSink(tmp_path / "b.wav", rate),
        lambda digit, method: digits.append(f"{digit}:{method}"),
    )
    await a.start()
    await b.start()
    await asyncio.sleep(1.0)
    a.send_dtmf("7")
    await asyncio.sleep(0.5)
    await a.stop()
    await b.stop()
    heard_by_a, seconds = peak_hz(tmp_path / "a.wav")
    heard_by_b, _ = peak_hz(tmp_path / "b.wav")
    assert abs(heard_by_a - 1000) < 10 and abs(heard_by_b - 440) < 4.4, (heard_by_a, heard_by_b)
    assert seconds > 1.0
    assert digits == ["7:rfc4733"]
    assert a.stats.sent > 60 and b.stats.received > 60


async def test_inband_dtmf_both_ways_without_telephone_event() -> None:
    ports = RtpPorts(32000, 2000, HOST)
    a_port, b_port = ports.acquire(), ports.acquire()

    def config(local: int, remote: int) -> StreamConfig:
        return StreamConfig(HOST, local, HOST, remote, "PCMU", 0, {0: "PCMU"}, inband_dtmf=True)

    heard: list[str] = []
    a = RtpStream(config(a_port, b_port), ToneSource(440, 8000, level=-30), NullSink())
    b = RtpStream(
        config(b_port, a_port),
        ToneSource(440, 8000, level=-30),
        NullSink(),
        lambda digit, method: heard.append(f"{digit}:{method}"),
    )
    await a.start()
    await b.start()
    await asyncio.sleep(0.3)
    for digit in "3#":
        a.send_tone_digit(digit)
    await asyncio.sleep(0.8)
    await a.stop()
    await b.stop()
    assert heard == ["3:inband", "#:inband"]


@pytest.mark.parametrize("suite", ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"])
async def test_srtp_both_ways_and_a_wrong_key_hears_nothing(tmp_path: Path, suite: str) -> None:
    ports = RtpPorts(34000, 2000, HOST)
    a_port, b_port, c_port = ports.acquire(), ports.acquire(), ports.acquire()
    key_a, key_b = bytes(range(30)), bytes(range(100, 130))

    def config(local: int, remote: int, send: bytes, receive: bytes) -> StreamConfig:
        return StreamConfig(
            HOST, local, HOST, remote, "PCMU", 0, {0: "PCMU"}, srtp=SrtpKeys(suite, send, receive)
        )

    a = RtpStream(
        config(a_port, b_port, key_a, key_b), ToneSource(440, 8000), WavSink(tmp_path / "a.wav", 8000)
    )
    b = RtpStream(
        config(b_port, a_port, key_b, key_a), ToneSource(1000, 8000), WavSink(tmp_path / "b.wav", 8000)
    )
    wrong = RtpStream(config(c_port, a_port, bytes(30), key_a), ToneSource(1000, 8000), NullSink())
    await a.start()
    await b.start()
    await wrong.start()
    await asyncio.sleep(1.0)
    wrong_sent = wrong.stats.sent
    await a.stop()
    await b.stop()
    await wrong.stop()
    assert abs(peak_hz(tmp_path / "a.wav")[0] - 1000) < 10
    assert abs(peak_hz(tmp_path / "b.wav")[0] - 440) < 4.4
    assert wrong_sent > 20 and a.stats.dropped >= 20  # the stranger's packets fail authentication
