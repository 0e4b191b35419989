"""A real ``portier run`` as a child process: configured through its CLI, bounded in time, stopped by PID.

Why a process and not a ``Device`` in the test's event loop: hostile peers (scanners, floods, torture
messages) must meet the device as it is deployed, with its own loop that nothing in the test can
block or help along, and a crash must show up as an exit and a traceback in its log, not as an
exception in the test. The child runs under coreutils ``timeout``, so it cannot outlive its time
limit even if the test runner itself is killed.

Given a ``prefix`` (such as ``LoopbackNamespace.argv([])``) the device runs behind it, e.g. inside a
network namespace; the readiness probe then has to run behind the same prefix, which is why this
file is also a stdlib-only script (``python -I device_process.py probe PORT``, ``... replay PORT
FILE...``) that the helper and tests start inside the namespace.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

LOOPBACK = "127.0.0.1"
SCRIPT = Path(__file__).resolve()
PYTHON = sys.executable
TRACEBACK = "Traceback (most recent call last)"


# -- OPTIONS over a plain socket: the liveness question asked of the device ------------------------


def options_request(port: int, local: tuple[str, int], transport: str = "UDP") -> tuple[bytes, str]:
    """An OPTIONS to the device itself at 127.0.0.1:``port`` sent from ``local``, and its branch."""
    branch = "z9hG4bK" + secrets.token_hex(8)
    host, local_port = local
    text = (
        f"OPTIONS sip:{LOOPBACK}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {host}:{local_port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{host}:{local_port}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:{LOOPBACK}:{port}>\r\n"
        f"Call-ID: {secrets.token_hex(8)}@{host}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "User-Agent: portier-interop-probe\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    return text.encode(), branch


def options_udp(port: int, *, timeout: float = 1.0, host: str = LOOPBACK) -> str | None:
    """The final response to one OPTIONS over UDP (matched by branch), or None if none in ``timeout``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        data, branch = options_request(port, sock.getsockname())
        sock.sendto(data, (host, port))
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            try:
                reply = sock.recv(65535).decode("utf-8", "replace")
            except (TimeoutError, ConnectionRefusedError):
                return None
            if branch in reply and reply.startswith("SIP/2.0 ") and not reply.startswith("SIP/2.0 1"):
                return reply
    return None


def options_tcp(port: int, *, timeout: float = 2.0, host: str = LOOPBACK) -> str | None:
    """The final response to one OPTIONS over a new TCP connection, or None (refused, closed, silent)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            data, branch = options_request(port, sock.getsockname(), "TCP")
            sock.sendall(data)
            return read_response(sock, branch, timeout)
    except OSError:
        return None


def read_response(sock: socket.socket, branch: str, timeout: float) -> str | None:
    """Read a stream until a final response carrying ``branch`` is complete (header section only)."""
    buffer = b""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65535)
        except (TimeoutError, OSError):
            return None
        if not chunk:
            return None
        buffer += chunk
        for message in buffer.decode("utf-8", "replace").split("\r\n\r\n")[:-1]:
            if branch in message and message.startswith("SIP/2.0 ") and not message.startswith("SIP/2.0 1"):
                return message
    return None


def status_of(response: str | None) -> int | None:
    """The status code of a response's text (None for None or a request)."""
    match = re.match(r"SIP/2\.0 (\d{3}) ", response or "")
    return int(match.group(1)) if match else None


# -- the device ----------------------------------------------------------------------------------


def free_tcp_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the device's web listener in tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind((LOOPBACK, 0))
        port: int = tcp.getsockname()[1]
        return port


