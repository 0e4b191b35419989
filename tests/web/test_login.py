"""Login security in real Chromium (manual 9.1, 9.3, Table 13): the default password warning, the
wrong-password lock per address and per user name, session timeout and automatic login, logout,
and what a user-level login may not change.

The lock and the timeout run on the device's test clock: the test moves it past 5 (or 15) minutes.
Other source addresses are other loopback addresses (127.0.0.2...), from an HTTP client bound to them.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from portier.passwords import hash_password
from portier.settings.records import UserLevel, WebUser

from .conftest import http_client, http_login, login, screenshot, token_in
from .web_device import WebDevice

pytestmark = pytest.mark.asyncio(loop_scope="session")

LOCK = 5 * 60 + 1
VIEWER = ("viewer", "viewer-secret")


@pytest.fixture(scope="module", autouse=True)
def viewer(web_device: WebDevice) -> None:
    """A user-level account besides the default admin."""
    user = WebUser(name=VIEWER[0], password_hash=hash_password(VIEWER[1]), level=UserLevel.USER)
    web_device.call(lambda: web_device.device.storage.add(user))


async def test_login_shows_information_and_the_default_password_warning(page: Page) -> None:
    await page.goto("/network/basic")
    await expect(page).to_have_url("/login?next=%2Fnetwork%2Fbasic")
    await screenshot(page, "login")
    await login(page)
    await expect(page.locator("h1")).to_contain_text("Network » Basic")
    await expect(page.locator("#default-password")).to_contain_text("admin/admin")
    await page.goto("/system/information")
    await expect(page.locator("#lines")).to_contain_text("SIP1")


async def test_three_wrong_passwords_lock_the_address_across_user_names(
    page: Page, web_device: WebDevice
) -> None:
    for name in ("alice", "bob", "carol"):
        await login(page, name, "wrong")
    await expect(page.locator("#login-error")).to_contain_text(
        "logins from your address are locked for 5 minutes"
    )
    await login(page)  # the right password, but from the locked address
    await expect(page.locator("#login-error")).to_contain_text("from your address are locked")
    await screenshot(page, "login-locked")
    with http_client(web_device, "127.0.0.2") as other:  # another address is not locked
        assert http_login(other).status_code == 303
    web_device.clock.advance(LOCK)
    await login(page)
    await expect(page.locator("h1")).to_contain_text("Information")


async def test_three_wrong_passwords_lock_the_user_name_across_addresses(
    page: Page, web_device: WebDevice
) -> None:
    for source in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        with http_client(web_device, source) as client:
            refused = http_login(client, "admin", "guess")
            assert refused.status_code == 401
    assert "as admin are locked for 5 minutes" in refused.text
    await login(page)  # right password, fresh address, locked user name
    await expect(page.locator("#login-error")).to_contain_text("as admin are locked")
    await login(page, *VIEWER)  # another user from the same address is not locked
    await expect(page.locator("h1")).to_contain_text("Information")
    web_device.clock.advance(LOCK)
    await page.context.clear_cookies()
    await login(page)
    await expect(page.locator(".who")).to_contain_text("admin (administrator)")


async def test_idle_session_times_out_unless_automatic_login(page: Page, web_device: WebDevice) -> None:
    await login(page)
    await page.goto("/network/service-port")
    web_device.clock.advance(14 * 60)
    await page.reload()
    await expect(page.locator("h1")).to_contain_text("Service Port")
    web_device.clock.advance(15 * 60 + 1)
    await page.reload()
    await expect(page).to_have_url("/login?next=%2Fnetwork%2Fservice-port&expired=1")
    await expect(page.locator(".message")).to_contain_text("timed out")
    web_device.set({"Web Auto Login": 1})
    try:
        await login(page)
        web_device.clock.advance(60 * 60)
        await page.goto("/network/service-port")
        await expect(page.locator("h1")).to_contain_text("Service Port")
    finally:
        web_device.set({"Web Auto Login": 0})


async def test_logout_ends_the_session(page: Page) -> None:
    await login(page)
    await page.click("header form.logout button")
    await expect(page).to_have_url("/login")
    await page.goto("/system/account")
    await expect(page).to_have_url("/login?next=%2Fsystem%2Faccount")


async def test_a_user_sees_admin_pages_but_cannot_change_them(page: Page, web_device: WebDevice) -> None:
    await login(page, *VIEWER)
    await page.goto("/network/service-port")
    await expect(page.locator(".readonly")).to_contain_text("Only an administrator")
    await expect(page.locator("#f-network-ports-web_login_timeout")).to_be_disabled()
    await expect(page.locator("#save")).to_have_count(0)
    with http_client(web_device, "127.0.0.5") as client:
        http_login(client, *VIEWER)
        token = token_in(client.get("/network/service-port").text)
        refused = client.post(
            "/network/service-port", data={"csrf_token": token, "network.ports.web_login_timeout": "99"}
        )
        assert refused.status_code == 403
        assert "not an administrator" in refused.text
        assert client.get("/system/configurations/export").status_code == 403
    assert web_device.get("Logon Timeout") == 15


async def test_changing_the_password_removes_the_warning(page: Page, web_device: WebDevice) -> None:
    await login(page, *VIEWER)
    await page.goto("/system/account")
    await expect(page.locator("#users")).not_to_contain_text("admin")  # a user sees only themself
    await page.fill("#pw-current", VIEWER[1])
    await page.fill("#pw-new", "new-viewer-secret")
    await page.fill("#pw-confirm", "new-viewer-secret")
    await page.click("#change-password button")
    await expect(page.locator(".message")).to_contain_text("password was changed")
    await page.context.clear_cookies()
    await login(page, VIEWER[0], "new-viewer-secret")
    await expect(page.locator(".who")).to_contain_text("viewer (user)")
    await page.context.clear_cookies()
    await login(page)
    await page.goto("/system/account")
    await page.fill("#pw-current", "admin")
    await page.fill("#pw-new", "door-4711")
    await page.fill("#pw-confirm", "door-4711")
    await page.click("#change-password button")
    await expect(page.locator(".message")).to_contain_text("password was changed")
    await expect(page.locator("#default-password")).to_have_count(0)
    await screenshot(page, "system-account")
