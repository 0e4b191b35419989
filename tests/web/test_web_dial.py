"""Call list >> Web Dial (manual 9.24) in real Chromium against real SIPp: dial out to a UAS, and answer
then hang up a call a UAC places."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from ..interop.sipp import SippServer, free_port, run_sipp, scenario
from .conftest import login, screenshot
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web, pytest.mark.interop]

PAGE = "/call-list/web-dial"


async def wait_for_call(page: Page, state: str, timeout: float = 10.0) -> None:
    """Reload Web Dial until a call in ``state`` is listed (the page is not live)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        await page.goto(PAGE)
        if await page.locator("#calls td.state", has_text=state).count():
            return
        assert loop.time() < deadline, f"no {state} call on Web Dial after {timeout} s"
        await asyncio.sleep(0.1)


async def test_dial_a_sip_uri_from_the_browser(page: Page, tmp_path: Path) -> None:
    uas = SippServer(
        scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", "1500"], timeout=15,
        workdir=tmp_path / "sipp",
    )  # fmt: skip
    with uas:
        await login(page)
        await page.goto(PAGE)
        await page.fill("#number", f"sip:service@127.0.0.1:{uas.port}")
        await page.select_option("#line", "0")
        await page.click("#dial-button")
        await expect(page.locator(".message")).to_have_text("Dialling…")
        await wait_for_call(page, "Talking")
        await screenshot(page, "call-list-web-dial-talking")
        result = await asyncio.to_thread(uas.wait, 15)
    assert result.ok, result.explain()
    await page.goto(PAGE)
    await expect(page.locator("#calls")).to_contain_text("No calls.")


async def test_answer_and_hang_up_from_the_browser(page: Page, web_device: WebDevice, tmp_path: Path) -> None:
    web_device.set({"P2P Auto Answer": 0})
    try:
        await login(page)
        caller = asyncio.create_task(asyncio.to_thread(
            run_sipp, scenario("call_uac_wait_bye"), remote=f"127.0.0.1:{web_device.sip_port}",
            extra=["-mp", str(free_port("udp"))], timeout=20, workdir=tmp_path / "sipp",
        ))  # fmt: skip
        await wait_for_call(page, "Ringing")
        await page.click("#calls button.answer")
        await expect(page.locator(".message")).to_have_text("Answered.")
        await wait_for_call(page, "Talking")
        await page.click("#calls button.hangup")
        await expect(page.locator(".message")).to_have_text("Hung up.")
        result = await caller
        assert result.ok, result.explain()
        assert result.received("BYE"), result.explain()
    finally:
        web_device.set({"P2P Auto Answer": 1})


async def test_a_number_without_a_line_is_refused_with_the_reason(page: Page) -> None:
    await login(page)
    await page.goto(PAGE)
    await page.fill("#number", "1234")
    await page.select_option("#line", "1")
    await page.click("#dial-button")
    await expect(page.locator(".problems")).to_contain_text("SIP1 is not active")
    await page.select_option("#line", "0")
    await page.click("#dial-button")
    await expect(page.locator(".problems")).to_contain_text("neither an IP address nor a SIP URI")
