"""System >> Configurations (manual 9.4, 10.3): export, import, clear modules and tables, reset.

An import is all or nothing, as on the command line: every bad line is listed with its number and
nothing is applied. Imported values go to the running device like any other save, so no restart is
needed. Clearing the MMI module or the users table brings back the default admin and logs
everybody out.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from portier import MODEL
from portier.cli import CLEAR_MODULES
from portier.settings import document, fanvil
from portier.settings.document import ConfigErrors
from portier.settings.records import TABLES, Record, WebUser

from ..deps import Forbidden, checked_form, current_session, device_of, state_of, upload
from ..menu import by_path
from ..render import render
from ..state import after_response
from ..uploads import MAX_BYTES
from .view import filter_problem

router = APIRouter(include_in_schema=False)

PATH = "/system/configurations"


def _show(
    request: Request,
    *,
    problems: list[str] | None = None,
    message: str = "",
    warnings: list[str] | None = None,
    status: int = 200,
) -> Response:
    current_session(request)
    return render(
        request, "configurations.html", status, page=by_path(PATH), modules=list(CLEAR_MODULES),
        tables=[kind.table for kind in TABLES], problems=problems or [], message=message,
        warnings=warnings or [],
    )  # fmt: skip


@router.get(PATH)
async def configurations(request: Request) -> Response:
    return _show(request)


@router.get(f"{PATH}/export")
async def export(request: Request) -> Response:
    if not current_session(request).admin:
        raise Forbidden("exporting the configuration (which holds passwords) needs an administrator")
    text = fanvil.export_text(device_of(request).settings.current)
    headers = {
        "Content-Disposition": f'attachment; filename="{MODEL}-config.txt"',
        "Cache-Control": "no-store",
    }
    return Response(text.encode(), media_type="text/plain; charset=utf-8", headers=headers)


@router.post(f"{PATH}/import")
async def import_config(request: Request) -> Response:
    _, form = await checked_form(request, admin=True)
    sent = upload(form, "file")
    if sent is None:
        return _show(request, problems=["Choose a configuration file to import first."], status=422)
    data = await sent.read(MAX_BYTES + 1)
    device = device_of(request)
    try:
        if len(data) > MAX_BYTES:
            raise ConfigErrors([f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"])
        result = fanvil.import_file(device.settings.current, data)
        blocked = filter_problem(request, enable=result.settings.security.web_filter.enable)
        if blocked:
            raise ConfigErrors([blocked])
        changed = await device.apply_settings(
            {leaf: document.get(result.settings, leaf) for leaf in result.changed}
        )
    except ConfigErrors as exc:
        return _show(request, problems=["Nothing was imported:", *exc.problems], status=422)
    count = len(changed)
    message = f"Imported {sent.filename}: {count} setting{'s' if count != 1 else ''} changed."
    return _show(request, message=message, warnings=result.warnings)


def _logged_out(request: Request, what: str) -> Response:
    state_of(request).sessions.clear()
    return render(request, "restarting.html", page=by_path(PATH), what=what, target="/login", delay=0)


@router.post(f"{PATH}/clear")
async def clear_modules(request: Request) -> Response:
    _, form = await checked_form(request, admin=True)
    chosen = [name for name in CLEAR_MODULES if form.get(f"module:{name}")]
    if not chosen:
        return _show(request, problems=["Choose at least one module to clear."], status=422)
    modules = [module for name in chosen for module in CLEAR_MODULES[name]]
    device = device_of(request)
    try:
        cleared = document.reset_modules(device.settings.current, modules)
        changed = document.changed(device.settings.current, cleared)
        await device.apply_settings({leaf: document.get(cleared, leaf) for leaf in changed})
    except ConfigErrors as exc:
        return _show(request, problems=["Nothing was cleared:", *exc.problems], status=422)
    if "MMI" in chosen:
        device.storage.clear_tables((WebUser,))
        return _logged_out(
            request, "The MMI settings and the web users are back to their defaults (admin/admin)."
        )
    count = len(changed)
    return _show(request, message=f"Cleared {', '.join(chosen)}: {count} setting{'s' if count != 1 else ''} "
                                  "back to defaults.")  # fmt: skip


@router.post(f"{PATH}/clear-tables")
async def clear_tables(request: Request) -> Response:
    _, form = await checked_form(request, admin=True)
    chosen: tuple[type[Record], ...] = tuple(kind for kind in TABLES if form.get(f"table:{kind.table}"))
    if not chosen:
        return _show(request, problems=["Choose at least one table to clear."], status=422)
    if any(kind.table == "web_filter" for kind in chosen):
        blocked = filter_problem(request, rows=[])
        if blocked:
            return _show(request, problems=[f"No table was cleared: {blocked}"], status=409)
    device_of(request).storage.clear_tables(chosen)
    names = ", ".join(kind.table for kind in chosen)
    if WebUser in chosen:
        return _logged_out(request, f"Cleared {names}; the web users are back to admin/admin.")
    return _show(request, message=f"Cleared {names}.")


@router.post(f"{PATH}/reset")
async def reset(request: Request) -> Response:
    await checked_form(request, admin=True)
    after_response(device_of(request).factory_reset(), "factory reset")
    return render(request, "restarting.html", page=by_path(PATH),
                  what="The device is going back to its factory settings and restarting.")  # fmt: skip
