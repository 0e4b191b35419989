"""The benchmark scripts still run: each one end to end in its --quick setting, figures not judged.

Timing is the scripts' business, not the tests': nothing here asserts a rate or a latency. The
OPTIONS load run needs the real peers (sipp, baresip) and fails, never skips, when one is missing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from portier.sip import SipRequest, parse

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import bench/<name>.py as a module (bench/ is not a package; its scripts import _peers)."""
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_timed_invite_is_a_typical_one_kilobyte_invite(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load("sip_parse", monkeypatch)
    msg = parse(bench.INVITE)
    assert isinstance(msg, SipRequest) and msg.method == "INVITE"
    assert 900 <= len(bench.INVITE) <= 1100
    assert msg.body == bench.SDP and b"G722/8000" in msg.body and b"telephone-event" in msg.body
    label, codec = bench.CODECS["portier"]()
    bench.check(codec, bench.INVITE)
    assert label.startswith("portier ")


def test_sip_parse_quick_run_prints_portier_beside_the_goal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("sip_parse", monkeypatch)
    assert bench.main(["--quick", "--no-peers"]) == 0
    out = capsys.readouterr().out
    assert "portier 0" in out and "msg/s" in out
    assert "goal: >= 20,000 msg/s; portier best" in out


def test_options_load_helpers_read_sipp_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load("options_load", monkeypatch)
    assert bench.percentile([0, 4, 8, 4, 0], 0.99) == 8
    assert bench.percentile(list(range(1, 101)), 0.99) == 99
    assert bench.percentile([], 0.99) is None
    (tmp_path / "s_1_rtt.csv").write_text("Date_ms;response_time_ms;rtd_no\n4.001;0;1\n8.001;12;1\n")
    assert sorted(bench.read_rtts(tmp_path)) == [0.0, 12.0]
    stats = tmp_path / "stat.csv"
    stats.write_text("StartTime;SuccessfulCall(C);FailedCall(C);\nx\t1.0;5;0;\nx\t2.0;10;1;\n")
    assert bench.read_stats(stats)["FailedCall(C)"] == "1"
    slow = bench.Step(rate=100, calls=10, answered=10, failed=0, retransmissions=0,
                      p50_ms=0.0, p99_ms=12.0, achieved=100.0)
    assert not slow.clean and slow.problems() == ["p99 >= 10 ms"]


@pytest.mark.interop
def test_options_load_quick_run_measures_portier_and_baresip(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("options_load", monkeypatch)
    peers = sys.modules["_peers"]
    for binary in ("sipp", "baresip"):
        peers.require(binary)  # raises PeerMissing with the apt-get line: a failure, never a skip
    code = bench.main(["--quick"])
    out = capsys.readouterr().out
    assert code == 0, f"a UA did not answer OPTIONS:\n{out}"
    assert "portier 0" in out and "baresip 1" in out
    assert "highest clean rate: portier " in out and "baresip " in out
    for rate in bench.QUICK_RATES:
        assert f"{rate:>7} | " in out


def test_options_load_without_sipp_fails_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("options_load", monkeypatch)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bench.main(["--quick"]) == 2
    assert "sipp is not installed" in capsys.readouterr().err


def _require_peers(*binaries: str) -> None:
    """Raise PeerMissing (with the apt-get line) for a missing peer: a failure, never a skip."""
    peers = sys.modules["_peers"]
    for binary in binaries:
        peers.require(binary)


@pytest.mark.interop
def test_rtp_pacing_quick_run_times_both_uas_packets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("rtp_pacing", monkeypatch)
    _require_peers("sipp", "baresip", "taskset")
    code = bench.main(["--quick"])
    out = capsys.readouterr().out
    assert code == 0, f"a UA was not measured:\n{out}"
    rows = [line.split() for line in out.splitlines() if line.startswith(("portier 0", "baresip 1"))]
    assert len(rows) == 2, out
    for row in rows:
        assert int(row[2]) >= 80 and float(row[4]) > 15, f"too few packets or a wrong interval: {row}"
    assert "goal p99 <= 1 ms: portier p99 " in out


@pytest.mark.interop
def test_call_cpu_quick_run_carries_media_both_ways(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("call_cpu", monkeypatch)
    _require_peers("sipp", "baresip")
    code = bench.main(["--quick"])
    out = capsys.readouterr().out
    assert code == 0, f"a call failed:\n{out}"
    rows = [line.split() for line in out.splitlines() if line.startswith(("portier 0", "baresip 1"))]
    assert sorted((row[0], row[2]) for row in rows) == [
        ("baresip", "G.711"), ("baresip", "opus"), ("portier", "G.711"), ("portier", "opus")
    ], out
    for row in rows:
        assert float(row[-2]) > 40 and float(row[-1]) > 40, f"media did not flow both ways: {row}"
    assert "goal G.711 <= 2 % of one core: portier " in out
    assert "goal opus <= 4 % of one core: portier " in out


@pytest.mark.interop
def test_answer_latency_quick_run_times_every_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("answer_latency", monkeypatch)
    stamp = "-" * 47 + " 2026-11-26 09:07:21.{}\n"
    log = (  # SIPp's -trace_msg log: the INVITE, a 180, the 200 1.877 ms later, a later BYE's 200
        stamp.format("828483") + "UDP message sent (531 bytes):\n\nINVITE sip:b@127.0.0.1 SIP/2.0\n"
        "Call-ID: 2-1@127.0.0.1\nCSeq: 1 INVITE\n\n"
        + stamp.format("829328") + "UDP message received [336] bytes :\n\nSIP/2.0 180 Ringing\n"
        "Call-ID: 2-1@127.0.0.1\nCSeq: 1 INVITE\n\n"
        + stamp.format("830360") + "UDP message received [528] bytes :\n\nSIP/2.0 200 OK\n"
        "Call-ID: 2-1@127.0.0.1\nCSeq: 1 INVITE\n\n"
        + stamp.format("937033") + "UDP message received [296] bytes :\n\nSIP/2.0 200 OK\n"
        "Call-ID: 2-1@127.0.0.1\nCSeq: 2 BYE\n\n"
    )
    assert bench.invite_to_ok(log) == pytest.approx([1.877])
    _require_peers("sipp", "baresip")
    code = bench.main(["--quick"])
    out = capsys.readouterr().out
    assert code == 0, f"calls failed:\n{out}"
    for name in ("portier", "baresip"):
        assert f"{name}: {bench.QUICK_CALLS} calls timed" in out
    assert "median portier/baresip " in out


@pytest.mark.interop
def test_call_soak_quick_run_completes_every_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = load("call_soak", monkeypatch)
    _require_peers("sipp", "baresip")
    code = bench.main(["--quick", "--warm-up", "1"])
    out = capsys.readouterr().out
    assert code == 0, f"calls failed:\n{out}"
    total = bench.QUICK_CALLS + 1  # the warm-up call, then the measured ones
    for name in ("portier", "baresip"):
        assert f"  {name}: {total} ok, 0 failed" in out
    assert f"goal 0 failed: portier 0 failed, {total}/{total} succeeded" in out
    assert "growth during the 1 warm-up calls" in out
