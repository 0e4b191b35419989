"""System >> Account (manual 9.3) in real Chromium: an administrator adds users of both levels through the
Add user form and deletes them from the users table; a new login works at once and ends with its
deletion; a user-level login cannot manage accounts; the account in use (so also the last administrator)
cannot be deleted; bad input and forms without their CSRF token are refused.

Refused actions a browser never offers (the Delete button of your own row is not shown, a user sees no
Add user form) are sent from the page itself, as a same-origin form with the page's own CSRF token: the
server must refuse them, not only the page hide them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Locator, Page, Response, expect

from portier.settings.records import UserLevel, WebUser

from .conftest import BROWSER_STEP, browser_context, http_client, http_login, login, screenshot, token_in
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web]

ACCOUNT = "/system/account"
FORGE = """([action, fields]) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = action;
    const token = document.querySelector("input[name=csrf_token]").value;
    for (const [name, value] of Object.entries({csrf_token: token, ...fields})) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
}"""


@pytest_asyncio.fixture(loop_scope="session")
async def second(browser: Browser, web_device: WebDevice) -> AsyncIterator[Page]:
    """A second browser (its own cookies) for the user the administrator manages."""
    async with browser_context(browser, web_device) as context:
        async with asyncio.timeout(BROWSER_STEP):
            made = await context.new_page()
        yield made


def users(web_device: WebDevice) -> dict[str, UserLevel]:
    return web_device.call(
        lambda: {user.name: user.level for _, user in web_device.device.storage.rows(WebUser)}
    )


async def add_user(page: Page, name: str, level: str, password: str, confirm: str | None = None) -> None:
    """Fill and send the Add user form of System >> Account."""
    await page.goto(ACCOUNT)
    await page.fill("#add-name", name)
    await page.select_option("#add-level", level)
    await page.fill("#add-new", password)
    await page.fill("#add-confirm", password if confirm is None else confirm)
    await page.click("#add-user button")


async def added(page: Page, name: str, level: str, password: str) -> None:
    """Add a user through the form, and see the page say it was added."""
    await add_user(page, name, level, password)
    await expect(page.locator(".message")).to_have_text("The user was added.")


async def delete_user(page: Page, name: str) -> None:
    """Press the Delete button in the user's row of the users table."""
    await page.goto(ACCOUNT)
    await user_row(page, name).locator("button.delete").click()


def user_row(page: Page, name: str) -> Locator:
    name_cell = page.locator("td:first-child", has_text=re.compile(f"^{re.escape(name)}$"))
    return page.locator("#users tbody tr").filter(has=name_cell)


async def forge(page: Page, action: str, fields: Mapping[str, str]) -> Response:
    """POST ``fields`` to ``action`` from the page on screen, with its CSRF token; the answer."""
    async with page.expect_navigation() as navigation:
        await page.evaluate(FORGE, [action, dict(fields)])
    answer = await navigation.value
    assert answer is not None
    return answer


async def test_an_admin_adds_a_user_and_an_administrator_who_can_log_in(
    page: Page, second: Page, web_device: WebDevice
) -> None:
    await login(page)
    await added(page, "clerk", "user", "clerk-secret")
    await expect(user_row(page, "clerk")).to_contain_text("user")
    await added(page, "deputy", "admin", "deputy-secret")
    await expect(user_row(page, "deputy")).to_contain_text("admin")
    await screenshot(page, "system-account-users")
    assert users(web_device) == {"admin": UserLevel.ADMIN, "clerk": UserLevel.USER, "deputy": UserLevel.ADMIN}

    await login(second, "clerk", "clerk-secret")
    await expect(second.locator(".who")).to_have_text("clerk (user)")
    await second.context.clear_cookies()
    await login(second, "deputy", "deputy-secret")
    await expect(second.locator(".who")).to_have_text("deputy (administrator)")
    await second.goto(ACCOUNT)  # an administrator sees every user and may add more
    await expect(second.locator("#users")).to_contain_text("clerk")
    await expect(second.locator("#add-user")).to_be_visible()


async def test_a_user_level_login_cannot_add_or_delete_users(
    page: Page, second: Page, web_device: WebDevice
) -> None:
    await login(page)
    await added(page, "reader", "user", "reader-secret")

    await login(second, "reader", "reader-secret")
    await second.goto(ACCOUNT)
    await expect(second.locator("#users tbody tr")).to_have_count(1)  # only themself
    await expect(second.locator("#users")).to_contain_text("reader")
    await expect(second.locator("#add-user")).to_have_count(0)
    await expect(second.locator("#users button.delete")).to_have_count(0)

    refused = await forge(
        second, f"{ACCOUNT}/add", {"name": "sneaky", "level": "admin", "new": "x1", "confirm": "x1"}
    )
    assert refused.status == 403
    await expect(second.locator("body")).to_contain_text("user reader is not an administrator")
    await second.goto(ACCOUNT)
    refused = await forge(second, f"{ACCOUNT}/delete", {"name": "admin"})
    assert refused.status == 403
    await expect(second.locator("body")).to_contain_text("is not an administrator")
    assert "sneaky" not in users(web_device)
    assert users(web_device)["admin"] is UserLevel.ADMIN

    await second.goto("/system/configurations")  # admin-only actions elsewhere are not offered either
    await expect(second.locator(".readonly")).to_contain_text("Only an administrator")
    await expect(second.locator("#clear-tables")).to_have_count(0)


