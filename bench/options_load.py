"""OPTIONS under SIPp load at a rising rate: the highest clean rate of portier beside baresip's.

Goal (SIP issue): >= 2,000 OPTIONS/s with 0 failed and p99 response < 10 ms, and no worse than
baresip 1.0 answering the same SIPp load. Each UA runs alone on 127.0.0.1 (portier first, then
baresip); SIPp (bench/scenarios/options_uac.xml, UDP) steps through the rates, a few seconds each,
and a UA's ramp stops at its first step that is not clean. SIPp and the UA under test share the
machine's CPUs, which the output states.

    .venv/bin/python bench/options_load.py [--seconds 3] [--rates 100,250,...] [--quick]

Exit code: 0 when every UA answered OPTIONS and was measured, 1 when one did not answer, 2 when a
peer (sipp, baresip) is missing. Whether the goal is met is printed, not signalled.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from _peers import LOOPBACK, PeerMissing, free_port, launch_baresip, machine, options_answer, require, stop

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "options_uac.xml"
RATES = (100, 250, 500, 1000, 2000, 3000, 4000, 6000, 8000)
QUICK_RATES = (100, 200)
P99_LIMIT_MS = 10
GOAL = 2000
GRACE = 5.0
"""Seconds a step may run past its sending time (the scenario fails a call after 2 s unanswered)."""
READY_TIMEOUT = 15.0


@dataclass(frozen=True)
class Step:
    """One SIPp run at one rate against one UA."""

    rate: int
    calls: int
    answered: int
    failed: int
    retransmissions: int
    p50_ms: float | None
    p99_ms: float | None
    achieved: float
    """Calls SIPp created per second of its run: below the rate when SIPp (or the UA) held it back."""
    killed: bool = False
    note: str = ""
    """What SIPp said when it left no statistics (a fatal error, usually)."""

    def problems(self) -> list[str]:
        found = [self.note] if self.note else []
        if self.killed:
            found.append("SIPp still busy at its deadline")
        if self.failed:
            found.append(f"{self.failed} failed")
        if self.calls - self.answered - self.failed > 0:
            found.append(f"{self.calls - self.answered - self.failed} calls never finished")
        if self.p99_ms is not None and self.p99_ms >= P99_LIMIT_MS:
            found.append(f"p99 >= {P99_LIMIT_MS} ms")
        if not found and self.achieved < 0.9 * self.rate:  # slow answers also stretch SIPp's run
            found.append(f"SIPp sent only {self.achieved:,.0f}/s")
        return found

    @property
    def clean(self) -> bool:
        return not self.problems() and self.p99_ms is not None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (the value at or below which ``fraction`` of the samples fall)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def read_stats(path: Path) -> dict[str, str]:
    """The last row of SIPp's ``-trace_stat`` CSV as {column: value}."""
    rows = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0].split(";"), rows[-1].split(";"), strict=False))


def _epoch(stamp: str) -> float:
    """SIPp writes times as 'date<TAB>clock<TAB>epoch'."""
    return float(stamp.split("\t")[-1])


def read_rtts(directory: Path) -> list[float]:
    """Every response time (ms) of SIPp's ``-trace_rtt`` file(s) in ``directory``."""
    rtts = []
    for path in directory.glob("*_rtt.csv"):
        for line in path.read_text(errors="replace").splitlines()[1:]:
            fields = line.split(";")
            if len(fields) >= 2 and fields[1].strip():
                rtts.append(float(fields[1]))
    return rtts


