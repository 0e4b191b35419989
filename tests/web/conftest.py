"""Fixtures of the web tests: a running device with its web server on a free 127.0.0.1 port (one per
module), Debian's Chromium driven by Playwright (one per session), a fresh browser context per test.

Browser tests are async and run in the session's event loop (Playwright's objects belong to the
loop that made them): mark such a module ``pytestmark = pytest.mark.asyncio(loop_scope="session")``.
The device runs in a thread of its own (see :mod:`.web_device`), so any test can use it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from ..interop.peers import require
from .web_device import WebDevice

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
ADMIN = ("admin", "admin")
TIMEOUT_MS = 10_000
BROWSER_STEP = 30.0
"""Seconds a browser-level step (new context, page, close) may take."""


@pytest.fixture(scope="module")
def web_device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDevice]:
    """A device on defaults (admin/admin) with its web server at ``web_device.url``."""
    host = WebDevice(tmp_path_factory.mktemp("web-device")).start()
    try:
        yield host
    finally:
        host.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium (``/usr/bin/chromium``); nothing is downloaded."""
    executable = require("chromium")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True, timeout=60_000)
        try:
            yield launched
        finally:
            async with asyncio.timeout(BROWSER_STEP):
                await launched.close()


@asynccontextmanager
async def browser_context(
    browser: Browser, web_device: WebDevice, **options: Any
) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile (no cookies) aimed at ``web_device``; every step bounded in time (Playwright
    puts no timeout on making or closing a context)."""
    async with asyncio.timeout(BROWSER_STEP):
        made = await browser.new_context(base_url=web_device.url, accept_downloads=True, **options)
    made.set_default_timeout(TIMEOUT_MS)
    try:
        yield made
    finally:
        async with asyncio.timeout(BROWSER_STEP):
            await made.close()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser, web_device: WebDevice) -> AsyncIterator[BrowserContext]:
    async with browser_context(browser, web_device) as made:
        yield made


@pytest_asyncio.fixture(loop_scope="session")
async def page(context: BrowserContext) -> Page:
    async with asyncio.timeout(BROWSER_STEP):
        return await context.new_page()


async def login(page: Page, user: str = ADMIN[0], password: str = ADMIN[1]) -> None:
    """Log in through the login form (the one on screen, which keeps its ``next``, or a fresh one)."""
    if "/login" not in page.url:
        await page.goto("/login")
    await page.fill("#username", user)
    await page.fill("#password", password)
    await page.click("#login")


async def screenshot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact (test-artifacts/screenshots/NAME.jpg; JPEG because
    a PNG of the long settings pages takes seconds to encode)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name).strip('-')}.jpg"
    await page.screenshot(path=str(path), full_page=True, type="jpeg", quality=70)
    return path


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_in(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def http_login(client: httpx.Client, user: str = ADMIN[0], password: str = ADMIN[1]) -> httpx.Response:
    """Log ``client`` in as a browser would (login page, its CSRF cookie and token, the form)."""
    form = client.get("/login")
    return client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": token_in(form.text), "next": "/"},
    )


def http_client(web_device: WebDevice, source: str = "127.0.0.1") -> httpx.Client:
    """An HTTP client talking to ``web_device`` from the loopback address ``source`` (127.0.0.x)."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=web_device.url, transport=transport, timeout=15, follow_redirects=False)
