"""The HTTP API on the device's own web server (httpx): wrong Basic and Digest passwords count in the web
login's lock (3 from one address, or for one user name, lock both for Web Lock Time, on the test clock),
and "Trigger by URI" switches the outputs whose Trigger or Reset Message is sent."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from portier.passwords import hash_password
from portier.settings.records import UserLevel, WebUser

from .conftest import ADMIN, http_client, http_login
from .test_api_auth import challenge_for, digest_header
from .web_device import WebDevice

pytestmark = pytest.mark.web

LOCK = 5 * 60 + 1
GUARD = ("guard", "guard-secret")
INFO = "/api/system/info"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def digest(client: httpx.Client, user: str, password: str) -> httpx.Response:
    challenge = challenge_for(client.get(INFO), "SHA-256")
    return client.get(INFO, headers={"Authorization": digest_header(challenge, user, password, "GET", INFO)})


@pytest.fixture(scope="module", autouse=True)
def guard(web_device: WebDevice) -> None:
    """A user-level account this module may lock without locking ``admin`` for the other modules."""
    user = WebUser(name=GUARD[0], password_hash=hash_password(GUARD[1]), level=UserLevel.USER)
    web_device.call(lambda: web_device.device.storage.add(user))


@pytest.fixture
def clients(web_device: WebDevice) -> Iterator[dict[str, httpx.Client]]:
    with http_client(web_device, "127.0.0.41") as one, http_client(web_device, "127.0.0.42") as two:
        yield {"locked": one, "other": two}
    web_device.clock.advance(LOCK)  # whatever a failed test locked is free again


def test_three_wrong_api_passwords_lock_the_api_and_the_web_login(
    web_device: WebDevice, clients: dict[str, httpx.Client]
) -> None:
    client, other = clients["locked"], clients["other"]
    assert client.get(INFO, headers=basic(*GUARD)).status_code == 200
    first = client.get(INFO, headers=basic(GUARD[0], "wrong"))
    second = digest(client, GUARD[0], "wrong again")
    third = client.get(INFO, headers=basic(GUARD[0], "still wrong"))
    assert [r.status_code for r in (first, second, third)] == [401, 401, 401], third.text
    assert "locked for 5 minutes" in third.json()["error"]["description"]

    locked = client.get(INFO, headers=basic(*ADMIN))  # right password, locked address
    assert locked.status_code == 429 and "from your address" in locked.json()["error"]["description"]
    assert int(locked.headers["retry-after"]) > 290
    by_name = other.get(INFO, headers=basic(*GUARD))  # right password, locked user name
    assert by_name.status_code == 429 and "as guard" in by_name.json()["error"]["description"]
    assert digest(other, *GUARD).status_code == 429
    page = http_login(client)  # the web login shares the lock
    assert page.status_code == 429 and "locked" in page.text
    assert other.get(INFO, headers=basic(*ADMIN)).status_code == 200, "another address and name are free"

    web_device.clock.advance(LOCK)
    assert client.get(INFO, headers=basic(*GUARD)).status_code == 200
    assert digest(other, *GUARD).status_code == 200


def test_requests_without_a_password_are_not_counted(clients: dict[str, httpx.Client]) -> None:
    client = clients["locked"]
    for _ in range(4):
        assert client.get(INFO).status_code == 401
        assert client.get(INFO, headers={"Authorization": "Basic !!!"}).status_code == 401
    assert client.get(INFO, headers=basic(*GUARD)).status_code == 200


def test_trigger_by_uri_switches_the_outputs_with_that_message(
    web_device: WebDevice, clients: dict[str, httpx.Client]
) -> None:
    client = clients["other"]
    web_device.set({
        "Output1 URI Trigger": 1, "Output1 URI Trigger Msg": "open-sesame", "Output1 URI Reset Msg": "close",
        "Output2 URI Trigger Msg": "open-sesame",  # Trigger by URI off: output 2 stays
    })  # fmt: skip
    try:
        opened = client.get("/api/switch/uri", params={"message": "open-sesame"}, headers=basic(*GUARD))
        closed = client.post("/api/switch/uri", params={"message": " close "}, headers=basic(*GUARD))
        unknown = client.get("/api/switch/uri", params={"message": "abracadabra"}, headers=basic(*GUARD))
        anonymous = client.get("/api/switch/uri", params={"message": "open-sesame"})
    finally:
        web_device.set({
            "Output1 URI Trigger": 0, "Output1 URI Trigger Msg": "", "Output1 URI Reset Msg": "",
            "Output2 URI Trigger Msg": "",
        })  # fmt: skip
    assert opened.status_code == 200, opened.text
    assert opened.json()["result"] == {
        "matched": [1],
        "switches": [
            {"switch": 1, "active": True, "name": "Output1"},
            {"switch": 2, "active": False, "name": "Output2"},
        ],
    }
    assert closed.status_code == 200 and closed.json()["result"]["switches"][0]["active"] is False
    assert unknown.status_code == 404 and "Trigger by URI" in unknown.json()["error"]["description"]
    assert anonymous.status_code == 401
