"""Basic and Digest (RFC 7616) on the HTTP API, and who may do what.

The Digest answers are computed here from the RFC's formulas, independently of portier's code; two
third-party clients (curl and httpx's DigestAuth) must get in too.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from portier.passwords import hash_password
from portier.settings.records import UserLevel, WebUser

from ..interop.peers import require
from .api_rig import ADMIN, VIEWER, ApiRig, api_rig, basic

HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[ApiRig]:
    async with api_rig(tmp_path) as rig:
        yield rig


def challenge_for(response: httpx.Response, algorithm: str) -> dict[str, str]:
    """The parameters of the 401's Digest challenge for ``algorithm``."""
    assert response.status_code == 401, response.text
    for value in response.headers.get_list("www-authenticate"):
        scheme, _, rest = value.partition(" ")
        params = {k.lower(): v for k, v in re.findall(r'([\w-]+)=(?:"([^"]*)"|[^,\s]+)', rest)}
        params.update({k.lower(): v for k, v in re.findall(r'([\w-]+)=([^",\s]+)', rest)})
        if scheme == "Digest" and params.get("algorithm") == algorithm:
            return params
    raise AssertionError(f"no Digest {algorithm} challenge in {response.headers}")


def digest_header(
    params: dict[str, str], user: str, password: str, method: str, uri: str, nc: int = 1, algorithm: str = ""
) -> str:
    """RFC 7616 §3.4.1 with qop=auth, written out from the RFC."""
    algorithm = algorithm or params["algorithm"]

    def h(text: str) -> str:
        return HASHES[algorithm](text.encode()).hexdigest()

    cnonce = secrets.token_hex(8)
    count = f"{nc:08x}"
    ha1 = h(f"{user}:{params['realm']}:{password}")
    ha2 = h(f"{method}:{uri}")
    response = h(f"{ha1}:{params['nonce']}:{count}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", uri="{uri}", '
        f'algorithm={algorithm}, qop=auth, nc={count}, cnonce="{cnonce}", response="{response}"'
    )


async def digest_get(
    client: httpx.AsyncClient, uri: str, user: str, password: str, algorithm: str = "SHA-256"
) -> httpx.Response:
    challenge = challenge_for(await client.get(uri), algorithm)
    return await client.get(
        uri, headers={"Authorization": digest_header(challenge, user, password, "GET", uri)}
    )


# --- Basic --------------------------------------------------------------------------------------------


async def test_basic_right_wrong_and_malformed(rig: ApiRig) -> None:
    async with rig.client(auth=None) as client:
        assert (await client.get("/api/system/info", headers=basic(*ADMIN))).status_code == 200
        assert (await client.get("/api/system/info", headers=basic(*VIEWER))).status_code == 200
        wrong = await client.get("/api/system/info", headers=basic("admin", "nimda"))
        unknown = await client.get("/api/system/info", headers=basic("mallory", "admin"))
        garbled = await client.get("/api/system/info", headers={"Authorization": "Basic !!!not-base64"})
        other = await client.get("/api/system/info", headers={"Authorization": "Bearer abc"})
    for response in (wrong, unknown, garbled, other):
        assert response.status_code == 401, response.text
        assert response.json()["success"] is False
        assert len(response.headers.get_list("www-authenticate")) == 3


# --- Digest -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
async def test_digest_with_the_factory_admin_and_a_user(rig: ApiRig, algorithm: str) -> None:
    """The factory admin/admin works at once (its keys are derived on first use); the viewer's were
    stored when its password was set. A query string is part of the digested uri."""
    async with rig.client(auth=None) as client:
        admin = await digest_get(client, "/api/system/info", *ADMIN, algorithm=algorithm)
        viewer = await digest_get(client, "/api/switch/status?switch=1", *VIEWER, algorithm=algorithm)
        wrong = await digest_get(client, "/api/system/info", "viewer", "guess", algorithm=algorithm)
    assert admin.status_code == 200 and admin.json()["result"]["model"] == "portier-A12", admin.text
    assert viewer.status_code == 200, viewer.text
    assert wrong.status_code == 401 and "stale" not in wrong.headers["www-authenticate"]


