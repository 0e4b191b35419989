"""300 calls of 1 s with RTP, one after another, under SIPp: failures and resident memory, portier
beside baresip.

Goal (calls issue): 0 failed calls, and no growth of resident memory from before to after.

SIPp runs bench/scenarios/call_pcap_uac.xml (its ``uac_pcap`` shortened) ``--calls`` times with
``-l 1``: INVITE offering PCMA -> 200 -> ACK -> SIPp plays /usr/share/sip-tester/g711a.pcap at the
UA while the UA sends its own audio to SIPp's media port -> 1 s -> BYE -> 200. A call fails when
any answer is missing or wrong (SIPp waits 10 s for each).

Resident memory (VmRSS of /proc/PID/status) is read before the first call, twice a second during
the run (with SIPp's count of finished calls, from its statistics file), after the last call, and
after ``SETTLE`` seconds of quiet. "Growth" is after-settle minus the "warm" reading: once the first
tenth of the calls were done, or, with ``--warm-up N``, once N calls made before the measured ones
were done. Why a warm-up: the first calls load codecs, numpy and libopus, and a device's stores of
fixed size (portier's Device Log ring of 2000 lines, event history of 1000 events, SIP parse caches
of 1024 entries, call log of 1000 calls) fill during its first few hundred calls, and then stay that
size; a leak keeps growing after they are full. The growth during the warm-up is printed too. The
verdict allows ``TOLERANCE_KIB`` of noise (allocator pages), stated in the output.

    .venv/bin/python bench/call_soak.py [--calls 300] [--warm-up 0] [--targets portier,baresip] [--quick]

Exit code: 0 when every call of every UA succeeded, 1 when a call failed or a UA did not start,
2 when a peer is missing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _peers import (
    PeerMissing,
    Ua,
    UaTrouble,
    add_targets,
    check_targets,
    log_tail,
    machine,
    pcap_dir,
    require_tools,
    rss_kib,
    running_ua,
    sipp_version,
    start_sipp,
    stop,
)
from options_load import read_stats

CALL_MS = 1000
QUICK_CALLS = 3
SETTLE = 5.0
QUICK_SETTLE = 1.0
TOLERANCE_KIB = 1024
SAMPLE_EVERY = 0.5


@dataclass(frozen=True)
class Soak:
    ua: str
    calls: int
    succeeded: int
    failed: int
    rss_before: int
    rss_warm: int
    """KiB once the warm-up calls, or without them a tenth of the calls, were done."""
    rss_mid: int
    """KiB once half the measured calls were done."""
    rss_peak: int
    rss_after: int
    rss_settled: int
    log_errors: int
    """Lines of the UA's log that say ERROR or Traceback (portier) / error (baresip)."""
    seconds: float
    trend: tuple[int, ...] = ()
    """KiB after each tenth of the measured calls: whether growth goes on or levels off (bounded logs
    and caches fill during the first few hundred calls; a leak keeps going)."""
    warm_up: int = 0
    """Calls made before the measured ones (``--warm-up``); ``succeeded`` and ``failed`` count them too."""

    @property
    def total(self) -> int:
        return self.warm_up + self.calls

    @property
    def growth(self) -> int:
        return self.rss_settled - self.rss_warm

    @property
    def per_call_late(self) -> float:
        """KiB per call over the second half of the run: about 0 unless something is kept per call."""
        return (self.rss_after - self.rss_mid) / max(1, self.calls - self.calls // 2)

    @property
    def warm_up_growth(self) -> int:
        return self.rss_warm - self.rss_before


def count_errors(name: str, log: Path) -> int:
    text = log.read_bytes().decode(errors="replace") if log.exists() else ""
    pattern = r"\bERROR\b|Traceback" if name == "portier" else r"(?i)\berror\b"
    return sum(1 for line in text.splitlines() if re.search(pattern, line))


def finished(stats: Path) -> int:
    """Calls SIPp has finished so far (successful + failed), from its periodic statistics file."""
    try:
        row = read_stats(stats)
    except OSError:
        return 0
    return int(row.get("SuccessfulCall(C)", "0") or 0) + int(row.get("FailedCall(C)", "0") or 0)


def resident(ua: Ua) -> int:
    try:
        return rss_kib(ua.pid)
    except OSError as exc:
        raise UaTrouble(f"{ua.name}: gone ({exc}); its log ends:\n{log_tail(ua.log)}") from exc


def measure(
    name: str, sipp: str, calls: int, workdir: Path, settle: float = SETTLE, warm_up: int = 0
) -> Soak:
    """``warm_up`` calls, then ``calls`` measured ones, in one SIPp run (the UA sees no pause)."""
    measured, calls = calls, warm_up + calls
    lifetime = calls * (CALL_MS / 1000 + 1.0) + 90
    with running_ua(name, workdir, lifetime, codecs=("PCMA",)) as ua:
        directory = workdir / name / "sipp"
        directory.mkdir()
        pcap_dir(directory)
        time.sleep(1.0)
        before = resident(ua)
        stats = directory / "stat.csv"
        warm_mark = warm_up or max(1, measured // 10)
        started = time.monotonic()
        caller = start_sipp(sipp, "call_pcap_uac.xml", ua.port, directory, calls=calls, pause_ms=CALL_MS,
                            lifetime=lifetime - 30)  # fmt: skip
        samples: list[tuple[int, int]] = []
        try:
            while caller.poll() is None:
                if time.monotonic() - started > lifetime - 20:
                    raise UaTrouble(f"{name}: SIPp did not finish its {calls} calls in time")
                if ua.proc.poll() is not None:
                    raise UaTrouble(f"{name}: exited with {ua.proc.returncode} during the soak")
                samples.append((finished(stats), resident(ua)))
                time.sleep(SAMPLE_EVERY)
        finally:
            stop(caller)
        seconds = time.monotonic() - started
        after = resident(ua)
        time.sleep(settle)
        settled = resident(ua)
        row = read_stats(stats) if stats.exists() else {}
        if not row:
            raise UaTrouble(f"{name}: SIPp left no statistics\n{log_tail(directory / 'sipp.log')}")
        warm = next((rss for done, rss in samples if done >= warm_mark), after)
        mid = next((rss for done, rss in samples if done >= warm_up + measured // 2), after)
        marks = [warm_up + max(1, measured * tenth // 10) for tenth in range(1, 10)]
        trend = tuple(next((rss for done, rss in samples if done >= mark), after) for mark in marks)
        return Soak(
            ua=ua.version,
            calls=measured,
            succeeded=int(row.get("SuccessfulCall(C)", "0") or 0),
            failed=int(row.get("FailedCall(C)", "0") or 0),
            rss_before=before,
            rss_warm=warm,
            rss_mid=mid,
            rss_peak=max([rss for _, rss in samples] + [after]),
            rss_after=after,
            rss_settled=settled,
            log_errors=count_errors(name, ua.log),
            seconds=seconds,
            trend=(*trend, after),
            warm_up=warm_up,
        )


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def report(
    results: list[Soak], troubles: list[str], calls: int, sipp: str, host: str, settle: float = SETTLE,
    warm_up: int = 0,
) -> list[str]:
    warm = f"after the {warm_up} warm-up calls" if warm_up else f"after {max(1, calls // 10)} calls"
    lines = [
        "",
        f"Call soak: {sipp} UAC, {calls} calls of {CALL_MS / 1000:g} s with RTP both ways (PCMA; SIPp plays "
        "g711a.pcap), one after another"
        + (f", after {warm_up} warm-up calls the same way" if warm_up else ""),
        f"machine: {host}; SIPp and the UA under test share the CPUs; one UA after the other",
        f"resident memory (VmRSS, MiB): before the first call, {warm} (warm), half way through the measured "
        f"calls (mid), peak, after the last call, {settle:g} s later (settled); growth = settled - warm; "
        "KiB/call: (after - mid) / calls in the second half",
        "",
        f"{'UA':<16} {'ok':>5} {'failed':>7} {'s':>5} {'before':>7} {'warm':>7} {'mid':>7} {'peak':>7} "
        f"{'after':>7} {'settled':>8} {'growth KiB':>11} {'KiB/call':>9} {'log errors':>11}",
    ]
    for r in results:
        lines.append(
            f"{r.ua:<16} {r.succeeded:>5} {r.failed:>7} {r.seconds:>5.0f} {mib(r.rss_before):>7} "
            f"{mib(r.rss_warm):>7} {mib(r.rss_mid):>7} {mib(r.rss_peak):>7} {mib(r.rss_after):>7} "
            f"{mib(r.rss_settled):>8} {r.growth:>11} {r.per_call_late:>9.1f} {r.log_errors:>11}"
        )
    tenths = f"{max(1, calls // 10)}, {max(1, calls // 5)}, ... {calls}"
    lines += ["", f"VmRSS (MiB) after each tenth of the measured calls ({tenths}):"]
    lines += [f"  {r.ua:<16} " + " ".join(mib(kib) for kib in r.trend) for r in results]
    if warm_up:
        lines += ["", f"growth during the {warm_up} warm-up calls (warm - before, KiB):"]
        lines += [f"  {r.ua:<16} {r.warm_up_growth:+}" for r in results]
    lines += ["", f"load average {os.getloadavg()[0]:.2f} at the end", *troubles]
    ours = next((r for r in results if r.ua.startswith("portier")), None)
    if ours is None:
        lines.append("goal 0 failed and no memory growth: not judged (portier not measured)")
    else:
        calls_ok = ours.failed == 0 and ours.succeeded == ours.total
        memory_ok = ours.growth <= TOLERANCE_KIB
        lines.append(
            f"goal 0 failed: portier {ours.failed} failed, {ours.succeeded}/{ours.total} succeeded: "
            f"{'met' if calls_ok else 'NOT met'}; goal no growth (settled - warm <= {TOLERANCE_KIB} KiB): "
            f"portier {ours.growth:+} KiB: {'met' if memory_ok else 'NOT met'}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300, help="calls per UA (default 300)")
    parser.add_argument("--warm-up", type=int, default=0, metavar="N",
                        help="N calls first; growth is counted from after them")  # fmt: skip
    add_targets(parser)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_CALLS} calls per UA, {QUICK_SETTLE:g} s settle: proves it runs")
    args = parser.parse_args(argv)
    calls = QUICK_CALLS if args.quick else args.calls
    warm_up = min(args.warm_up, QUICK_CALLS) if args.quick else args.warm_up
    if warm_up < 0 or calls < 1:
        parser.error("--calls must be at least 1 and --warm-up at least 0")
    settle = QUICK_SETTLE if args.quick else SETTLE
    check_targets(parser, args.targets)
    sipp = require_tools("call_soak", args.targets)
    if sipp is None:
        return 2
    host = machine()
    version = sipp_version(sipp)
    workdir = Path(tempfile.mkdtemp(prefix="portier-call-soak-"))
    results: list[Soak] = []
    troubles: list[str] = []
    try:
        for name in args.targets:
            try:
                results.append(measure(name, sipp, calls, workdir, settle, warm_up))
                r = results[-1]
                print(f"  {name}: {r.succeeded} ok, {r.failed} failed", flush=True)
            except (UaTrouble, PeerMissing, subprocess.SubprocessError) as exc:
                troubles.append(str(exc))
                print(f"  {exc}", flush=True)
        print("\n".join(report(results, troubles, calls, version, host, settle, warm_up)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bad = any(r.failed or r.succeeded != r.total for r in results)
    return 1 if troubles or bad else 0


if __name__ == "__main__":
    sys.exit(main())
