"""System >> Configurations (manual 9.4, 10.3) in real Chromium: export and import round-trip through
the browser, a broken file is refused line by line with nothing applied, modules and tables are cleared,
and Reset Phone brings the device back on factory defaults."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.async_api import Page, Route, expect

from portier.passwords import hash_password
from portier.settings.records import (
    TABLES,
    CallRecord,
    Direction,
    Record,
    RestrictedIncoming,
    RestrictedOutgoing,
    UserLevel,
    WebUser,
)

from .conftest import login, screenshot
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web]

PAGE = "/system/configurations"
CALL_LIST = "/call-list/call-list"
R = TypeVar("R", bound=Record)


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


def rows(web_device: WebDevice, kind: type[R]) -> list[R]:
    return web_device.call(lambda: [row for _, row in web_device.device.storage.rows(kind)])


async def restrict(page: Page, table: str, number: str) -> None:
    """Add a number to a restricted list through its form on Call List >> Call List."""
    await page.goto(CALL_LIST)
    await page.fill(f"#t-{table}-number", number)
    await page.click(f"#table-{table} form.add-row button")
    await expect(page.locator(".message")).to_have_text("The row was added.")


async def test_clear_tables_empties_only_the_chosen_tables(page: Page, web_device: WebDevice) -> None:
    """Clear Tables offers every table, all ticked; the ones left ticked are emptied on the device and
    their pages show no rows, the others keep theirs. Clearing the users also logs everybody out and
    brings back admin/admin."""
    await login(page)
    await restrict(page, "restricted_incoming", "0900")
    await restrict(page, "restricted_outgoing", "0190")
    call = CallRecord(
        started=time.time(), direction=Direction.MISSED, line="SIP1", remote="sip:4711@127.0.0.1"
    )
    web_device.call(lambda: web_device.device.storage.add(call))  # a call, as the call log records one
    await page.reload()
    await expect(page.locator("#table-restricted_incoming")).to_contain_text("0900")
    await expect(page.locator("#call-log")).to_contain_text("sip:4711@127.0.0.1")

    await page.goto(PAGE)
    boxes = page.locator("#clear-tables input[type=checkbox]")
    assert [await box.get_attribute("name") for box in await boxes.all()] == [
        f"table:{kind.table}" for kind in TABLES
    ]
    for box in await boxes.all():
        await expect(box).to_be_checked()
        if await box.get_attribute("name") not in ("table:restricted_incoming", "table:call_log"):
            await box.uncheck()
    await page.click("#clear-tables button")
    await expect(page.locator(".message")).to_have_text("Cleared call_log, restricted_incoming.")
    assert rows(web_device, RestrictedIncoming) == [] and rows(web_device, CallRecord) == []
    assert rows(web_device, RestrictedOutgoing) == [RestrictedOutgoing(number="0190")]

    await page.goto(CALL_LIST)
    await expect(page.locator("#table-restricted_incoming td.empty")).to_have_text("No entries.")
    await expect(page.locator("#call-log td.empty")).to_have_text("No calls yet.")
    await expect(page.locator("#table-restricted_outgoing")).to_contain_text("0190")

    extra = WebUser(name="extra", password_hash=hash_password("extra-secret"), level=UserLevel.ADMIN)
    web_device.call(lambda: web_device.device.storage.add(extra))
    await page.goto(PAGE)
    answers: list[str] = []

    async def keep_the_answer(route: Route) -> None:  # the page moves on at once, taking its body along
        answer = await route.fetch()
        answers.append(await answer.text())
        await route.fulfill(response=answer)

    await page.route("**/system/configurations/clear-tables", keep_the_answer)
    await page.click("#clear-tables button")  # everything, as offered
    await expect(page).to_have_url("/login")
    await page.unroute("**/system/configurations/clear-tables")
    assert "the web users are back to admin/admin" in answers[0]
    assert rows(web_device, RestrictedOutgoing) == []
    assert [user.name for user in rows(web_device, WebUser)] == ["admin"]
    await page.goto(CALL_LIST)
    await expect(page).to_have_url("/login?next=%2Fcall-list%2Fcall-list")
    await login(page)
    await expect(page.locator("#table-restricted_outgoing td.empty")).to_have_text("No entries.")


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