async def test_digest_nonce_count_cannot_be_replayed(rig: ApiRig) -> None:
    uri = "/api/system/status"
    async with rig.client(auth=None) as client:
        challenge = challenge_for(await client.get(uri), "SHA-256")
        first = digest_header(challenge, *ADMIN, "GET", uri, nc=1)
        assert (await client.get(uri, headers={"Authorization": first})).status_code == 200
        replay = await client.get(uri, headers={"Authorization": first})
        assert replay.status_code == 401
        assert all("stale=true" in v for v in replay.headers.get_list("www-authenticate")[:2])
        second = digest_header(challenge, *ADMIN, "GET", uri, nc=2)
        assert (await client.get(uri, headers={"Authorization": second})).status_code == 200


async def test_digest_uri_must_be_the_request_target(rig: ApiRig) -> None:
    async with rig.client(auth=None) as client:
        challenge = challenge_for(await client.get("/api/system/info"), "MD5")
        other = digest_header(challenge, *ADMIN, "GET", "/api/system/status")
        response = await client.get("/api/system/info", headers={"Authorization": other})
    assert response.status_code == 400 and "uri" in response.json()["error"]["description"]


async def test_digest_keys_follow_the_password(rig: ApiRig) -> None:
    """A user made without Digest keys gets Basic only until one Basic login stores them; a new
    password makes the old keys useless."""
    storage = rig.dut.device.storage
    ident = storage.add(WebUser(name="guard", password_hash=hash_password("old-pass"), level=UserLevel.USER))
    async with rig.client(auth=None) as client:
        before = await digest_get(client, "/api/system/info", "guard", "old-pass")
        assert before.status_code == 401 and "Basic" in before.json()["error"]["description"]
        assert (await client.get("/api/system/info", headers=basic("guard", "old-pass"))).status_code == 200
        assert (await digest_get(client, "/api/system/info", "guard", "old-pass")).status_code == 200
        storage.update(
            ident, WebUser(name="guard", password_hash=hash_password("new-pass"), level=UserLevel.USER)
        )
        assert (await digest_get(client, "/api/system/info", "guard", "old-pass")).status_code == 401
        assert (await client.get("/api/system/info", headers=basic("guard", "old-pass"))).status_code == 401


async def test_curl_digest(rig: ApiRig) -> None:
    """curl, a client written by others, logs in with --digest, choosing SHA-256 (offered first), and
    fails with a wrong password."""
    curl = require("curl")

    def run(password: str) -> subprocess.CompletedProcess[str]:
        command = [curl, "-sS", "-v", "--digest", "-u", f"viewer:{password}", "--max-time", "10",
                   "-w", "\n%{http_code}", f"{rig.url}/api/call/status"]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)

    good = await asyncio.to_thread(run, VIEWER[1])
    bad = await asyncio.to_thread(run, "nope")
    assert good.stdout.rstrip().endswith("200"), good.stdout + good.stderr
    assert '"success":true' in good.stdout
    sent = next(line for line in good.stderr.splitlines() if "Authorization: Digest" in line)
    assert "qop=auth" in sent and "algorithm=SHA-256" in sent, sent  # curl takes the first challenge
    assert bad.stdout.rstrip().endswith("401"), bad.stdout + bad.stderr


async def test_httpx_digest_auth(rig: ApiRig) -> None:
    async with rig.client(auth=None) as client:
        response = await client.get("/api/phone/status", auth=httpx.DigestAuth(*VIEWER))
    assert response.status_code == 200, response.text


# --- privileges ---------------------------------------------------------------------------------------


async def test_user_level_controls_but_does_not_administer(rig: ApiRig) -> None:
    async with rig.client(VIEWER) as viewer:
        assert (
            await viewer.get("/api/switch/ctrl", params={"switch": 1, "action": "trigger"})
        ).status_code == 200
        assert (await viewer.get("/api/call/status")).status_code == 200
        assert (await viewer.get("/api/log/subscribe")).status_code == 200
        for method, path in (("GET", "/api/config"), ("PUT", "/api/config"), ("POST", "/api/system/restart")):
            response = await viewer.request(method, path, content=b"")
            assert response.status_code == 403, (method, path, response.text)
            assert "administrator" in response.json()["error"]["description"]
    async with rig.client(ADMIN) as admin:
        assert (await admin.get("/api/config")).status_code == 200
