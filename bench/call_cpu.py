"""CPU per established call, G.711 and opus, media both ways: portier beside baresip.

Goal (calls issue): one call costs <= 2 % of one core with G.711 and <= 4 % with opus.

For each UA and codec a fresh UA is started. Its idle CPU is measured first (``--seconds``, no
call); then SIPp (bench/scenarios/call_uac.xml) calls it offering that one codec (PCMU/8000 or
opus/48000/2) and telephone-event at its clock, as PBXs and phones offer, with the SDP's
``m=audio`` naming a UDP socket of this script. portier's DTMF Type AUTO then takes RFC 4733 and
does not listen for in-band tones; ``--inband-dtmf`` adds a portier G.711 row with DTMF Type
In-band, the cost when a peer offers no telephone-event. The UA sends its audio
there (portier a 440 Hz tone, baresip a 1 kHz WAV at the codec's rate so it does not resample), and
the script sends back, from the same socket, 20 ms packets of a real encoded 1 kHz tone (PCMU, or
opus encoded at 48 kHz by portier's own libopus encoder), paced by the clock. After 1 s of
warm-up the UA's user + system CPU time (all threads, /proc/PID/stat) is read over ``--seconds``;
the call's cost is that rate minus the idle rate, in % of one core. The packets each way during the
window are printed, so a call that carried no media cannot pass for a cheap one. Nothing is pinned:
/proc counts the UA's own time wherever it ran.

Before the UAs, a reference is taken the same way: a fresh Python process whose asyncio loop does
nothing but fire a timer every 20 ms, over the same window. That is the floor under any asyncio UA's
call (one wake-up per ptime), and on a shared VM it moves by up to 2 x from one minute to the next,
so it is printed beside the figures to say what the machine was like during the run.

    .venv/bin/python bench/call_cpu.py [--seconds 20] [--targets portier,baresip] [--quick] [--inband-dtmf]

Exit code: 0 when every UA was measured, 1 when a call failed, 2 when a peer is missing.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _peers import (
    RtpPeer,
    Ua,
    UaTrouble,
    add_targets,
    check_targets,
    cpu_seconds,
    log_tail,
    machine,
    require_tools,
    running_ua,
    sipp_version,
    start_sipp,
    stop,
    tone_wav,
)
from options_load import read_stats

from portier.media.codecs import encoder


@dataclass(frozen=True)
class Codec:
    name: str
    payload_type: int
    rtpmap: str
    clock_rate: int
    wav_rate: int
    wav_channels: int
    goal_percent: float
    encode_rate: int
    """Sample rate of the audio this script encodes and sends."""


CODECS = {
    "G.711": Codec("PCMU", 0, "PCMU/8000", 8000, 8000, 1, 2.0, 8000),
    "opus": Codec("opus", 107, "opus/48000/2", 48000, 48000, 2, 4.0, 48000),
}
WARMUP = 1.0
QUICK_SECONDS = 1.0
TIMER_PROBE = """
import asyncio, sys

async def main(seconds: float) -> None:
    loop = asyncio.get_running_loop()
    done, start, fired = loop.create_future(), loop.time(), 0

    def tick() -> None:
        nonlocal fired
        fired += 1
        if loop.time() - start >= seconds:
            done.set_result(None)
        else:
            loop.call_at(start + fired * 0.020, tick)

    loop.call_at(start, tick)
    await done

asyncio.run(main(float(sys.argv[1])))
"""


@dataclass(frozen=True)
class Cost:
    ua: str
    codec: str
    idle_percent: float
    call_percent: float
    sent_per_s: float
    """RTP packets per second the UA sent during the window."""
    received_per_s: float
    """RTP packets per second this script sent to the UA during the window."""

    @property
    def per_call(self) -> float:
        return self.call_percent - self.idle_percent


def payloads(codec: Codec) -> list[bytes]:
    """One second of a 1 kHz tone as 20 ms RTP payloads of ``codec``."""
    options = {"sample_rate": codec.encode_rate} if codec.name == "opus" else {}
    coder = encoder(codec.name, ptime_ms=20, **options)
    frame = coder.samples_per_packet
    samples = np.array([round(12000 * math.sin(2 * math.pi * 1000 * n / codec.encode_rate))
                        for n in range(codec.encode_rate)], dtype=np.int16)  # fmt: skip
    out = [coder.encode(samples[i : i + frame]) for i in range(0, len(samples) - frame + 1, frame)]
    return [payload for payload in out if payload]


def rate(pid: int, seconds: float) -> float:
    """% of one core ``pid`` used over the next ``seconds``."""
    start_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - start_cpu) / (time.monotonic() - start)


def timer_floor(seconds: float) -> float:
    """% of one core a bare asyncio timer firing every 20 ms costs right now (``TIMER_PROBE``)."""
    probe = subprocess.Popen([sys.executable, "-c", TIMER_PROBE, f"{WARMUP + seconds + 1:g}"])
    try:
        time.sleep(WARMUP)  # interpreter start-up is not part of it
        return rate(probe.pid, seconds)
    finally:
        try:
            probe.wait(timeout=10)
        except subprocess.TimeoutExpired:
            probe.kill()
            probe.wait()


def call_cost(ua: Ua, sipp: str, label: str, codec: Codec, seconds: float, directory: Path) -> Cost:
    idle = rate(ua.pid, seconds)
    peer = RtpPeer(payloads(codec), payload_type=codec.payload_type, ticks=codec.clock_rate // 50).start()
    keys = {"rtp_port": str(peer.port), "pt": str(codec.payload_type), "rtpmap": codec.rtpmap,
            "dtmf_rate": str(codec.clock_rate)}  # telephone-event at the codec's clock (RFC 4733 2.1)
    directory.mkdir()
    pause_ms = round((WARMUP + seconds + 0.5) * 1000)
    caller = start_sipp(sipp, "call_uac.xml", ua.port, directory, pause_ms=pause_ms, keys=keys,
                        lifetime=seconds + 40)  # fmt: skip
    try:
        if not peer.wait_first(15):
            raise UaTrouble(f"{ua.name} {label}: no RTP within 15 s of the INVITE\n{log_tail(ua.log)}")
        time.sleep(WARMUP)
        sent, received, start = len(peer.arrivals), peer.sent, time.monotonic()
        busy = rate(ua.pid, seconds)
        elapsed = time.monotonic() - start
        sent, received = len(peer.arrivals) - sent, peer.sent - received
        try:
            caller.wait(timeout=15)
        except subprocess.TimeoutExpired as exc:
            raise UaTrouble(f"{ua.name} {label}: SIPp's call did not end (BYE unanswered?)") from exc
        row = read_stats(directory / "stat.csv") if (directory / "stat.csv").exists() else {}
        if row.get("SuccessfulCall(C)") != "1":
            raise UaTrouble(f"{ua.name} {label}: SIPp's call failed\n{log_tail(directory / 'sipp.log')}")
        if ua.proc.poll() is not None:
            raise UaTrouble(f"{ua.name} {label}: exited with {ua.proc.returncode}\n{log_tail(ua.log)}")
    finally:
        stop(caller)
        peer.close()
    return Cost(ua.version, label, idle, busy, sent / elapsed, received / elapsed)


INBAND = "G.711i"
"""The row of ``--inband-dtmf``: G.711 with portier's P2P DTMF Type set to In-band."""


