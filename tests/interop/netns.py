"""A throw-away network namespace that has nothing but its own loopback interface.

Why: some tests must send to addresses that are not ours. The RFC 4475 torture vectors name hosts
such as 192.0.2.x (TEST-NET-1), and a real portier answering them would send replies there. Inside a
``LoopbackNamespace`` only ``lo`` exists (127.0.0.1/8, ::1), there is no route anywhere else, so
such sends fail at once with "network unreachable" instead of leaving the machine; the vectors can
be replayed to a real portier running inside it safely. Processes are started inside with
``ip netns exec``; on exit every process still in the namespace is killed by PID and the namespace
is deleted. Needs root (CAP_SYS_ADMIN) and iproute2.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from .peers import require


def require_netns() -> str:
    """The path of ``ip``; fails the test with what to do when namespaces cannot be made here."""
    if os.geteuid() != 0:
        raise AssertionError("network namespaces need root: run the interop tests as root (scripts/test)")
    return require("ip")


class LoopbackNamespace:
    """``with LoopbackNamespace() as ns: ns.run([...])`` runs commands in a fresh loopback-only netns."""

    def __init__(self, prefix: str = "portier") -> None:
        self.name = f"{prefix}-{secrets.token_hex(4)}"
        self._ip = ""
        self._created = False
        self._children: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Self:
        self._ip = require_netns()
        self._ip_command("netns", "add", self.name)
        self._created = True
        try:
            self._ip_command("-n", self.name, "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` prefixed so that it runs inside the namespace."""
        if not self._created:
            raise RuntimeError("LoopbackNamespace used outside its with block")
        return [self._ip, "netns", "exec", self.name, *argv]

    def run(
        self, argv: Sequence[str], *, timeout: float = 30, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run to completion inside the namespace (text output captured unless told otherwise)."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        result: subprocess.CompletedProcess[str] = subprocess.run(self.argv(argv), timeout=timeout, **kwargs)
        return result

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a background process inside the namespace; it is killed when the namespace closes."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs.setdefault("start_new_session", True)
        process: subprocess.Popen[bytes] = subprocess.Popen(self.argv(argv), **kwargs)
        self._children.append(process)
        return process

    def pids(self) -> list[int]:
        """PIDs of every process whose network namespace is this one."""
        result = subprocess.run(
            [self._ip, "netns", "pids", self.name], capture_output=True, text=True, timeout=10, check=False
        )
        return [int(token) for token in result.stdout.split() if token.isdigit()]

    def close(self) -> None:
        """Stop what was started here (terminate, then kill), kill stragglers by PID, delete the netns."""
        if not self._created:
            return
        for process in self._children:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._ip_command("netns", "delete", self.name)
        self._created = False

    def _ip_command(self, *args: str) -> None:
        result = subprocess.run([self._ip, *args], capture_output=True, text=True, timeout=10, check=False)
        if result.returncode != 0:
            raise AssertionError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
