"""System >> Information, System >> Account (manual 9.2, 9.3) and Reboot (10.2)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from portier.passwords import hash_password, verify_password
from portier.settings.records import UserLevel, WebUser
from portier.storage import StorageError

from .. import info
from ..api_auth import remember_digest_keys
from ..deps import Forbidden, checked_form, current_session, device_of, state_of, text_fields
from ..menu import by_path
from ..render import render
from ..state import after_response

router = APIRouter(include_in_schema=False)

ACCOUNT = "/system/account"
MAX_PASSWORD = 64
ACCOUNT_NOTICES = {
    "password": "The password was changed.",
    "added": "The user was added.",
    "deleted": "The user was deleted.",
}


@router.get("/system/information")
async def information(request: Request) -> Response:
    current_session(request)
    device = device_of(request)
    return render(
        request, "information.html", page=by_path("/system/information"),
        system=info.system_rows(device), network=info.network_rows(device), lines=info.line_rows(device),
    )  # fmt: skip


def _account(request: Request, *, problems: list[str] | None = None, status: int = 200) -> Response:
    session = current_session(request)
    users = [user for _, user in device_of(request).storage.rows(WebUser)]
    if not session.admin:
        users = [user for user in users if user.name == session.user]
    notice = ACCOUNT_NOTICES.get(request.query_params.get("done", ""), "")
    levels = [level.value for level in UserLevel]
    return render(
        request, "account.html", status, page=by_path(ACCOUNT), users=users, levels=levels,
        problems=problems or [], message=notice,
    )  # fmt: skip


@router.get(ACCOUNT)
async def account(request: Request) -> Response:
    return _account(request)


def _password_problem(new: str, confirm: str) -> str | None:
    if not new:
        return "the new password is empty"
    if len(new) > MAX_PASSWORD:
        return f"the new password is longer than {MAX_PASSWORD} characters"
    if new != confirm:
        return "the new password and its confirmation differ"
    return None


def _saved(request: Request, name: str, password: str, hashed: str) -> None:
    """After a password is stored: the HTTP API's Digest keys follow it, and the default-password
    warning knows the answer without hashing again."""
    remember_digest_keys(device_of(request).storage, name, password)
    state_of(request).note_password(name, password, hashed)


@router.post(f"{ACCOUNT}/password")
async def change_password(request: Request) -> Response:
    session, form = await checked_form(request, admin=False)
    fields = text_fields(form)
    device, web = device_of(request), state_of(request)
    target = fields.get("user", session.user) or session.user
    if target != session.user and not session.admin:
        raise Forbidden("only an administrator can change another user's password")
    me = device.storage.user(session.user)
    if me is None or not await asyncio.to_thread(
        verify_password, fields.get("current", ""), me.password_hash
    ):
        return _account(request, problems=["The password was not changed: your current password is wrong."],
                        status=422)  # fmt: skip
    problem = _password_problem(fields.get("new", ""), fields.get("confirm", ""))
    found = [(ident, user) for ident, user in device.storage.rows(WebUser) if user.name == target]
    if problem is None and not found:
        problem = f"there is no user {target!r}"
    if problem is not None:
        return _account(request, problems=[f"The password was not changed: {problem}."], status=422)
    ident, user = found[0]
    hashed = await asyncio.to_thread(hash_password, fields["new"])
    device.storage.update(ident, user.model_copy(update={"password_hash": hashed}))
    _saved(request, target, fields["new"], hashed)
    web.sessions.drop_user(target, keep=session.token)
    return RedirectResponse(f"{ACCOUNT}?done=password", status_code=303)


@router.post(f"{ACCOUNT}/add")
async def add_user(request: Request) -> Response:
    _, form = await checked_form(request, admin=True)
    fields = text_fields(form)
    device = device_of(request)
    name = fields.get("name", "").strip()
    problem = _password_problem(fields.get("new", ""), fields.get("confirm", ""))
    if problem is None and device.storage.user(name) is not None:
        problem = f"a user called {name!r} exists already"
    level = next((level for level in UserLevel if level.value == fields.get("level")), None)
    if problem is None and level is None:
        problem = "the level must be admin or user"
    if problem is None and level is not None:
        try:
            user = WebUser(name=name, password_hash="-", level=level)
        except ValidationError:
            problem = "a user name is 1-32 letters, digits or . _ @ -"
        else:
            hashed = await asyncio.to_thread(hash_password, fields["new"])
            try:
                device.storage.add(user.model_copy(update={"password_hash": hashed}))
            except StorageError as exc:
                problem = str(exc)
            else:
                _saved(request, name, fields["new"], hashed)
    if problem is not None:
        return _account(request, problems=[f"The user was not added: {problem}."], status=422)
    return RedirectResponse(f"{ACCOUNT}?done=added", status_code=303)


@router.post(f"{ACCOUNT}/delete")
async def delete_user(request: Request) -> Response:
    session, form = await checked_form(request, admin=True)
    name = str(form.get("name", ""))
    device = device_of(request)
    users = device.storage.rows(WebUser)
    found = [(ident, user) for ident, user in users if user.name == name]
    admins = [user for _, user in users if user.level is UserLevel.ADMIN]
    problem = None
    if not found:
        problem = f"there is no user {name!r}"
    elif name == session.user:
        problem = "you cannot delete the account you are logged in with"
    elif found[0][1].level is UserLevel.ADMIN and len(admins) == 1:
        problem = "it is the last administrator"
    if problem is not None:
        return _account(request, problems=[f"The user was not deleted: {problem}."], status=409)
    device.storage.delete(WebUser, found[0][0])
    state_of(request).sessions.drop_user(name)
    return RedirectResponse(f"{ACCOUNT}?done=deleted", status_code=303)


@router.get("/reboot")
async def reboot_page(request: Request) -> Response:
    current_session(request)
    return render(request, "reboot.html", page=by_path("/reboot"))


@router.post("/reboot")
async def reboot(request: Request) -> Response:
    await checked_form(request, admin=True)
    device = device_of(request)
    after_response(device.reboot(), "reboot")
    return render(request, "restarting.html", page=by_path("/reboot"),
                  what="The device is restarting its services.")  # fmt: skip
