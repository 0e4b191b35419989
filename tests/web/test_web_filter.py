"""Security >> Web filter (manual 9.26) in real Chromium: changes that would shut out the browser making
them are refused with the reason; an enabled filter turns away every other address (over HTTP,
before any page or login); a range whose ends are swapped is refused next to its field."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from portier.settings.records import WebFilterRange

from .conftest import http_client, login, screenshot
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web]

PAGE = "/security/web-filter"
TABLE = "#table-web_filter"
ENABLE = "#f-security-web_filter-enable"


async def add_range(page: Page, start: str, end: str) -> None:
    await page.fill("#t-web_filter-start_ip", start)
    await page.fill("#t-web_filter-end_ip", end)
    await page.click(f"{TABLE} form.add-row button")


def filter_rows(web_device: WebDevice) -> list[WebFilterRange]:
    return web_device.call(lambda: [row for _, row in web_device.device.storage.rows(WebFilterRange)])


async def test_filter_refuses_self_lockout_then_turns_other_addresses_away(
    page: Page, web_device: WebDevice
) -> None:
    await login(page)
    await page.goto(PAGE)

    await page.check(ENABLE)  # no range at all yet
    await page.click("#save")
    await expect(page.locator(".problems")).to_contain_text("would lock your browser out")
    await expect(page.locator(".problems")).to_contain_text("127.0.0.1")
    assert web_device.get("Enable MMI Filter") is False

    await add_range(page, "127.0.0.9", "127.0.0.2")
    await expect(page.locator(f"{TABLE} .error")).to_contain_text("lies above the end address")
    await add_range(page, "127.0.0.300", "127.0.0.4")
    await expect(page.locator(f"{TABLE} .error")).to_contain_text("must be an IPv4 address")
    await add_range(page, "127.0.0.2", "127.0.0.9")
    await expect(page.locator(TABLE)).to_contain_text("127.0.0.9")
    await page.check(ENABLE)  # a range, but not ours
    await page.click("#save")
    await expect(page.locator(".problems")).to_contain_text("would lock your browser out")
    assert web_device.get("Enable MMI Filter") is False

    await add_range(page, "127.0.0.1", "127.0.0.1")
    await page.check(ENABLE)
    await page.click("#save")
    await expect(page.locator(".message")).to_contain_text("Saved: 1 setting changed.")
    await screenshot(page, "security-web-filter-enabled")
    try:
        with http_client(web_device, "127.0.0.2") as inside, http_client(web_device, "127.0.0.10") as outside:
            assert inside.get("/login").status_code == 200
            refused = outside.get("/login")
            assert refused.status_code == 403
            assert "web filter" in refused.text and "127.0.0.10" in refused.text
            assert outside.get("/static/portier.css").status_code == 403
            assert outside.post("/login", data={"username": "admin"}).status_code == 403

        ours = page.locator(f"{TABLE} tr", has_text="127.0.0.1").locator("button.delete")
        await ours.click()  # deleting the browser's own range while the filter is on
        await expect(page.locator(".problems")).to_contain_text("The range was not deleted")
        assert len(filter_rows(web_device)) == 2
    finally:
        await page.goto(PAGE)
        await page.uncheck(ENABLE)
        await page.click("#save")
        await expect(page.locator(".message")).to_contain_text("Saved: 1 setting changed.")
    with http_client(web_device, "127.0.0.10") as outside:
        assert outside.get("/login").status_code == 200
    delete = page.locator(f"{TABLE} button.delete")
    for remaining in range(await delete.count(), 0, -1):
        await delete.first.click()
        await expect(delete).to_have_count(remaining - 1)
    assert filter_rows(web_device) == []
