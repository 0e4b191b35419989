"""System >> Configurations (manual 9.4, 10.3) in real Chromium: export and import round-trip through
the browser, a broken file is refused line by line with nothing applied, modules are cleared, and
Reset Phone brings the device back on factory defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from .conftest import login, screenshot
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web]

PAGE = "/system/configurations"


async def export(page: Page, target: Path) -> bytes:
    async with page.expect_download() as download:
        await page.click("#export")
    await (await download.value).save_as(target)
    return target.read_bytes()


async def import_file(page: Page, path: Path) -> None:
    await page.set_input_files("#import-file", str(path))
    await page.click("#import-button")


async def test_export_then_import_round_trips(page: Page, web_device: WebDevice, tmp_path: Path) -> None:
    web_device.set({"SIP1 Display Name": "Front door", "Logon Timeout": 20, "SIP1 Register Pswd": "s3cret"})
    await login(page)
    await page.goto(PAGE)
    await screenshot(page, "system-configurations")
    exported = await export(page, tmp_path / "exported.txt")
    text = exported.decode()
    assert text.startswith("<<VOIP CONFIG FILE>>") and text.endswith("<<END OF FILE>>\r\n")
    assert "SIP1 Display Name       :Front door\r\n" in text

    web_device.set({"SIP1 Display Name": "changed", "Logon Timeout": 30, "SIP1 Register Pswd": "other"})
    await import_file(page, tmp_path / "exported.txt")
    await expect(page.locator(".message")).to_contain_text("Imported exported.txt: 3 settings changed.")
    assert web_device.get("SIP1 Display Name") == "Front door"
    assert web_device.get("Logon Timeout") == 20
    assert web_device.get("SIP1 Register Pswd") == "s3cret"
    assert await export(page, tmp_path / "again.txt") == exported


async def test_a_broken_file_is_refused_with_line_numbers(
    page: Page, web_device: WebDevice, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text(
        "<<VOIP CONFIG FILE>>Version:2.0000000000\r\n"
        "<MMI CONFIG MODULE>\r\n"
        "Logon Timeout      :25\r\n"
        "Web Port           :70000\r\n"
        "Web Login Attempts :many\r\n"
        "<<END OF FILE>>\r\n"
    )
    await login(page)
    await page.goto(PAGE)
    await import_file(page, broken)
    problems = page.locator(".problems")
    await expect(problems).to_contain_text("Nothing was imported")
    await expect(problems).to_contain_text(
        "line 4: `Web Port` must be a whole number in 1-65535, got '70000'"
    )
    await expect(problems).to_contain_text("line 5: `Web Login Attempts` must be a whole number")
    assert web_device.get("Logon Timeout") != 25


async def test_clear_a_module_then_reset_the_phone(page: Page, web_device: WebDevice) -> None:
    web_device.set({"SIP1 Phone Number": "1001", "Logon Timeout": 45})
    await login(page)
    await page.goto(PAGE)
    await page.check("input[name='module:SIP']")
    await page.click("#clear-modules button")
    await expect(page.locator(".message")).to_contain_text("Cleared SIP")
    assert web_device.get("SIP1 Phone Number") == ""
    assert web_device.get("Logon Timeout") == 45  # another module: untouched

    before = web_device.web
    await page.click("#reset button")
    await expect(page.locator("#restarting")).to_contain_text("factory settings")
    web_device.wait_restarted(before)
    assert web_device.get("Logon Timeout") == 15
    await page.goto("/system/information")  # the reset logged everybody out
    await expect(page).to_have_url("/login?next=%2Fsystem%2Finformation")
    await login(page)
    await expect(page.locator("h1")).to_contain_text("Information")


async def test_reboot_restarts_the_services_and_logs_out(page: Page, web_device: WebDevice) -> None:
    await login(page)
    await page.goto("/reboot")
    before = web_device.web
    sip_before = web_device.device.service("sip")
    await page.click("#reboot")
    await expect(page.locator("#restarting")).to_contain_text("restarting its services")
    web_device.wait_restarted(before)
    assert web_device.device.service("sip") is not sip_before
    await page.goto("/reboot")
    await expect(page).to_have_url("/login?next=%2Freboot")
