"""Every page of the manual's chapter 9 in real Chromium: it renders (a screenshot of each is kept),
one field of each settings page saves to the running device, and a bad value shows the sentence of
settings/values.py next to its field while nothing is saved.

The field is chosen from the page's own schema (a bounded number, else a choice, else a pattern, else
free text or a switch), so a new setting or page is covered without editing this file. A settings page
where no field can be given a bad value must say why in NO_BAD_SETTING; a page with a data table also
gets a bad value in one column of the table's add form (BAD_ROWS), refused next to that column.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Any

import pytest
import pytest_asyncio
from markupsafe import escape
from playwright.async_api import Browser, BrowserContext, Page, expect

from portier.settings.declare import SINGLE_LINE, Leaf, enum_names
from portier.settings.values import SettingError, check, from_text, to_text
from portier.web.forms import make_field, page_leaves
from portier.web.menu import MENU, MenuPage
from portier.web.tables import TABLES, TableSpec, columns, parse_row

from .conftest import BROWSER_STEP, browser_context, http_client, http_login, login, screenshot
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web]

SETTINGS_PAGES = [page for page in MENU if page.kind == "settings" and page.prefixes]
SAVE_ELSEWHERE = {"/security/web-filter": "enabling the filter is refused or locks out: test_web_filter.py"}
PATTERN_TRIES = ("DEBUG", "INFO", "portier-web-test", "127.0.0.1")
NO_BAD_SETTING = {
    "/security/firewall": "its settings are switches only; its rules table takes bad addresses (BAD_ROWS)",
}
"""Settings pages on which every value a browser can send is valid, and why."""
BAD_ROWS = {
    "/call-list/call-list": ("restricted_incoming", "number", "09 00"),
    "/intercom/time-plan": ("time_plans", "start", "25:00"),
    "/security/web-filter": ("web_filter", "start_ip", "10.0.0.300"),
    "/security/firewall": ("firewall_rules", "src_address", "10.0.0.300"),
}
"""Page, one of its tables, a column of that table and a bad value for it."""


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def admin(browser: Browser, web_device: WebDevice) -> AsyncIterator[BrowserContext]:
    """One logged-in administrator for the whole module (pages open in it side by side)."""
    async with browser_context(browser, web_device, viewport={"width": 1280, "height": 900}) as context:
        async with asyncio.timeout(BROWSER_STEP):
            page = await context.new_page()
        await login(page)
        yield context


@pytest_asyncio.fixture(loop_scope="session")
async def tab(admin: BrowserContext) -> AsyncIterator[Page]:
    async with asyncio.timeout(BROWSER_STEP):
        page = await admin.new_page()
    try:
        yield page
    finally:
        async with asyncio.timeout(BROWSER_STEP):
            await page.close()


@pytest.mark.parametrize("menu_page", MENU, ids=[page.path for page in MENU])
async def test_page_renders_saves_a_field_and_shows_a_bad_value_inline(
    tab: Page, web_device: WebDevice, menu_page: MenuPage
) -> None:
    """One test per page, so each page is loaded (and screenshot) once, then edited in place."""
    response = await tab.goto(menu_page.path)
    assert response is not None and response.status == 200
    await expect(tab.locator("h1")).to_contain_text(menu_page.title)
    await expect(tab.locator("nav.menu a[aria-current]")).to_have_text(menu_page.title)
    await expect(tab.locator(".problems")).to_have_count(0)
    await screenshot(tab, menu_page.path)
    if menu_page in SETTINGS_PAGES and menu_page.path not in SAVE_ELSEWHERE:
        await save_and_refuse(tab, web_device, menu_page)
    if menu_page.tables:  # one table per page is enough: they share one form template
        assert BAD_ROWS[menu_page.path][0] in menu_page.tables
        await refuse_row(tab, web_device, *BAD_ROWS[menu_page.path])


def _choice(leaf: Leaf) -> tuple[str, str | None]:
    """(a good value different from the default, a bad one or None if none can be typed)."""
    default = leaf.default
    if leaf.annotation is int and leaf.bound("le") is not None:
        high = leaf.bound("le")
        assert high is not None
        return str(default + 1 if default + 1 <= high else default - 1), str(high + 1)
    names = enum_names(leaf.annotation)
    if names:
        current = default.name if isinstance(default, Enum) else str(default)
        return next(name for name in names if name != current), "BOGUS"
    if leaf.annotation is str:
        pattern = next(
            (getattr(m, "pattern", None) for m in leaf.info.metadata if getattr(m, "pattern", None)), None
        )
        if pattern and pattern != SINGLE_LINE:
            good = next(text for text in PATTERN_TRIES if text != default and _valid(leaf, text))
            return good, "not-a-valid-value"
        return "portier-web-test", None
    return ("0" if default else "1"), None


def _valid(leaf: Leaf, text: str) -> bool:
    try:
        check(leaf, text)
    except SettingError:
        return False
    return True


def candidate(page: MenuPage) -> Leaf:
    """The page's first bounded number, else its first choice, patterned text, text, or switch."""
    leaves = page_leaves(page.unit_prefixes(None))
    tests: tuple[Callable[[Leaf], bool], ...] = (
        lambda leaf: leaf.annotation is int and leaf.bound("le") is not None,
        lambda leaf: bool(enum_names(leaf.annotation)),
        lambda leaf: leaf.annotation is str and _choice(leaf)[1] is not None,
        lambda leaf: leaf.annotation is str and not leaf.secret,
        lambda leaf: leaf.annotation is bool,
    )
    for test in tests:
        found = next((leaf for leaf in leaves if test(leaf)), None)
        if found is not None:
            return found
    raise AssertionError(f"{page.path} has no field a browser can change")


