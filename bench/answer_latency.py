"""Answer latency INVITE -> 200 OK with auto-answer at 0 s under SIPp: portier beside baresip.

The calls issue asks for the median and p99, side by side; it sets no number to reach.

SIPp (bench/scenarios/call_uac.xml) places ``--calls`` calls one after another (``-l 1``), each an
INVITE offering PCMU, the 200, the ACK, 100 ms of call, BYE. portier answers direct IP calls
automatically after "P2P Auto Answer Delay" (default: on, 0 s); baresip's account has
``answermode=auto``. Both send RTP once answered, to a socket of this script that drains it.

The latency of a call is the time between SIPp sending the INVITE and SIPp receiving the 200, from
the microsecond timestamps SIPp writes on each message in its ``-trace_msg`` log. SIPp's own response
times (``rtd``, ``-trace_rtt``) are printed beside them, but SIPp counts those in whole milliseconds
of a 4 ms clock on this VM, too coarse to compare UAs that answer in about 1 ms. The first call is
also shown alone: it is the one a visitor at a freshly started door station waits for.

    .venv/bin/python bench/answer_latency.py [--calls 200] [--targets portier,baresip] [--quick]

Exit code: 0 when every UA was measured, 1 when calls failed or a UA did not start, 2 when a peer
is missing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from _peers import (
    RtpPeer,
    UaTrouble,
    add_targets,
    check_targets,
    log_tail,
    machine,
    require_tools,
    running_ua,
    sipp_version,
    start_sipp,
    stop,
)
from options_load import percentile, read_rtts, read_stats

CALL_MS = 100
QUICK_CALLS = 5
_STAMP = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Latency:
    ua: str
    calls: int
    answered: int
    failed: int
    latencies_ms: list[float]
    """INVITE sent -> 200 received, per call in the order placed (SIPp's message log)."""
    rtd_ms: list[float]
    """SIPp's own response times (whole ms)."""

    def p(self, fraction: float) -> float | None:
        return percentile(self.latencies_ms, fraction)


def invite_to_ok(messages: str) -> list[float]:
    """Per Call-ID, ms from the first INVITE SIPp sent to the first 200 for it SIPp received.

    ``messages`` is SIPp's ``-trace_msg`` log: each message follows a dashed line with its time."""
    invites: dict[str, datetime] = {}
    answers: dict[str, datetime] = {}
    order: list[str] = []
    parts = _STAMP.split(messages)
    for stamp, body in zip(parts[1::2], parts[2::2], strict=True):
        when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
        lines = body.strip().splitlines()
        if len(lines) < 2:
            continue
        found = re.search(r"^Call-ID:\s*(\S+)", body, re.MULTILINE | re.IGNORECASE)
        cseq = re.search(r"^CSeq:\s*\d+\s+(\S+)", body, re.MULTILINE | re.IGNORECASE)
        if found is None or cseq is None or cseq.group(1) != "INVITE":
            continue
        call_id, start = found.group(1), next((line for line in lines[1:] if line.strip()), "")
        if "message sent" in lines[0] and start.startswith("INVITE ") and call_id not in invites:
            invites[call_id] = when
            order.append(call_id)
        elif "message received" in lines[0] and start.startswith("SIP/2.0 200") and call_id not in answers:
            answers[call_id] = when
    return [
        (answers[c] - invites[c]).total_seconds() * 1000 for c in order if c in answers
    ]


def measure(name: str, sipp: str, calls: int, workdir: Path) -> Latency:
    lifetime = calls * (CALL_MS / 1000 + 0.5) + 60
    with running_ua(name, workdir, lifetime) as ua:
        directory = workdir / name / "sipp"
        directory.mkdir()
        drain = RtpPeer().start()
        keys = {"rtp_port": str(drain.port), "pt": "0", "rtpmap": "PCMU/8000"}
        caller = start_sipp(sipp, "call_uac.xml", ua.port, directory, calls=calls, pause_ms=CALL_MS,
                            keys=keys, lifetime=lifetime - 30, trace_msg=True)  # fmt: skip
        try:
            caller.wait(timeout=lifetime - 20)
        except subprocess.TimeoutExpired as exc:
            raise UaTrouble(f"{name}: SIPp did not finish its {calls} calls\n{log_tail(ua.log)}") from exc
        finally:
            stop(caller)
            drain.close()
        row = read_stats(directory / "stat.csv") if (directory / "stat.csv").exists() else {}
        if not row:
            raise UaTrouble(f"{name}: SIPp left no statistics\n{log_tail(directory / 'sipp.log')}")
        logs = list(directory.glob("*_messages.log"))
        text = logs[0].read_text(errors="replace") if logs else ""
        result = Latency(
            ua=ua.version,
            calls=calls,
            answered=int(row.get("SuccessfulCall(C)", "0") or 0),
            failed=int(row.get("FailedCall(C)", "0") or 0),
            latencies_ms=invite_to_ok(text),
            rtd_ms=read_rtts(directory),
        )
        if result.failed or result.answered != calls:
            print(f"  {name}: {result.failed} failed, {result.answered}/{calls} answered\n{log_tail(ua.log)}")
        return result


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(results: list[Latency], troubles: list[str], calls: int, sipp: str, host: str) -> list[str]:
    lines = [
        "",
        f"Answer latency: {sipp} UAC over UDP on 127.0.0.1, {calls} calls one after another "
        f"({CALL_MS} ms each), INVITE sent -> 200 received as SIPp's message log times them",
        f"machine: {host}; SIPp and the UA under test share the CPUs; one UA after the other",
        "",
        f"{'UA':<16} {'answered':>9} {'failed':>7} {'median ms':>10} {'p99 ms':>8} {'max ms':>8} "
        f"{'1st call ms':>12} {'SIPp rtd p50/p99 ms':>20}",
    ]
    for r in results:
        first = r.latencies_ms[0] if r.latencies_ms else None
        rtd = f"{fmt(percentile(r.rtd_ms, 0.5), 0)}/{fmt(percentile(r.rtd_ms, 0.99), 0)}"
        lines.append(
            f"{r.ua:<16} {r.answered:>9} {r.failed:>7} {fmt(r.p(0.5)):>10} {fmt(r.p(0.99)):>8} "
            f"{fmt(max(r.latencies_ms, default=None)):>8} {fmt(first):>12} {rtd:>20}"
        )
    lines += ["", f"load average {os.getloadavg()[0]:.2f} at the end", *troubles]
    found = {r.ua.split()[0]: r for r in results}
    ours, theirs = found.get("portier"), found.get("baresip")
    if ours is not None and theirs is not None:
        ratios = []
        for label, fraction in (("median", 0.5), ("p99", 0.99)):
            mine, other = ours.p(fraction), theirs.p(fraction)
            ratios.append(f"{label} portier/baresip {mine / other:.2f}" if mine and other else f"{label}: -")
        lines.append("; ".join(ratios) + " (the issue sets no goal: reported side by side)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=200, help="calls per UA (default 200)")
    add_targets(parser)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CALLS} calls per UA: proves it runs")
    args = parser.parse_args(argv)
    calls = QUICK_CALLS if args.quick else args.calls
    check_targets(parser, args.targets)
    sipp = require_tools("answer_latency", args.targets)
    if sipp is None:
        return 2
    host = machine()
    version = sipp_version(sipp)
    workdir = Path(tempfile.mkdtemp(prefix="portier-answer-latency-"))
    results: list[Latency] = []
    troubles: list[str] = []
    try:
        for name in args.targets:
            try:
                results.append(measure(name, sipp, calls, workdir))
                print(f"  {name}: {len(results[-1].latencies_ms)} calls timed", flush=True)
            except UaTrouble as exc:
                troubles.append(str(exc))
                print(f"  {exc}", flush=True)
        print("\n".join(report(results, troubles, calls, version, host)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bad = any(r.failed or r.answered != r.calls for r in results)
    return 1 if troubles or bad else 0


if __name__ == "__main__":
    sys.exit(main())
