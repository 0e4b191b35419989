"""Fixtures that hand tests real peers (Kamailio, SIPp servers, a loopback netns) and always clean up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .kamailio import Kamailio
from .netns import LoopbackNamespace
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