def measure(name: str, sipp: str, seconds: float, workdir: Path, inband: bool = False) -> list[Cost]:
    runs: list[tuple[str, Codec, dict[str, str]]] = [(label, codec, {}) for label, codec in CODECS.items()]
    if inband and name == "portier":
        runs.append((INBAND, CODECS["G.711"], {"P2P DTMF Mode": "0"}))
    costs = []
    for label, codec, settings in runs:
        directory = workdir / f"{name}-{label}"
        directory.mkdir()
        wav = tone_wav(directory / "tone.wav", 2 * seconds + 30, codec.wav_rate, codec.wav_channels)
        lifetime = 2 * seconds + 60
        with running_ua(name, directory, lifetime, wav=wav, codecs=(codec.name,), settings=settings) as ua:
            costs.append(call_cost(ua, sipp, label, codec, seconds, directory / "sipp"))
        print(f"  {name} {label}: {costs[-1].per_call:.2f} % per call", flush=True)
    return costs


def report(costs: list[Cost], troubles: list[str], seconds: float, host: str, floor: float) -> list[str]:
    lines = [
        "",
        f"CPU per established call: one call, media both ways, {seconds:g} s after {WARMUP:g} s warm-up; "
        "% of one core (user + system, /proc/PID/stat), idle UA measured first and subtracted",
        f"machine: {host}",
        f"reference: a bare asyncio timer every 20 ms (fresh Python, no work) cost {floor:.2f} % of one core",
        "",
        f"{'UA':<16} {'codec':<6} {'idle %':>7} {'in call %':>10} {'per call %':>11} "
        f"{'RTP out/s':>10} {'RTP in/s':>9}",
    ]
    for c in costs:
        lines.append(f"{c.ua:<16} {c.codec:<6} {c.idle_percent:>7.2f} {c.call_percent:>10.2f} "
                     f"{c.per_call:>11.2f} {c.sent_per_s:>10.1f} {c.received_per_s:>9.1f}")  # fmt: skip
    lines += ["", f"load average {os.getloadavg()[0]:.2f} at the end", *troubles]
    for label, codec in CODECS.items():
        ours = next((c for c in costs if c.ua.startswith("portier") and c.codec == label), None)
        goal = f"goal {label} <= {codec.goal_percent:g} % of one core"
        if ours is None:
            lines.append(f"{goal}: not judged (portier not measured)")
        else:
            verdict = "met" if ours.per_call <= codec.goal_percent else "NOT met"
            lines.append(f"{goal}: portier {ours.per_call:.2f} %: {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="idle and in-call window (default 20)")
    add_targets(parser)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:g} s windows: proves it runs")
    parser.add_argument("--inband-dtmf", action="store_true",
                        help=f"also portier G.711 listening for in-band DTMF (row {INBAND})")  # fmt: skip
    args = parser.parse_args(argv)
    seconds = QUICK_SECONDS if args.quick else args.seconds
    check_targets(parser, args.targets)
    sipp = require_tools("call_cpu", args.targets)
    if sipp is None:
        return 2
    host = machine()
    print(f"call_cpu: {sipp_version(sipp)}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="portier-call-cpu-"))
    costs: list[Cost] = []
    troubles: list[str] = []
    floor = timer_floor(seconds)
    print(f"  reference asyncio timer: {floor:.2f} %", flush=True)
    try:
        for name in args.targets:
            try:
                costs += measure(name, sipp, seconds, workdir, args.inband_dtmf)
            except UaTrouble as exc:
                troubles.append(str(exc))
                print(f"  {exc}", flush=True)
        print("\n".join(report(costs, troubles, seconds, host, floor)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if troubles else 0


if __name__ == "__main__":
    sys.exit(main())