def free_sip_port() -> int:
    """A port P with UDP P, TCP P and TCP P+1 (the TLS listener) free on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port: int = udp.getsockname()[1]
            if port >= 65535:
                continue
            try:
                for candidate in (port, port + 1):
                    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                        tcp.bind((LOOPBACK, candidate))
            except OSError:
                continue
            return port
    raise AssertionError(f"found no free SIP port (UDP+TCP P, TCP P+1) on {LOOPBACK} in 50 tries")


class DeviceProcess:
    """``portier run --data DIR --sip-port PORT --sip-host 127.0.0.1`` as a bounded child process.

    ``configure`` (before ``start``) sets Fanvil keys with ``portier config set``; ``start`` returns
    once the device answers OPTIONS on UDP; ``stop`` (also on leaving the ``with`` block) sends
    SIGTERM by PID, waits, then kills. Output goes to ``log_path``; ``tracebacks()`` finds crashes.
    ``limit`` seconds after start the child is killed whatever happens (coreutils ``timeout``).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        t1: float | None = 0.1,
        prefix: Sequence[str] = (),
        limit: float = 180.0,
        log_level: str = "INFO",
        python: str = PYTHON,
    ) -> None:
        self.data_dir = data_dir
        self.port = port if port is not None else free_sip_port()
        self.http_port = free_tcp_port()
        self.t1 = t1
        self.prefix = list(prefix)
        self.limit = limit
        self.log_level = log_level
        self.python = python
        self.log_path = data_dir.parent / f"{data_dir.name}-portier.log"
        self.process: subprocess.Popen[bytes] | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    # -- configuration and lifecycle ---------------------------------------------------------------

    def configure(self, values: Mapping[str, object]) -> None:
        """``portier config set`` each key (Fanvil key or schema path) to ``str(value)``, in order."""
        if self.process is not None:
            raise RuntimeError("configure() before start(): a running device reads its settings once")
        for key, value in values.items():
            argv = [
                self.python,
                "-m",
                "portier",
                "config",
                "set",
                "--data",
                str(self.data_dir),
                key,
                str(value),
            ]
            result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
            if result.returncode != 0:
                raise AssertionError(f"portier config set {key!r} {value!r} failed: {result.stderr.strip()}")

    @property
    def argv(self) -> list[str]:
        run = [
            self.python, "-m", "portier", "run", "--data", str(self.data_dir),
            "--sip-port", str(self.port), "--sip-host", LOOPBACK, "--log-level", self.log_level,
            "--http", f"{LOOPBACK}:{self.http_port}",
        ]  # fmt: skip
        if self.t1 is not None:
            run += ["--sip-t1", str(self.t1)]
        timeout = shutil.which("timeout")
        if timeout is None:
            raise AssertionError("coreutils `timeout` is missing: it bounds the device's lifetime")
        return [*self.prefix, timeout, "--kill-after=5", f"{self.limit:g}", *run]

    def start(self, timeout: float = 20.0) -> Self:
        """Start the device; return once it answers OPTIONS (else stop it and fail with its log)."""
        if self.process is not None:
            raise RuntimeError("DeviceProcess.start() twice")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"portier exited ({self.process.returncode}) before answering:\n{self.tail()}"
                )
            if self.answers(timeout=0.5):
                return self
            time.sleep(0.1)
        self.stop()
        raise AssertionError(
            f"portier did not answer OPTIONS on UDP {self.port} within {timeout} s:\n{self.tail()}"
        )

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM by PID, wait ``grace``, then SIGKILL the group; the exit status (None: never ran)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                # Signal the group only while its leader is unreaped: only then is the id surely ours.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        return process.returncode

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- inspection --------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def device_pid(self) -> int | None:
        """The PID of the Python process running portier (the child of ``timeout``), if alive."""
        if not self.alive or self.pid is None:
            return None
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def rss_kib(self) -> int | None:
        """Resident memory of the portier process in KiB (None when it is not running)."""
        pid = self.device_pid
        if pid is None:
            return None
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def options(self, timeout: float = 1.0) -> str | None:
        """The device's final response to one OPTIONS over UDP (sent from behind ``prefix``), or None."""
        if not self.prefix:
            return options_udp(self.port, timeout=timeout)
        argv = [
            *self.prefix,
            self.python,
            "-I",
            str(SCRIPT),
            "probe",
            str(self.port),
            "--timeout",
            str(timeout),
        ]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10, check=False)
        return result.stdout if result.returncode == 0 else None

    def answers(self, timeout: float = 1.0) -> bool:
        """Whether one OPTIONS over UDP gets 200."""
        return status_of(self.options(timeout)) == 200

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.splitlines()[-lines:])

    def tracebacks(self) -> list[str]:
        """Every traceback in the device log, each with the log line that announced it."""
        found = []
        lines = self.log.splitlines()
        for index, line in enumerate(lines):
            if line.startswith(TRACEBACK):
                end = index + 1
                while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                    end += 1
                found.append("\n".join(lines[max(index - 1, 0) : end + 1]))
        return found