def run_step(sipp: str, port: int, rate: int, seconds: float, workdir: Path) -> Step:
    """SIPp sends ``rate`` OPTIONS per second for ``seconds`` to 127.0.0.1:port and waits for answers."""
    calls = max(1, round(rate * seconds))
    directory = Path(tempfile.mkdtemp(prefix=f"step-{rate}-", dir=workdir))
    stats = directory / "stat.csv"
    command = [
        sipp, "-sf", str(SCENARIO), "-s", "bench", "-t", "u1",
        "-i", LOOPBACK, "-p", str(free_port()), f"{LOOPBACK}:{port}",
        "-r", str(rate), "-rp", "1000", "-m", str(calls), "-nr", "-timeout", f"{seconds + GRACE:.0f}s",
        "-nostdin", "-trace_rtt", "-rtt_freq", "1", "-trace_stat", "-fd", "1", "-stf", str(stats),
        "-trace_err",
    ]  # fmt: skip
    killed, said = False, ""
    try:
        done = subprocess.run(command, cwd=directory, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=seconds + 2 * GRACE, check=False)
        said = done.stderr.decode(errors="replace").strip()
    except subprocess.TimeoutExpired:  # subprocess.run has killed SIPp (by its PID) and reaped it
        killed = True
    row = read_stats(stats) if stats.exists() else {}
    note = "" if row or killed else f"SIPp left no statistics: {said.splitlines()[-1] if said else 'silent'}"
    rtts = read_rtts(directory)
    created = int(row.get("TotalCallCreated", "0") or 0)
    elapsed = _epoch(row["CurrentTime"]) - _epoch(row["StartTime"]) if row else 0.0
    return Step(
        rate=rate,
        calls=calls,
        answered=int(row.get("SuccessfulCall(C)", "0") or 0),
        failed=int(row.get("FailedCall(C)", "0") or 0),
        retransmissions=int(row.get("Retransmissions(C)", "0") or 0),
        p50_ms=percentile(rtts, 0.50),
        p99_ms=percentile(rtts, 0.99),
        achieved=created / elapsed if elapsed > 0 else 0.0,
        killed=killed,
        note=note,
    )


def ramp(sipp: str, port: int, rates: Sequence[int], seconds: float, workdir: Path, name: str) -> list[Step]:
    """Step through ``rates`` until the first step that is not clean."""
    steps: list[Step] = []
    for rate in rates:
        step = run_step(sipp, port, rate, seconds, workdir)
        steps.append(step)
        print(f"  {name} {rate:>5}/s: {cell(step)}", flush=True)
        if not step.clean:
            break
        time.sleep(0.3)
    return steps


Launcher = Callable[[Path, int, float], "subprocess.Popen[bytes]"]


def _other_port(*taken: int) -> int:
    while True:
        port = free_port()
        if port not in taken:
            return port


def launch_portier(workdir: Path, port: int, lifetime: float) -> subprocess.Popen[bytes]:
    """``python -m portier run`` on SIP port ``port`` (TLS takes port + 1), bounded by coreutils timeout."""
    base = [sys.executable, "-m", "portier", "run"]
    usage = subprocess.run([*base, "--help"], capture_output=True, text=True, timeout=60, check=False).stdout
    command = [require("timeout"), "--kill-after=3", f"{lifetime:.0f}", *base,
               "--data", str(workdir / "portier-data"), "--sip-port", str(port),
               "--http", f"{LOOPBACK}:{_other_port(port, port + 1)}"]
    if "--sip-host" in usage:
        command += ["--sip-host", LOOPBACK]
    with (workdir / "portier.log").open("wb") as log:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


TARGETS: dict[str, Launcher] = {"portier": launch_portier, "baresip": launch_baresip}


@dataclass
class Outcome:
    name: str
    port: int
    steps: list[Step]
    trouble: str | None = None
    """Why the UA could not be measured (it never answered OPTIONS)."""
    version: str = ""

    @property
    def highest(self) -> int:
        return max((s.rate for s in self.steps if s.clean), default=0)


def _version(name: str, workdir: Path) -> str:
    if name == "baresip":
        text = (workdir / "baresip.log").read_bytes().decode(errors="replace")
        found = re.search(r"baresip v(\S+)", text)
        return f"baresip {found.group(1)}" if found else "baresip"
    found = re.search(r"portier (\S+) started", (workdir / "portier.log").read_text(errors="replace"))
    return f"portier {found.group(1)}" if found else "portier"


def measure(name: str, sipp: str, rates: Sequence[int], seconds: float, workdir: Path) -> Outcome:
    port = free_port(span=2)
    lifetime = READY_TIMEOUT + len(rates) * (seconds + 2 * GRACE + 1) + 30
    directory = workdir / name
    directory.mkdir()
    proc = TARGETS[name](directory, port, lifetime)
    outcome = Outcome(name, port, [])
    try:
        reason = options_answer(port, READY_TIMEOUT, proc)
        if reason is not None:
            outcome.trouble = f"not answering OPTIONS on {LOOPBACK}:{port} ({reason})"
            log = directory / f"{name}.log"
            tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
            print(f"{name}: {outcome.trouble}", *(f"    {line}" for line in tail), sep="\n", flush=True)
            return outcome
        outcome.version = _version(name, directory)
        outcome.steps = ramp(sipp, port, rates, seconds, directory, name)
    finally:
        stop(proc)
    return outcome


