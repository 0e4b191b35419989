"""Fixtures that hand tests real peers (Kamailio, SIPp servers, a loopback netns) and always clean up."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .kamailio import Kamailio
from .netns import LoopbackNamespace
from .peers import require
from .sipp import SippServer

DEFAULT_USERS = {"alice": "alice-secret", "bob": "bob-secret"}

KamailioFactory = Callable[..., Kamailio]
SippServerFactory = Callable[..., SippServer]


@pytest.fixture
def kamailio_factory(tmp_path: Path) -> Iterator[KamailioFactory]:
    """``kamailio_factory(users=..., realm=..., qop=..., auth_kind=..., min_expires=..., ...)`` starts
    a Kamailio (see ``Kamailio``) in its own directory under tmp_path; all are stopped at teardown.
    ``users`` defaults to alice/alice-secret and bob/bob-secret."""
    instances: list[Kamailio] = []

    def make(*, start: bool = True, **options: Any) -> Kamailio:
        options.setdefault("users", DEFAULT_USERS)
        instance = Kamailio(tmp_path / f"kamailio-{len(instances) + 1}", **options)
        instances.append(instance)
        if start:
            instance.start()
        return instance

    yield make
    for instance in instances:
        instance.close()


@pytest.fixture
def kamailio(kamailio_factory: KamailioFactory) -> Kamailio:
    """A running Kamailio with the default users, qop, 401 for REGISTER, 407 for other requests."""
    return kamailio_factory()


@pytest.fixture
def sipp_server_factory(tmp_path: Path) -> Iterator[SippServerFactory]:
    """``sipp_server_factory(scenario_path, keys=..., transport=..., ...)`` serves a UAS scenario on a
    free 127.0.0.1 port (already listening when it returns); every server is stopped at teardown."""
    servers: list[SippServer] = []

    def make(scenario: Path, **options: Any) -> SippServer:
        options.setdefault("workdir", tmp_path / "sipp")
        server = SippServer(scenario, **options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def loopback_namespace() -> Iterator[LoopbackNamespace]:
    """A fresh network namespace with only ``lo`` up, deleted (and emptied) after the test."""
    with LoopbackNamespace() as namespace:
        yield namespace


HOST = "127.0.0.1"


def free_port_both() -> int:
    """A port free for UDP and TCP on loopback (coturn listens on both)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind((HOST, 0))
        port = int(udp.getsockname()[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        tcp.bind((HOST, port))
    return port


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """coturn on HOST:port with no config file (-n), nothing but STUN, state files in tmp_path."""
    binary = require("turnserver")
    port = free_port_both()
    log = tmp_path / "turnserver.log"
    command = [
        binary, "-n", "--stun-only", "--no-cli", "--no-tls", "--no-dtls",
        "--listening-ip", HOST, "--relay-ip", HOST, "--listening-port", str(port),
        "--pidfile", str(tmp_path / "turnserver.pid"), "--userdb", str(tmp_path / "turndb"),
        "--log-file", "stdout", "--simple-log",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        yield port, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
