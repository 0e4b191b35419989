"""The API inside the whole web application (create_app): same routes, same answers, in its OpenAPI."""

from __future__ import annotations

from pathlib import Path

import httpx

from portier.web.app import create_app

from ..interop.device import running_device
from .api_rig import ADMIN, basic, serve


async def test_api_in_the_web_app(tmp_path: Path) -> None:
    async with (
        running_device(tmp_path / "dut", {}) as dut,
        serve(create_app(dut.device)) as url,
        httpx.AsyncClient(base_url=url, timeout=15) as client,
    ):
        info = await client.get("/api/system/info", headers=basic(*ADMIN))
        anonymous = await client.get("/api/switch/status")
        refused = await client.put("/api/config", headers=basic(*ADMIN), content=b"not a config")
        missing = await client.get("/api/nothing/here", headers=basic(*ADMIN))
        document = (await client.get("/openapi.json")).json()
    assert info.status_code == 200 and info.json()["result"]["model"] == "portier-A12"
    assert anonymous.status_code == 401 and anonymous.headers.get_list("www-authenticate")
    assert refused.status_code == 400 and refused.json()["error"]["problems"], refused.text
    assert missing.status_code == 404 and missing.json()["success"] is False
    assert {"/api/switch/ctrl", "/api/log/pull", "/cgi-bin/ConfigManApp.com"} <= set(document["paths"])
    assert {"Basic", "Digest"} <= set(document["components"]["securitySchemes"])
