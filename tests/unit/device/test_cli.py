"""The command-line contract later issues and tests rely on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portier import __version__

PORTIER = [sys.executable, "-m", "portier"]


def portier(
    *args: str, data: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    extra = ["--data", str(data)] if data is not None else []
    command = [*PORTIER, *args[:2], *extra, *args[2:]] if args[0] == "config" else [*PORTIER, *args, *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)


def test_version() -> None:
    result = portier("version")
    assert result.returncode == 0 and result.stdout.strip() == f"portier {__version__}"


def test_set_get_by_fanvil_key_and_schema_path(tmp_path: Path) -> None:
    assert portier("config", "set", "SIP1 Register Addr", "127.0.0.1", data=tmp_path).returncode == 0
    assert portier("config", "get", "lines.sip1.server1.address", data=tmp_path).stdout == "127.0.0.1\n"
    assert portier("config", "set", "lines.sip1.server1.transport", "TCP", data=tmp_path).returncode == 0
    assert portier("config", "get", "SIP1 Transport", data=tmp_path).stdout == "1\n"


def test_data_dir_from_environment(tmp_path: Path) -> None:
    env = {**os.environ, "PORTIER_DATA": str(tmp_path / "env")}
    subprocess.run([*PORTIER, "config", "set", "SIP2 Phone Number", "2002"], check=True, env=env, timeout=60)
    assert (tmp_path / "env" / "portier.db").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("config", "set", "SIP1 Register Port", "70000"),
            "`SIP1 Register Port` must be a whole number in 1-65535",
        ),
        (("config", "set", "No Such Key", "1"), "no setting is called 'No Such Key'"),
        (("config", "get", "lines.sip9.username"), "no setting is called 'lines.sip9.username'"),
        (("config", "import", "/nonexistent/file.txt"), "No such file or directory"),
        (("config", "clear", "BOGUS"), "unknown module 'BOGUS'"),
        (("config", "clear-tables", "nope"), "unknown table(s) nope"),
    ],
)
def test_user_errors_are_messages_not_tracebacks(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = portier(*args, data=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_export_import_round_trip_through_files(tmp_path: Path) -> None:
    portier("config", "set", "SIP1 Phone Number", "1001", data=tmp_path / "a")
    exported = tmp_path / "a.txt"
    assert portier("config", "export", "-o", str(exported), data=tmp_path / "a").returncode == 0
    raw = exported.read_bytes()
    assert raw.startswith(b"<<VOIP CONFIG FILE>>Version:2.0000000000\r\n") and raw.endswith(
        b"<<END OF FILE>>\r\n"
    )
    result = portier("config", "import", str(exported), data=tmp_path / "b")
    assert result.returncode == 0, result.stderr
    assert "1 setting(s) changed" in result.stdout
    assert portier("config", "export", data=tmp_path / "b").stdout.encode() == raw.replace(b"\r\n", b"\n")


def test_broken_import_reports_lines_and_changes_nothing(tmp_path: Path) -> None:
    portier("config", "set", "SIP1 Phone Number", "1001", data=tmp_path)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(
        b"<<VOIP CONFIG FILE>>Version:2.0000000000\r\nSIP1 Phone Number :9999\r\n"
        b"SIP1 Register Port :0\r\n<<END OF FILE>>\r\n"
    )
    result = portier("config", "import", str(bad), data=tmp_path)
    assert result.returncode == 2
    assert "line 3: `SIP1 Register Port` must be a whole number in 1-65535, got '0'" in result.stderr
    assert "nothing was changed" in result.stderr
    assert portier("config", "get", "SIP1 Phone Number", data=tmp_path).stdout == "1001\n"


def test_clear_module_and_factory_reset(tmp_path: Path) -> None:
    portier("config", "set", "SIP1 Phone Number", "1001", data=tmp_path)
    portier("config", "set", "Fkey1 Value", "127.0.0.1", data=tmp_path)
    assert portier("config", "clear", "SIP", data=tmp_path).returncode == 0
    assert portier("config", "get", "SIP1 Phone Number", data=tmp_path).stdout == "\n"
    assert portier("config", "get", "Fkey1 Value", data=tmp_path).stdout == "127.0.0.1\n"
    assert portier("reset", data=tmp_path).returncode == 0
    assert portier("config", "get", "Fkey1 Value", data=tmp_path).stdout == "\n"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_logs_services_and_stops_within_two_seconds(tmp_path: Path, signum: int) -> None:
    process = subprocess.Popen(
        [*PORTIER, "run", "--data", str(tmp_path), "--http", "127.0.0.1:18080", "--sip-port", "15060"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 20
        started = ""
        while time.monotonic() < deadline and "started" not in started:
            started = process.stderr.readline()
            if "services:" not in started:
                started = ""
        assert "services: event-log" in started
        sent = time.monotonic()
        process.send_signal(signum)
        assert process.wait(timeout=5) == 0
        assert time.monotonic() - sent < 2.0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_run_refuses_a_bad_address() -> None:
    result = subprocess.run(
        [*PORTIER, "run", "--http", "nonsense"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "expected HOST:PORT" in result.stderr


@pytest.mark.parametrize(
    ("module", "key", "value"),
    [
        ("SIP", "SIP2 Register Addr", "127.0.0.3"),
        ("AUTOPROVISION", "PNP Enable", "1"),
        ("TR069", "Enable TR069", "1"),
        ("MMI", "Web Port", "8081"),
        ("DSSKEY", "Fkey2 Value", "1234"),
    ],
)
def test_clear_each_module_of_the_manual(tmp_path: Path, module: str, key: str, value: str) -> None:
    default = portier("config", "get", key, data=tmp_path).stdout
    assert portier("config", "set", key, value, data=tmp_path).returncode == 0
    assert portier("config", "get", key, data=tmp_path).stdout == f"{value}\n"
    assert portier("config", "clear", module, data=tmp_path).returncode == 0
    assert portier("config", "get", key, data=tmp_path).stdout == default
