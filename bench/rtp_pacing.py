"""RTP send pacing at 20 ms ptime while the other CPU is kept busy: portier beside baresip.

Goal (calls issue): over 60 s, the p99 deviation of the inter-packet interval from 20 ms <= 1 ms.

SIPp (bench/scenarios/call_uac.xml) calls the UA offering only PCMU with ``m=audio P``, where P is
a UDP socket of this script on 127.0.0.1; the UA answers at once and sends its audio (portier a
440 Hz tone, baresip a 1 kHz WAV) to P. Arrival times are the kernel's receive timestamps
(SO_TIMESTAMPNS), which on loopback are taken inside the UA's send, so they time the UA's pacing and
not this script's scheduling. The UA runs alone on one CPU; a Python busy loop keeps the other CPU
100 % busy, and this script (the receiver) and SIPp share that busy CPU. After 1 s of warm-up,
``--seconds`` of packets are kept; each interval between consecutive sequence numbers is compared
with 20 ms. The UAs are measured one after the other. Pinning cannot keep the machine's other
processes off the UA's CPU, so /proc/stat says how much of it they took ("other %"); above
``DISTURBED`` % the output flags the run.

    .venv/bin/python bench/rtp_pacing.py [--seconds 60] [--targets portier,baresip] [--quick]

Exit code: 0 when every UA was measured, 1 when one failed (no call, no RTP), 2 when a peer
(sipp, baresip, taskset, timeout) is missing. Whether the goal is met is printed, not signalled.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from _peers import (
    RtpPeer,
    UaTrouble,
    add_targets,
    busy_loop,
    check_targets,
    cpu_seconds,
    cpu_ticks,
    default_core,
    log_tail,
    machine,
    require_tools,
    running_ua,
    sipp_version,
    start_sipp,
    stop,
)
from options_load import percentile, read_stats

GOAL_MS = 1.0
PTIME_MS = 20.0
WARMUP = 1.0
QUICK_SECONDS = 2.0
DISTURBED = 5.0
"""% of the UA's CPU taken by other work above which the run is flagged as disturbed."""


@dataclass(frozen=True)
class Pacing:
    """What one UA's packets showed."""

    name: str
    packets: int
    deviations_ms: list[float]
    gaps: int
    """Consecutive arrivals whose sequence numbers are not consecutive (loss or reordering): skipped."""
    mean_interval_ms: float
    ua_cpu: float = 0.0
    """% of its CPU the UA itself used during the window."""
    other_cpu: float = 0.0
    """% of the UA's CPU that other processes and interrupts used during the window (should be ~0)."""
    steal: float = 0.0
    """% of the window the hypervisor kept the UA's CPU from this VM."""

    @property
    def p50(self) -> float | None:
        return percentile(self.deviations_ms, 0.50)

    @property
    def p99(self) -> float | None:
        return percentile(self.deviations_ms, 0.99)

    @property
    def worst(self) -> float | None:
        return max(self.deviations_ms, default=None)


def pacing(
    name: str, arrivals: Sequence[tuple[int, int, int]], seconds: float, warmup: float = WARMUP
) -> Pacing:
    """Deviation |interval - 20 ms| of each pair of consecutive packets within ``seconds`` after warm-up.

    ``arrivals`` are (arrival ns, sequence number, payload type) in arrival order."""
    if not arrivals:
        return Pacing(name, 0, [], 0, 0.0)
    start = arrivals[0][0] + round(warmup * 1e9)
    end = start + round(seconds * 1e9)
    kept = [a for a in arrivals if start <= a[0] <= end]
    deviations, gaps, intervals = [], 0, []
    for (t1, seq1, _), (t2, seq2, _) in itertools.pairwise(kept):
        if (seq2 - seq1) % 65536 != 1:
            gaps += 1
            continue
        interval = (t2 - t1) / 1e6
        intervals.append(interval)
        deviations.append(abs(interval - PTIME_MS))
    mean = sum(intervals) / len(intervals) if intervals else 0.0
    return Pacing(name, len(kept), deviations, gaps, mean)


def measure(
    name: str, sipp: str, seconds: float, workdir: Path, cores: tuple[int | None, int | None]
) -> Pacing:
    """One call to ``name``; raises UaTrouble when the call or its RTP does not happen."""
    ua_core, busy_core = cores
    lifetime = seconds + WARMUP + 60
    with running_ua(name, workdir, lifetime, core=ua_core) as ua:
        directory = workdir / name / "sipp"
        directory.mkdir()
        busy = busy_loop(busy_core, lifetime) if busy_core is not None else None
        peer = RtpPeer().start()
        pause_ms = round((WARMUP + seconds + 1.5) * 1000)
        keys = {"rtp_port": str(peer.port), "pt": "0", "rtpmap": "PCMU/8000"}
        caller = start_sipp(sipp, "call_uac.xml", ua.port, directory, pause_ms=pause_ms, keys=keys,
                            lifetime=lifetime)  # fmt: skip
        try:
            if not peer.wait_first(15):
                raise UaTrouble(f"{name}: no RTP arrived within 15 s of the INVITE\n{log_tail(ua.log)}")
            first = time.monotonic()
            time.sleep(WARMUP)
            shared = Shared(ua.pid, ua_core)
            while time.monotonic() < first + WARMUP + seconds + 0.2:
                if ua.proc.poll() is not None:
                    raise UaTrouble(f"{name}: exited with {ua.proc.returncode} during the call")
                time.sleep(0.2)
            usage = shared.done()
            try:
                caller.wait(timeout=15)
            except subprocess.TimeoutExpired as exc:
                raise UaTrouble(f"{name}: SIPp's call did not end (BYE unanswered?)") from exc
            row = read_stats(directory / "stat.csv") if (directory / "stat.csv").exists() else {}
            if row.get("SuccessfulCall(C)") != "1":
                failed = row.get("FailedCall(C)", "?")
                said = log_tail(directory / "sipp.log")
                raise UaTrouble(f"{name}: SIPp's call failed ({failed} failed)\n{said}")
        finally:
            stop(caller)
            peer.close()
            if busy is not None:
                stop(busy)
        ua_cpu, other_cpu, steal = usage
        result = replace(pacing(ua.version, list(peer.arrivals), seconds),
                         ua_cpu=ua_cpu, other_cpu=other_cpu, steal=steal)  # fmt: skip
        if not peer.kernel_clock:
            print("  (no kernel timestamps here: arrival times are time.time_ns() in the receiver)")
        return result


