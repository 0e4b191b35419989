"""SIPp as a bounded child process: a client run to completion, or a scenario served in the background.

SIPp plays the peer portier's SIP lines must cope with (a registrar that challenges, refuses, or asks
for a longer interval). Every run is a child process with a PID, a global ``-timeout`` and a Python
side deadline, and writes its message and error traces into a per-run directory so a failing test
can show what was on the wire. Scenario files live in ``tests/interop/scenarios``; each one documents
the ``-key`` values it reads (``keys=`` here).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from .peers import require

SCENARIOS = Path(__file__).parent / "scenarios"
LOOPBACK = "127.0.0.1"
TRANSPORTS = {"u1": "UDP", "un": "UDP", "t1": "TCP", "tn": "TCP"}
_runs = itertools.count(1)


def _kind(transport: str) -> Literal["udp", "tcp"]:
    if transport not in TRANSPORTS:
        known = ", ".join(sorted(TRANSPORTS))
        raise ValueError(f"SIPp transport {transport!r} is not one of {known} (this build has no TLS)")
    return "udp" if TRANSPORTS[transport] == "UDP" else "tcp"


def free_port(kind: Literal["udp", "tcp"] = "udp") -> int:
    """A port on 127.0.0.1 that nothing uses right now (the kernel's pick, released for the peer)."""
    sock_type = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, sock_type) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def scenario(name: str) -> Path:
    """The path of a bundled scenario, e.g. ``scenario("reg_401")``."""
    path = SCENARIOS / (name if name.endswith(".xml") else f"{name}.xml")
    if not path.is_file():
        raise FileNotFoundError(f"no SIPp scenario {path.name} in {SCENARIOS}")
    return path


@dataclass(frozen=True)
class SippResult:
    """What one SIPp run left behind. ``returncode`` is SIPp's: 0 all calls passed, 1 some failed,
    97 stopped by an internal command (the scenarios' ``stop_now`` on a broken rule), 99 normal exit
    without calls processed, 255 fatal error. ``stopped`` says the harness ended it (``stop()`` or
    the deadline); SIPp then exits 0 although nothing was decided, so ``ok`` is False."""

    returncode: int
    stdout: str
    stderr: str
    errors_log: str
    messages_log: str
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.stopped

    def received(self, method: str | None = None) -> list[str]:
        """The SIP messages SIPp received, in order (requests of ``method`` only, if given)."""
        messages = []
        for chunk in _LOG_SEPARATOR.split(self.messages_log):
            head, _, body = chunk.strip("\r\n").partition("\n")
            if " message received " not in head:
                continue
            message = body.strip("\r\n")
            if method is None or message.startswith(f"{method} "):
                messages.append(message)
        return messages

    def digest_ok(self, user: str, password: str, header: str = "Authorization") -> bool:
        """Whether every received request carrying ``header`` answers its challenge as ``user`` with
        ``password`` (RFC 2617 MD5, with or without qop=auth), and at least one did. SIPp's own
        verifyauth reads only Authorization; this also checks Proxy-Authorization."""
        checked = 0
        for request in self.received():
            if request.startswith("SIP/2.0 "):
                continue
            value = _header(request, header)
            if value is None:
                continue
            params = digest_params(value)
            if params.get("username") != user:
                return False
            method = request.split(" ", 1)[0]
            expected = digest_response(
                user=user,
                password=password,
                realm=params.get("realm", ""),
                nonce=params.get("nonce", ""),
                method=method,
                uri=params.get("uri", ""),
                qop=params.get("qop"),
                nc=params.get("nc", ""),
                cnonce=params.get("cnonce", ""),
            )
            if params.get("response", "").lower() != expected:
                return False
            checked += 1
        return checked > 0

    def explain(self) -> str:
        """Everything a person needs to see why a run failed (for assertion messages)."""
        return (
            f"sipp exited with {self.returncode}{' (stopped by the harness)' if self.stopped else ''}\n"
            f"--- stderr ---\n{self.stderr[-3000:]}\n"
            f"--- errors ---\n{self.errors_log[-3000:]}\n--- messages ---\n{self.messages_log[-6000:]}"
        )


