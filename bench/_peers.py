"""What the benchmarks share: finding real peers, loopback ports, bounded child processes, one core.

Kept apart from ``tests/interop/peers.py`` because bench scripts run as plain files (``bench/`` is
their import root) and must not depend on the test tree; the messages are the same on purpose.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable

LOOPBACK = "127.0.0.1"
PACKAGES = {"sipp": "sip-tester", "baresip": "baresip"}


class PeerMissing(RuntimeError):
    """A real peer the benchmark compares against is not installed; the text says how to get it."""


def require(binary: str) -> str:
    """The path of ``binary``; raises PeerMissing naming the Debian package when it is absent."""
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if path is None:
        package = PACKAGES.get(binary, binary)
        raise PeerMissing(
            f"{binary} is not installed: run scripts/test as root or `apt-get install {package}`"
        )
    return path


def _free(port: int, kinds: Iterable[int]) -> bool:
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                return False
    return True


def free_port(span: int = 1) -> int:
    """A port P on 127.0.0.1 with P .. P+span-1 free for both UDP and TCP right now.

    ``span=2`` suits portier, whose SIP service also opens TLS on the SIP port + 1.
    """
    kinds = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            port: int = sock.getsockname()[1]
        if port + span <= 65536 and all(_free(p, kinds) for p in range(port, port + span)):
            return port
    raise RuntimeError(f"found no {span} consecutive free ports on {LOOPBACK} in 100 tries")


def stop(proc: subprocess.Popen[bytes], grace: float = 3.0) -> int:
    """Stop one child by its PID: SIGTERM, wait ``grace`` seconds, then SIGKILL. Returns its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(grace)


def default_core() -> int | None:
    """The highest-numbered CPU this process may use (None where affinity is unsupported)."""
    return max(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def machine() -> str:
    """CPUs and the 1-minute load average: other work on the machine lowers every figure."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpus} CPUs, load average {load:.2f} when the run started"


def pin_to_one_core(core: int | None = None) -> int | None:
    """Pin this process to one CPU (default: :func:`default_core`); None where unsupported."""
    chosen = default_core() if core is None else core
    if chosen is None:
        return None
    os.sched_setaffinity(0, {chosen})
    return chosen


def options_request(port: int, local_port: int) -> bytes:
    branch = "z9hG4bK-probe-" + secrets.token_hex(6)
    return (
        f"OPTIONS sip:bench@{LOOPBACK}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {LOOPBACK}:{local_port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{LOOPBACK}:{local_port}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:bench@{LOOPBACK}:{port}>\r\n"
        f"Call-ID: {secrets.token_hex(8)}@{LOOPBACK}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def options_answer(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> str | None:
    """None once ``127.0.0.1:port`` answers an OPTIONS over UDP with 200; otherwise why it did not.

    Sends a fresh OPTIONS every 0.25 s until ``timeout`` seconds pass or ``proc`` exits.
    """
    deadline = time.monotonic() + timeout
    last = f"no reply in {timeout:g} s"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(0.25)
        local_port = sock.getsockname()[1]
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                return f"process exited with code {proc.returncode}"
            sock.sendto(options_request(port, local_port), (LOOPBACK, port))
            try:
                reply = sock.recv(65535)
            except TimeoutError:
                continue
            except ConnectionRefusedError:
                last = "port closed (ICMP port unreachable)"
                time.sleep(0.25)
                continue
            status = reply.split(b"\r\n", 1)[0].decode("utf-8", "replace")
            if status.startswith("SIP/2.0 200"):
                return None
            if not status.startswith("SIP/2.0 1"):
                last = f"answered {status!r}"
    return last
