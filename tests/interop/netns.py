"""A throw-away network namespace that has nothing but its own loopback interface.

Why: some tests must send to addresses that are not ours. The RFC 4475 torture vectors name hosts
such as 192.0.2.x (TEST-NET-1), and a real portier answering them would send replies there. Inside a
``LoopbackNamespace`` only ``lo`` exists (127.0.0.1/8, ::1), there is no route anywhere else, so
such sends fail at once with "network unreachable" instead of leaving the machine; the vectors can
be replayed to a real portier running inside it safely. Processes are started inside with
``ip netns exec``; on exit every process still in the namespace is killed by PID and the namespace
is deleted. Needs root (CAP_SYS_ADMIN) and iproute2.

A test that needs more than loopback adds it with ``ip()`` (a veth pair with TEST-NET addresses, a
default route on it: still nothing leaves the namespace); ``call_inside()`` runs Python code of the
test itself in the namespace (one thread joins it), e.g. a device on the test's own terms.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from .peers import require

T = TypeVar("T")
CLONE_NEWNET = 0x40000000


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

    def ip(self, *args: str) -> str:
        """``ip -n NAME ARGS...`` (configure the namespace's links, addresses and routes); its output."""
        if not self._created:
            raise RuntimeError("LoopbackNamespace used outside its with block")
        argv = [self._ip, "-n", self.name, *args]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        if result.returncode != 0:
            raise AssertionError(f"ip -n {self.name} {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def call_inside(self, function: Callable[[], T], *, timeout: float = 120) -> T:
        """``function()`` in a new thread that has joined this namespace (setns(2)); its result or its
        exception. Only that thread moves: what it opens (sockets, child processes, threads it starts)
        lives in the namespace, the caller stays where it is. The thread ends with ``function``."""
        if not self._created:
            raise RuntimeError("LoopbackNamespace used outside its with block")
        outcome: list[T] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        error = ctypes.get_errno()
                        raise OSError(error, f"setns into {self.name}: {os.strerror(error)}")
                finally:
                    os.close(fd)
                outcome.append(function())
            except BaseException as exc:  # handed to the caller
                failure.append(exc)

        thread = threading.Thread(target=run, name=f"in-{self.name}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise AssertionError(f"what ran inside {self.name} did not finish within {timeout} s")
        if failure:
            raise failure[0]
        return outcome[0]

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
