"""A SIP line set up in the browser (Line >> SIP) registers at a real SIPp registrar, and System >>
Information shows it Registered: the form applies to the running device, no restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from ..interop.sipp import SippServer, scenario
from .conftest import login, screenshot
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web, pytest.mark.interop]


async def test_line_set_up_in_the_browser_registers(
    page: Page, web_device: WebDevice, tmp_path: Path
) -> None:
    keys = {"user": "door", "password": "s3cret", "expires": "120"}
    registrar = SippServer(scenario("reg_401"), keys=keys, timeout=20, workdir=tmp_path / "sipp")
    with registrar:
        await login(page)
        await page.goto("/line/sip?unit=SIP1")
        await page.check("#f-lines-sip1-activate")
        await page.fill("#f-lines-sip1-username", "door")
        await page.fill("#f-lines-sip1-auth_password", "s3cret")
        await page.fill("#f-lines-sip1-server1-address", "127.0.0.1")
        await page.fill("#f-lines-sip1-server1-port", str(registrar.port))
        await page.click("#save")
        await expect(page.locator(".message")).to_have_text("Saved: 5 settings changed.")
        await expect(page.locator("#f-lines-sip1-auth_password")).to_have_attribute(
            "placeholder", "unchanged"
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        status = page.locator("#lines tr", has_text="SIP1").locator("td.status")
        while True:
            await page.goto("/system/information")
            if await status.text_content() == "Registered":
                break
            assert loop.time() < deadline, f"SIP1 is {await status.text_content()}, not Registered"
            await asyncio.sleep(0.2)
        await expect(page.locator("#lines tr", has_text="SIP1")).to_contain_text("door")
        await screenshot(page, "system-information-registered")
        result = await asyncio.to_thread(registrar.wait, 10)
    assert result.ok, result.explain()
    assert result.digest_ok("door", "s3cret")
    web_device.set({"SIP1 Enable Reg": 0})