# -- script side: what runs behind the prefix (inside a namespace) ---------------------------------


@dataclass(frozen=True)
class Exchange:
    """What came back for one datagram sent to the device, and whether it still answered OPTIONS."""

    name: str
    sent: int
    replies: list[str]
    alive: bool
    late: list[str] = field(default_factory=list)
    """What reached this exchange's socket after its window, up to the end of the replay
    (retransmitted responses, e.g. when a later datagram was taken for a retransmission)."""

    @property
    def statuses(self) -> list[int]:
        return [s for s in (status_of(reply) for reply in self.replies) if s is not None]

    @property
    def finals(self) -> list[int]:
        """The distinct final statuses answered (retransmissions of one response count once)."""
        return sorted({s for s in self.statuses if s >= 200})

    @classmethod
    def from_json(cls, line: str) -> Exchange:
        raw = json.loads(line)
        replies, late = [str(r) for r in raw["replies"]], [str(r) for r in raw.get("late", [])]
        return cls(str(raw["name"]), int(raw["sent"]), replies, bool(raw["alive"]), late)


def replay(port: int, files: Sequence[Path], *, wait: float, linger: float) -> list[Exchange]:
    """Send each file as one UDP datagram from a fresh socket, collect what comes back (up to
    ``wait`` for the first reply, then ``linger`` after each further one), then ask OPTIONS.

    Every socket stays open until all files are sent, so no later file's socket can inherit the
    port of an earlier one; what arrived on each meanwhile is collected at the end as ``late``."""
    results = []
    with contextlib.ExitStack() as stack:
        sockets = []
        for path in files:
            data = path.read_bytes()
            replies: list[str] = []
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            sockets.append(sock)
            sock.bind((LOOPBACK, 0))
            sock.sendto(data, (LOOPBACK, port))
            window = wait
            while True:
                sock.settimeout(window)
                try:
                    replies.append(sock.recv(65535).decode("utf-8", "replace"))
                except (TimeoutError, ConnectionRefusedError):
                    break
                window = linger
            alive = any(status_of(options_udp(port, timeout=1.0)) == 200 for _ in range(3))
            results.append(Exchange(path.stem, len(data), replies, alive))
        for sock, exchange in zip(sockets, results, strict=True):
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError, ConnectionRefusedError):
                while True:
                    exchange.late.append(sock.recv(65535).decode("utf-8", "replace"))
    return results


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="probe or replay datagrams at a portier on 127.0.0.1")
    commands = parser.add_subparsers(dest="command", required=True)
    probe = commands.add_parser("probe", help="one OPTIONS over UDP; exit 0 and print the reply if 200")
    probe.add_argument("port", type=int)
    probe.add_argument("--timeout", type=float, default=1.0)
    send = commands.add_parser("replay", help="send each file as a datagram; one JSON line per file")
    send.add_argument("port", type=int)
    send.add_argument("files", type=Path, nargs="+")
    send.add_argument("--wait", type=float, default=0.5)
    send.add_argument("--linger", type=float, default=0.15)
    args = parser.parse_args(argv)
    if args.command == "probe":
        reply = options_udp(args.port, timeout=args.timeout)
        if reply is not None:
            print(reply, end="")
        return 0 if status_of(reply) == 200 else 1
    for exchange in replay(args.port, args.files, wait=args.wait, linger=args.linger):
        fields = {
            "name": exchange.name,
            "sent": exchange.sent,
            "replies": exchange.replies,
            "alive": exchange.alive,
            "late": exchange.late,
        }
        print(json.dumps(fields), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