class Shared:
    """How much of the UA's CPU went to the UA, to other work, and to the hypervisor, from now on."""

    def __init__(self, pid: int, core: int | None) -> None:
        self.pid, self.core = pid, core
        self.start = time.monotonic()
        self.ua = cpu_seconds(pid)
        self.ticks = cpu_ticks(core) if core is not None else (0, 0, 0)

    def done(self) -> tuple[float, float, float]:
        """(UA %, other work %, steal %) of the time since construction; others are 0 when unpinned."""
        elapsed = time.monotonic() - self.start
        ua = 100 * (cpu_seconds(self.pid) - self.ua) / elapsed
        if self.core is None:
            return ua, 0.0, 0.0
        busy, steal, _ = (now - then for now, then in zip(cpu_ticks(self.core), self.ticks, strict=True))
        tick = os.sysconf("SC_CLK_TCK")
        return ua, max(0.0, 100 * busy / tick / elapsed - ua), 100 * steal / tick / elapsed


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def report(results: list[Pacing], troubles: list[str], seconds: float, cores: str, host: str) -> list[str]:
    lines = [
        "",
        f"RTP send pacing: PCMU, ptime {PTIME_MS:g} ms, {seconds:g} s after {WARMUP:g} s warm-up; "
        "deviation = |interval - 20 ms| between consecutive packets (kernel receive timestamps)",
        f"machine: {host}; {cores}",
        "",
        f"{'UA':<16} {'packets':>8} {'gaps':>5} {'mean ms':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'> 2 ms':>7} {'UA CPU %':>9} {'other %':>8} {'steal %':>8}",
    ]
    for r in results:
        late = sum(1 for d in r.deviations_ms if d > 2.0)
        lines.append(f"{r.name:<16} {r.packets:>8} {r.gaps:>5} {r.mean_interval_ms:>9.3f} "
                     f"{fmt(r.p50):>8} {fmt(r.p99):>8} {fmt(r.worst):>8} {late:>7} "
                     f"{r.ua_cpu:>9.1f} {r.other_cpu:>8.1f} {r.steal:>8.1f}")  # fmt: skip
    lines += [
        "(> 2 ms: intervals off by more than 2 ms; other %: the UA's CPU busy with anything but the UA, "
        "which should be ~0; steal %: time the hypervisor took that CPU away)",
        f"load average {os.getloadavg()[0]:.2f} at the end",
        "",
        *troubles,
    ]
    for r in results:
        if r.other_cpu > DISTURBED:
            lines.append(f"NOTE: other work used {r.other_cpu:.0f} % of the UA's CPU during {r.name}'s "
                         "window: its figures show that work too; rerun on a quiet machine")  # fmt: skip
    ours = next((r for r in results if r.name.startswith("portier")), None)
    if ours is None or ours.p99 is None:
        lines.append(f"goal p99 <= {GOAL_MS:g} ms: not judged (portier not measured)")
    else:
        verdict = "met" if ours.p99 <= GOAL_MS else "NOT met"
        lines.append(f"goal p99 <= {GOAL_MS:g} ms: portier p99 {ours.p99:.3f} ms: {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time per UA (default 60)")
    add_targets(parser)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:g} s per UA: proves it runs")
    args = parser.parse_args(argv)
    seconds = QUICK_SECONDS if args.quick else args.seconds
    check_targets(parser, args.targets)
    sipp = require_tools("rtp_pacing", args.targets, "taskset")
    if sipp is None:
        return 2
    host = machine()
    allowed = os.sched_getaffinity(0)
    ua_core = default_core()
    others = sorted(allowed - {ua_core}) if ua_core is not None else []
    busy_core = others[0] if others else None
    cores = (f"UA alone on CPU {ua_core}; busy loop, receiver and SIPp on CPU {busy_core}"
             if busy_core is not None else "one CPU only: no busy loop, everything shares it")  # fmt: skip
    print(f"rtp_pacing: {sipp_version(sipp)}; {cores}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="portier-rtp-pacing-"))
    results: list[Pacing] = []
    troubles: list[str] = []
    try:
        if busy_core is not None:
            os.sched_setaffinity(0, {busy_core})
        for name in args.targets:
            try:
                results.append(measure(name, sipp, seconds, workdir, (ua_core, busy_core)))
                print(f"  {name}: {results[-1].packets} packets", flush=True)
            except UaTrouble as exc:
                troubles.append(str(exc))
                print(f"  {exc}", flush=True)
        print("\n".join(report(results, troubles, seconds, cores, host)))
    finally:
        os.sched_setaffinity(0, allowed)
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if troubles else 0


if __name__ == "__main__":
    sys.exit(main())