class _SippProcess:
    """One SIPp child: builds the command line, owns the trace files, stops by PID."""

    def __init__(
        self,
        scenario: Path,
        *,
        remote: str | None,
        local_port: int,
        transport: str,
        extra: Sequence[str],
        timeout: float,
        calls: int,
        keys: Mapping[str, str],
        auth: tuple[str, str] | None,
        workdir: Path | None,
    ) -> None:
        _kind(transport)
        if remote is not None and not re.fullmatch(r"127\.0\.0\.1:\d{1,5}", remote):
            raise ValueError(f"interop tests stay on loopback: remote {remote!r} is not {LOOPBACK}:port")
        self._owned_dir: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._owned_dir = tempfile.TemporaryDirectory(prefix="portier-sipp-")
            workdir = Path(self._owned_dir.name)
        self.workdir = workdir / f"{scenario.stem}-{next(_runs)}"
        self.workdir.mkdir(parents=True)
        self.timeout = timeout
        self._stdout = self.workdir / "stdout.txt"
        self._stderr = self.workdir / "stderr.txt"
        self._errors = self.workdir / "errors.log"
        self._messages = self.workdir / "messages.log"
        self._result: SippResult | None = None
        self._stopped = False
        argv = [
            require("sipp"),
            *([remote] if remote is not None else []),
            "-sf", str(scenario),
            "-i", LOOPBACK,
            "-p", str(local_port),
            "-t", transport,
            "-m", str(calls),
            "-l", str(max(calls, 1)),
            "-timeout", f"{max(int(timeout), 1)}s",
            "-timeout_error",
            "-nostdin",
            "-default_behaviors", "all,-bye",
            "-trace_msg", "-message_file", str(self._messages),
            "-trace_err", "-error_file", str(self._errors),
        ]  # fmt: skip
        for key, value in keys.items():
            argv += ["-key", key, value]
        if auth is not None:
            argv += ["-au", auth[0], "-ap", auth[1]]
        argv += list(extra)
        self.argv = argv
        with self._stdout.open("wb") as out, self._stderr.open("wb") as err:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=self.workdir,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float | None = None) -> SippResult:
        """Wait for SIPp to finish (killing it at the deadline) and collect its traces."""
        try:
            self.process.wait(timeout=self.timeout + 5 if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.stop()
        return self._collect()

    def stop(self, grace: float = 2.0) -> SippResult:
        if self.process.poll() is None:
            self._stopped = True
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(timeout=5)
        return self._collect()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def _collect(self) -> SippResult:
        if self._result is not None:
            return self._result
        result = SippResult(
            returncode=self.process.returncode if self.process.returncode is not None else -1,
            stdout=_read(self._stdout),
            stderr=_read(self._stderr),
            errors_log=_read(self._errors),
            messages_log=_read(self._messages),
            stopped=self._stopped,
        )
        if self._owned_dir is not None:
            self._owned_dir.cleanup()
            self._owned_dir = None
        self._result = result
        return result


_LOG_SEPARATOR = re.compile(r"^-{20,}.*$", re.MULTILINE)
_PARAM = re.compile(r'([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def _header(message: str, name: str) -> str | None:
    """The value of the first ``name`` header of a logged message (exact name, case-insensitive)."""
    for line in message.splitlines()[1:]:
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return None


def digest_params(value: str) -> dict[str, str]:
    """The parameters of a Digest credentials or challenge header value."""
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "digest":
        return {}
    params = {}
    for match in _PARAM.finditer(rest):
        params[match.group(1).lower()] = match.group(2) if match.group(2) is not None else match.group(3)
    return params


def digest_response(
    *,
    user: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> str:
    """RFC 2617 MD5 request-digest: the value a correct client puts in ``response=``."""

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    if qop:
        return md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return md5(f"{ha1}:{nonce}:{ha2}")


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def run_sipp(
    scenario: Path,
    *,
    remote: str | None,
    local_port: int | None = None,
    transport: str = "u1",
    extra: Sequence[str] = (),
    timeout: float = 20,
    calls: int = 1,
    keys: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    workdir: Path | None = None,
) -> SippResult:
    """Run a (client) scenario to its end against ``remote`` ("127.0.0.1:port") and return the result.

    ``transport`` is SIPp's ``-t`` (u1 UDP, t1 TCP); ``keys`` become ``-key name value`` for the
    scenario's ``[name]`` keywords; ``auth`` (user, password) answers challenges through a plain
    ``[authentication]`` (SIPp 3.6 expands no keywords inside it); ``extra`` is appended verbatim.
    The run is bounded by SIPp's own ``-timeout`` and killed by PID 5 s later if still alive.
    """
    process = _SippProcess(
        scenario,
        remote=remote,
        local_port=local_port if local_port is not None else free_port(_kind(transport)),
        transport=transport,
        extra=extra,
        timeout=timeout,
        calls=calls,
        keys=keys or {},
        auth=auth,
        workdir=workdir,
    )
    return process.wait()


class SippServer:
    """A UAS scenario served on 127.0.0.1:``port`` in the background while the test drives a client.

    Use as a context manager; ``wait()`` collects the result once the scenario has run ``calls``
    times (SIPp exits by itself), ``stop()`` ends it early. Leaving the ``with`` block always stops it.
    """

    def __init__(
        self,
        scenario: Path,
        *,
        port: int | None = None,
        transport: str = "u1",
        extra: Sequence[str] = (),
        timeout: float = 20,
        calls: int = 1,
        keys: Mapping[str, str] | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.scenario = scenario
        self.transport = transport
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port(_kind(transport))
        self._args = (extra, timeout, calls, dict(keys or {}), workdir)
        self._process: _SippProcess | None = None
        self._result: SippResult | None = None
        self._stopped = False

    @property
    def address(self) -> tuple[str, int]:
        return (LOOPBACK, self.port)

    @property
    def uri(self) -> str:
        """Where a line should send its requests, e.g. ``sip:127.0.0.1:5070;transport=tcp``."""
        suffix = "" if _kind(self.transport) == "udp" else ";transport=tcp"
        return f"sip:{LOOPBACK}:{self.port}{suffix}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> Self:
        """Start SIPp and return once it listens. A port the harness picked that another process
        took meanwhile is replaced by a new one (twice at most); a port given by the test is kept."""
        extra, timeout, calls, keys, workdir = self._args
        for attempt in range(1 if self._fixed_port else 3):
            if attempt:
                self.port = free_port(_kind(self.transport))
            self._process = _SippProcess(
                self.scenario,
                remote=None,
                local_port=self.port,
                transport=self.transport,
                extra=extra,
                timeout=timeout,
                calls=calls,
                keys=keys,
                auth=None,
                workdir=workdir,
            )
            try:
                _wait_listening(self._process, self.port, self.transport)
            except _PortTaken:
                continue
            return self
        raise AssertionError(f"SIPp found its port on {LOOPBACK} taken three times ({self.scenario.name})")

    def wait(self, timeout: float | None = None) -> SippResult:
        if self._result is None:
            if self._process is None:
                raise RuntimeError("SippServer.wait() before start()")
            self._result = self._process.wait(timeout)
        return self._result

    def stop(self) -> SippResult:
        if self._result is None:
            if self._process is None:
                raise RuntimeError("SippServer.stop() before start()")
            self._result = self._process.stop()
        return self._result

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self.stop()


class _PortTaken(Exception):
    """SIPp could not bind its port: another process holds it."""


def _wait_listening(process: _SippProcess, port: int, transport: str, timeout: float = 5.0) -> None:
    """Return once SIPp holds its port, so a client started next is not refused or ignored."""
    deadline = time.monotonic() + timeout
    kind = _kind(transport)
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            result = process.wait(0)
            if "Address already in use" in result.stderr:
                raise _PortTaken(port)
            raise AssertionError(f"SIPp {process.argv[2:6]} exited before listening:\n{result.explain()}")
        with contextlib.suppress(OSError):
            if _holds_port(process.pid, port, kind):
                return
        time.sleep(0.02)
    process.stop()
    raise AssertionError(f"SIPp did not listen on {LOOPBACK}:{port}/{kind} within {timeout} s")


def _holds_port(pid: int, port: int, kind: Literal["udp", "tcp"]) -> bool:
    """Whether process ``pid`` has a socket bound (UDP) or listening (TCP) on 127.0.0.1:port, read
    from /proc so the probe never holds the port itself nor mistakes another holder for SIPp."""
    wanted = f"0100007F:{port:04X}"
    inodes = set()
    for line in Path(f"/proc/net/{kind}").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and (kind == "udp" or fields[3] == "0A"):
            inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return False
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) in inodes:
                return True
    return False