def cell(step: Step | None) -> str:
    if step is None:
        return "-"
    p50 = "-" if step.p50_ms is None else f"{step.p50_ms:.0f}"
    p99 = "-" if step.p99_ms is None else f"{step.p99_ms:.0f}"
    verdict = "ok" if step.clean else "; ".join(step.problems()) or "no response times"
    return f"{step.answered}/{step.calls} answered, {step.failed} failed, p50 {p50} p99 {p99} ms: {verdict}"


def report(outcomes: list[Outcome], seconds: float, sipp_version: str, host: str) -> list[str]:
    lines = [
        "",
        f"OPTIONS load: {sipp_version} UAC over UDP on {LOOPBACK}, {seconds:g} s per rate step",
        f"clean step = 0 failed (no retransmissions; a call fails without a 200 within 2 s), "
        f"p99 < {P99_LIMIT_MS} ms (SIPp times: whole ms), SIPp sent >= 90% of the rate",
        f"machine: {host}; SIPp and the UA under test run at the same time and share these CPUs; "
        "the UAs are measured one after the other",
        "",
    ]
    shown = [o for o in outcomes if not o.trouble]
    width = 30
    lines.append(f"{'':>7} | " + " | ".join(f"{o.version or o.name:<{width}}" for o in shown))
    heading = f"{'failed':>6}{'p50':>5}{'p99 ms':>8}  {'':<9}"
    lines.append(f"{'rate/s':>7} | " + " | ".join(heading for _ in shown))
    for rate in sorted({s.rate for o in shown for s in o.steps}):
        cells = []
        for o in shown:
            step = next((s for s in o.steps if s.rate == rate), None)
            if step is None:
                cells.append(f"{'':>6}{'':>5}{'':>8}  {'not run':<9}")
                continue
            p50 = "-" if step.p50_ms is None else f"{step.p50_ms:.0f}"
            p99 = "-" if step.p99_ms is None else f"{step.p99_ms:.0f}"
            cells.append(f"{step.failed:>6}{p50:>5}{p99:>8}  {'clean' if step.clean else 'NOT clean':<9}")
        lines.append(f"{rate:>7} | " + " | ".join(cells))
    lines.append("")
    lines += [f"{o.name}: {o.trouble}" for o in outcomes if o.trouble]
    found = {o.name: o for o in outcomes}
    figures = [f"{o.name} {o.highest}/s" if not o.trouble else f"{o.name} not measured" for o in outcomes]
    summary = "highest clean rate: " + ", ".join(figures)
    ours, theirs = found.get("portier"), found.get("baresip")
    if ours and theirs and not ours.trouble and not theirs.trouble:
        ratio = f"{ours.highest / theirs.highest:.2f}" if theirs.highest else "n/a"
        summary += f", ratio portier/baresip {ratio}"
    summary += f"; goal >= {GOAL}/s and no worse than baresip"
    if ours and not ours.trouble:
        beaten = theirs is not None and not theirs.trouble and ours.highest < theirs.highest
        summary += ": met" if ours.highest >= GOAL and not beaten else ": NOT met"
    else:
        summary += ": not judged (portier not measured)"
    lines.append(summary)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0, help="sending time per rate step")
    parser.add_argument("--rates", type=lambda text: [int(r) for r in text.split(",")], default=list(RATES),
                        help="comma-separated OPTIONS/s steps (default %(default)s)")
    parser.add_argument("--targets", type=lambda text: text.split(","), default=list(TARGETS),
                        help="comma-separated UAs to measure: portier,baresip (default both)")
    parser.add_argument("--quick", action="store_true", help=f"rates {QUICK_RATES} for 1 s: proves it runs")
    args = parser.parse_args(argv)
    rates, seconds = (QUICK_RATES, 1.0) if args.quick else (args.rates, args.seconds)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    try:
        sipp = require("sipp")
        require("timeout")
        if "baresip" in args.targets:
            require("baresip")
    except PeerMissing as exc:
        print(f"options_load: {exc}", file=sys.stderr)
        return 2
    banner = subprocess.run([sipp, "-v"], capture_output=True, text=True, timeout=30, check=False).stdout
    found = re.search(r"SIPp v([\d.]+)", banner)
    sipp_version = f"SIPp {found.group(1)}" if found else "SIPp"

    host = machine()
    workdir = Path(tempfile.mkdtemp(prefix="portier-options-load-"))
    try:
        outcomes = [measure(name, sipp, rates, seconds, workdir) for name in args.targets]
        print("\n".join(report(outcomes, seconds, sipp_version, host)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if any(o.trouble for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