async def test_deleting_a_user_ends_its_session_and_its_login(
    page: Page, second: Page, web_device: WebDevice
) -> None:
    await login(page)
    await added(page, "leaver", "user", "leaver-secret")
    await login(second, "leaver", "leaver-secret")
    await expect(second.locator(".who")).to_have_text("leaver (user)")

    await delete_user(page, "leaver")
    await expect(page.locator(".message")).to_have_text("The user was deleted.")
    await expect(user_row(page, "leaver")).to_have_count(0)
    assert "leaver" not in users(web_device)

    await second.reload()  # the open session ended with the account
    await expect(second).to_have_url("/login?next=%2Fsystem%2Finformation")
    await login(second, "leaver", "leaver-secret")
    await expect(second.locator("#login-error")).to_have_text("Wrong user name or password.")


async def test_the_account_in_use_and_so_the_last_administrator_cannot_be_deleted(
    page: Page, second: Page, web_device: WebDevice
) -> None:
    """Deleting needs an administrator and never deletes the account in use, so one administrator
    always remains: here the only other administrator deletes the default admin, then cannot delete
    itself, and puts admin/admin back."""
    await login(page)
    await added(page, "keeper", "admin", "keeper-secret")
    await expect(user_row(page, "admin").locator("button.delete")).to_have_count(0)  # not offered
    refused = await forge(page, f"{ACCOUNT}/delete", {"name": "admin"})
    assert refused.status == 409
    await expect(page.locator(".problems")).to_have_text(
        "The user was not deleted: you cannot delete the account you are logged in with."
    )
    assert users(web_device)["admin"] is UserLevel.ADMIN

    for name in [name for name in users(web_device) if name not in ("admin", "keeper")]:
        await delete_user(page, name)  # leave two administrators only
        await expect(page.locator(".message")).to_have_text("The user was deleted.")
    await login(second, "keeper", "keeper-secret")
    await delete_user(second, "admin")
    await expect(second.locator(".message")).to_have_text("The user was deleted.")
    assert users(web_device) == {"keeper": UserLevel.ADMIN}
    await second.goto(ACCOUNT)
    refused = await forge(second, f"{ACCOUNT}/delete", {"name": "keeper"})
    assert refused.status == 409
    await expect(second.locator(".problems")).to_contain_text(
        "you cannot delete the account you are logged in"
    )
    assert users(web_device) == {"keeper": UserLevel.ADMIN}

    await added(second, "admin", "admin", "admin")
    await page.goto(ACCOUNT)  # deleting admin ended its session
    await expect(page).to_have_url("/login?next=%2Fsystem%2Faccount")
    await login(page)
    await expect(page.locator(".who")).to_have_text("admin (administrator)")


@pytest.mark.parametrize(
    ("name", "password", "confirm", "problem"),
    [
        ("admin", "pw-1", "pw-1", "a user called 'admin' exists already"),
        ("two words", "pw-1", "pw-1", "a user name is 1-32 letters, digits or . _ @ -"),
        ("typo", "pw-1", "pw-2", "the new password and its confirmation differ"),
        ("blank", "", "", "the new password is empty"),
    ],
)
async def test_bad_input_adds_nobody_and_says_why(
    page: Page, web_device: WebDevice, name: str, password: str, confirm: str, problem: str
) -> None:
    before = users(web_device)
    await login(page)
    await add_user(page, name, "user", password, confirm)
    await expect(page.locator(".problems")).to_have_text(f"The user was not added: {problem}.")
    assert users(web_device) == before


async def test_adding_or_deleting_without_the_form_token_is_refused(web_device: WebDevice) -> None:
    await asyncio.to_thread(forged_posts_are_refused, web_device)


def forged_posts_are_refused(web_device: WebDevice) -> None:
    """Over plain HTTP: a forged request is exactly what a browser would never send."""
    with http_client(web_device, "127.0.0.7") as client:
        assert http_login(client).status_code == 303
        token = token_in(client.get(ACCOUNT).text)
        user = {"name": "forged", "level": "admin", "new": "pw-1", "confirm": "pw-1"}
        missing = client.post(f"{ACCOUNT}/add", data=user)
        wrong = client.post(f"{ACCOUNT}/add", data={**user, "csrf_token": "x" + token})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert "security token is missing or stale" in missing.text
        assert "forged" not in users(web_device)
        assert client.post(f"{ACCOUNT}/add", data={**user, "csrf_token": token}).status_code == 303
        assert users(web_device)["forged"] is UserLevel.ADMIN
        assert client.post(f"{ACCOUNT}/delete", data={"name": "forged"}).status_code == 403
        assert "forged" in users(web_device)
        assert (
            client.post(f"{ACCOUNT}/delete", data={"name": "forged", "csrf_token": token}).status_code == 303
        )
        assert "forged" not in users(web_device)
