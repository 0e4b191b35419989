"""Per-request checks of the web pages: who is logged in, may they change this, is the form genuine.

CSRF: every form carries the session's own random token (``csrf_token``); a POST whose token is
missing or wrong is answered 403 and changes nothing. The login form, which has no session yet,
uses a double-submit cookie instead. Cookies are HttpOnly and SameSite=Strict, and Secure when the
page came over HTTPS.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any, cast

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from portier.device import Device

from .auth import Session
from .state import WebState

SESSION_COOKIE = "portier_session"
LOGIN_CSRF_COOKIE = "portier_login_csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 4 * 1024 * 1024
"""Largest upload (a ringtone, a configuration file, a certificate)."""


class LoginRequired(Exception):
    """No valid session: the handler redirects to the login page (``expired`` says why)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class Forbidden(Exception):
    """The request is refused (403) with a sentence a person can act on."""


def device_of(request: Request) -> Device:
    return cast(Device, request.app.state.device)


def state_of(request: Request) -> WebState:
    return cast(WebState, request.app.state.web)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def current_session(request: Request) -> Session:
    """The logged-in session of this browser, touched; raises :class:`LoginRequired`."""
    cached = getattr(request.state, "session", None)
    if cached is not None:
        return cast(Session, cached)
    web, device = state_of(request), device_of(request)
    ports = device.settings.current.network.ports
    found = web.sessions.lookup(
        request.cookies.get(SESSION_COOKIE),
        web.now(),
        timeout=ports.web_login_timeout * 60.0,
        auto_login=ports.web_auto_login,
    )
    if found.session is None:
        raise LoginRequired(expired=found.expired)
    request.state.session = found.session
    return found.session


async def form_of(request: Request) -> FormData:
    return await request.form(max_part_size=MAX_FORM_BYTES)


async def checked_form(request: Request, *, admin: bool) -> tuple[Session, FormData]:
    """The session and form of a POST that changes something: logged in, genuine (CSRF), and allowed."""
    session = current_session(request)
    form = await form_of(request)
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not hmac.compare_digest(token, session.csrf):
        raise Forbidden("the form's security token is missing or stale; reload the page and try again")
    if admin and not session.admin:
        raise Forbidden(f"user {session.user} is not an administrator and cannot change this page")
    return session, form


def text_fields(form: FormData) -> dict[str, str]:
    """The text fields of a form (uploads left out); a repeated name keeps its last value."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def upload(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
    )


def login_csrf_ok(request: Request, form: Mapping[str, Any]) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    token = form.get(CSRF_FIELD)
    return bool(cookie) and isinstance(token, str) and hmac.compare_digest(cookie, token)
