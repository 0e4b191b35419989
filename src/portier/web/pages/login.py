"""Login and logout (manual 9.1): the wrong-password lock, sessions, their cookies."""

from __future__ import annotations

import asyncio
import secrets

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from portier.passwords import verify_password

from ..deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginRequired,
    checked_form,
    client_ip,
    current_session,
    device_of,
    form_of,
    login_csrf_ok,
    set_cookie,
    state_of,
    text_fields,
)
from ..render import render

router = APIRouter(include_in_schema=False)

HOME = "/system/information"
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
"""Checked for unknown user names, so a wrong name costs the same time as a wrong password."""


def safe_next(target: str | None) -> str:
    """Only a path on this server: ``next`` must not send a fresh login elsewhere."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return HOME


def _minutes(seconds: float) -> str:
    whole = max(1, round(seconds / 60))
    return f"{whole} minute{'s' if whole != 1 else ''}"


def _who(what: str, name: str) -> str:
    return "from your address" if what == "address" else f"as {name or 'this user'}"


def _login_page(request: Request, *, error: str = "", notice: str = "", status: int = 200) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request, "login.html", status, login_csrf=token, error=error, notice=notice,
        next=safe_next(request.query_params.get("next")),
    )  # fmt: skip
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token)
    return response


@router.get("/")
async def home() -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get("/login")
async def login_form(request: Request) -> Response:
    try:
        current_session(request)
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    except LoginRequired:
        pass
    expired = request.query_params.get("expired") == "1"
    return _login_page(request, notice="Your session timed out; please log in again." if expired else "")


@router.post("/login")
async def login(request: Request) -> Response:
    form = text_fields(await form_of(request))
    if not login_csrf_ok(request, form):
        return _login_page(request, error="The login form expired; please try again.", status=403)
    web, device = state_of(request), device_of(request)
    address, name, password = client_ip(request), form.get("username", "").strip(), form.get("password", "")
    ports = device.settings.current.network.ports
    locked = web.lockout.locked(address, name, web.now())
    if locked is not None:
        why, remaining = locked
        wait = _minutes(remaining)
        error = f"Too many wrong passwords: logins {_who(why, name)} are locked for {wait} more."
        return _login_page(request, status=429, error=error)
    user = device.storage.user(name) if name else None
    stored = user.password_hash if user is not None else _DUMMY_HASH
    good = await asyncio.to_thread(verify_password, password, stored)
    if user is None or not good:
        locked_now = web.lockout.failed(
            address, name, web.now(), attempts=ports.login_attempts, lock_seconds=ports.lock_time * 60.0
        )
        error = "Wrong user name or password."
        if locked_now:
            what = " and ".join(_who(item, name) for item in locked_now)
            error += (
                f" Too many wrong passwords: logins {what} are locked for {_minutes(ports.lock_time * 60)}."
            )
        return _login_page(request, error=error, status=401)
    web.lockout.succeeded(address, name)
    session = web.sessions.create(user.name, user.level, web.now())
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, session.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session, _ = await checked_form(request, admin=False)
    state_of(request).sessions.drop(session.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
