"""Every settings page of the menu: GET shows the generated form, POST saves it to the running device.

A save is all or nothing: a value that does not parse is shown next to its field, a rule across
fields (two ports that collide) at the top of the form, and nothing is saved in either case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from portier.settings import document
from portier.settings.document import ConfigErrors

from .. import forms
from ..deps import checked_form, current_session, device_of, text_fields
from ..menu import MENU, MenuPage
from .view import filter_problem, show

router = APIRouter(include_in_schema=False)

Handler = Callable[[Request], Awaitable[Response]]


def saved_url(page: MenuPage, unit: str | None, count: int) -> str:
    query = {"unit": unit} if unit and page.units else {}
    query["saved"] = str(count)
    return f"{page.path}?{urlencode(query)}"


NOTICES = {
    "added": "The row was added.",
    "deleted": "The row was deleted.",
    "uploaded": "The file was uploaded.",
    "removed": "The file was deleted.",
    "log-started": "The device log recording started.",
    "log-ended": "The device log recording ended: save it below.",
    "capture-started": "The packet capture started.",
    "capture-stopped": "The packet capture stopped: save it below.",
}
"""What ``?done=`` after an action says (fixed sentences: a link cannot make the page say anything)."""


def saved_message(request: Request) -> str:
    count = request.query_params.get("saved", "")
    if not count.isdigit():
        return NOTICES.get(request.query_params.get("done", ""), "")
    return f"Saved: {count} setting{'s' if count != '1' else ''} changed."


def _viewer(page: MenuPage) -> Handler:
    async def view(request: Request) -> Response:
        current_session(request)
        return show(request, page, unit=request.query_params.get("unit"), message=saved_message(request))

    return view


def _saver(page: MenuPage) -> Handler:
    async def save(request: Request) -> Response:
        _, form = await checked_form(request, admin=page.admin_only)
        fields = text_fields(form)
        unit = fields.get("unit") or None
        if unit not in {label for label, _ in page.units}:
            unit = page.units[0][0] if page.units else None
        submitted = forms.parse(page.unit_prefixes(unit), fields)
        if submitted.errors:
            count = len(submitted.errors)
            problem = f"Nothing was saved: {count} value{'s' if count > 1 else ''} to correct (see below)."
            return show(request, page, unit=unit, typed=submitted.typed, errors=submitted.errors,
                        problems=[problem], status=422)  # fmt: skip
        device = device_of(request)
        try:
            candidate = document.with_values(device.settings.current, submitted.values)
            blocked = filter_problem(request, enable=candidate.security.web_filter.enable)
            if blocked:
                raise ConfigErrors([f"Nothing was saved: {blocked}"])
            changed = await device.apply_settings(submitted.values)
        except ConfigErrors as exc:
            return show(request, page, unit=unit, typed=submitted.typed, problems=exc.problems, status=422)
        return RedirectResponse(saved_url(page, unit, len(changed)), status_code=303)

    return save


for _page in MENU:
    if _page.kind == "settings":
        router.add_api_route(_page.path, _viewer(_page), methods=["GET"])
        router.add_api_route(_page.path, _saver(_page), methods=["POST"])
