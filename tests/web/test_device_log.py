"""Device Log (manual 9.30, 10.5) in real Chromium: Start, an event on the device shows in the live view
as it happens, End, and the saved file holds it; the Log Level setting decides what is kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from portier.door.service import DoorService
from portier.services.device_log import DeviceLogService

from .conftest import http_client, http_login, login, screenshot
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web]

PAGE = "/device-log"


def door(web_device: WebDevice) -> DoorService:
    service = web_device.device.service("door")
    assert isinstance(service, DoorService)
    return service


def device_log(web_device: WebDevice) -> DeviceLogService:
    service = web_device.device.service("device-log")
    assert isinstance(service, DeviceLogService)
    return service


def click(web_device: WebDevice, button: int) -> None:
    """Press and release a call button on the door's virtual pins (an event the log records)."""
    web_device.call(lambda: door(web_device).press(button))
    web_device.call(lambda: door(web_device).release(button))


async def test_start_watch_live_end_and_save(page: Page, web_device: WebDevice, tmp_path: Path) -> None:
    await login(page)
    await page.goto(PAGE)
    await expect(page.locator("#log-live")).to_have_text("connected")
    await page.click("#log-start")
    await expect(page.locator(".message")).to_have_text("The device log recording started.")
    await expect(page.locator("#log-status")).to_contain_text("Recording since")
    await expect(page.locator("#log-live")).to_have_text("connected")
    click(web_device, 4)
    pressed = "event ButtonChanged(button=4, pressed=True, long=False)"
    await expect(page.locator("#log-lines")).to_contain_text(pressed)  # live: the page was not reloaded
    await screenshot(page, "device-log-live")
    await page.click("#log-stop")
    await expect(page.locator(".message")).to_have_text("The device log recording ended: save it below.")
    async with page.expect_download() as waiting:
        await page.click("#log-download")
    download = await waiting.value
    saved = tmp_path / download.suggested_filename
    await download.save_as(saved)
    text = saved.read_text()
    assert saved.name.startswith("portier-device-log-") and saved.suffix == ".txt"
    assert pressed in text and "event ButtonChanged(button=4, pressed=False" in text
    assert text.splitlines()[-1].endswith("device log recording ended")


async def test_the_log_level_decides_what_is_kept(web_device: WebDevice) -> None:
    service = device_log(web_device)
    web_device.set({"Device Log Level": "ERROR"})
    try:
        mark = web_device.call(lambda: service.lines()[-1].id)
        click(web_device, 3)
        await asyncio.sleep(0.3)  # the bus delivers the events to the event log
        quiet = [line.text for line in web_device.call(lambda: service.lines(mark))]
    finally:
        web_device.set({"Device Log Level": "DEBUG"})
    mark = web_device.call(lambda: service.lines()[-1].id)
    click(web_device, 3)
    await asyncio.sleep(0.3)
    chatty = [line.text for line in web_device.call(lambda: service.lines(mark))]
    web_device.set({"Device Log Level": "INFO"})
    assert not any("ButtonChanged(button=3" in line for line in quiet), quiet
    assert any("ButtonChanged(button=3" in line for line in chatty), chatty


async def test_log_actions_need_a_login_and_the_csrf_token(web_device: WebDevice) -> None:
    with http_client(web_device, "127.0.0.31") as client:
        assert client.get(f"{PAGE}/download").status_code == 303, "not logged in: to the login page"
        http_login(client)
        assert client.post(f"{PAGE}/start", data={}).status_code == 403, "no CSRF token, no recording"
        assert not device_log(web_device).recording().running