async def _enter(tab: Page, leaf: Leaf, text: str) -> None:
    selector = "#" + make_field_id(leaf)
    if leaf.annotation is bool:
        await tab.set_checked(selector, text == "1")
    elif enum_names(leaf.annotation):
        if text not in enum_names(leaf.annotation):  # a value no option offers: as a forged form would send
            await tab.eval_on_selector(selector, "(s, v) => { s.add(new Option(v, v)); s.value = v; }", text)
        else:
            await tab.select_option(selector, text)
    else:
        await tab.fill(selector, text)


def make_field_id(leaf: Leaf) -> str:
    return "f-" + leaf.dotted.replace(".", "-")


async def save_and_refuse(tab: Page, web_device: WebDevice, menu_page: MenuPage) -> None:
    leaf = candidate(menu_page)
    good, bad = _choice(leaf)
    expected: Any = from_text(leaf, good)
    try:
        await _enter(tab, leaf, good)
        await tab.click("#save")
        await expect(tab.locator(".message")).to_have_text("Saved: 1 setting changed.")
        assert web_device.get(leaf.dotted) == expected
        field = make_field(leaf, web_device.device.settings.current)
        assert field.value == (good if not leaf.secret else "")
        if bad is None:
            assert menu_page.path in NO_BAD_SETTING, f"{leaf.dotted} takes any value: pick another field"
            return
        assert menu_page.path not in NO_BAD_SETTING, f"{leaf.dotted} can be refused: drop the page there"
        with pytest.raises(SettingError) as refused:
            from_text(leaf, bad)
        await _enter(tab, leaf, bad)
        await tab.click("#save")
        error = tab.locator(f"#{make_field_id(leaf)}-error")
        await expect(error).to_have_text(str(refused.value))
        await expect(tab.locator(".problems")).to_contain_text("Nothing was saved")
        assert web_device.get(leaf.dotted) == expected
    finally:
        web_device.set({leaf.dotted: to_text(leaf, leaf.default)})


def _form_defaults(spec: TableSpec) -> dict[str, str]:
    """What the empty add form of a table sends: its defaults, a select's first choice, ticked boxes."""
    sent = {}
    for column in columns(spec):
        if column.kind == "checkbox":
            if column.default:
                sent[column.name] = column.default
        else:
            sent[column.name] = column.default or (column.choices[0] if column.choices else "")
    return sent


async def refuse_row(tab: Page, web_device: WebDevice, table: str, column: str, bad: str) -> None:
    """A bad value in one column of a table's add form: its sentence shows under that column, the typed
    value stays, and no row is added."""
    spec = TABLES[table]
    _, errors = parse_row(spec, {**_form_defaults(spec), column: bad})
    assert column in errors, f"{bad!r} is a valid {column} of {table}"
    count = web_device.call(lambda: len(web_device.device.storage.rows(spec.record)))
    section = tab.locator(f"#table-{table}")
    await section.locator(f"#t-{table}-{column}").fill(bad)
    await section.locator("form.add-row button").click()
    field = section.locator(".field", has=tab.locator(f"#t-{table}-{column}"))
    await expect(field.locator(".error")).to_have_text(errors[column])
    await expect(field.locator("input")).to_have_value(bad)
    await expect(tab.locator(".problems")).to_contain_text("Nothing was added")
    assert web_device.call(lambda: len(web_device.device.storage.rows(spec.record))) == count


async def test_not_built_notes_name_only_what_is_missing(web_device: WebDevice) -> None:
    """A page whose services run shows only what stays unbuilt (its gaps); one whose services do not
    run says what is missing; a page with nothing missing shows no note."""

    def notes() -> list[str]:
        running = {service.name for service in web_device.device.services}
        wrong = []
        with http_client(web_device, "127.0.0.51") as client:
            http_login(client)
            for menu_page in (page for page in MENU if page.kind == "settings"):
                html = client.get(menu_page.path).text
                expected = menu_page.gaps if running & set(menu_page.services) else menu_page.pending
                shown = 'id="not-built"' in html
                if (expected and str(escape(expected)) not in html) or (shown and not expected):
                    wrong.append(menu_page.path)
        return wrong

    assert await asyncio.to_thread(notes) == []
    running = {service.name for service in web_device.device.services}
    built = {"sip", "call-log", "action-url", "door", "buttons", "tones", "web", "capture", "device-log"}
    assert built <= running
