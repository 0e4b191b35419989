"""Call list >> Web Dial (manual 9.24): dial, answer and hang up from the browser."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from portier.phone.call import CallState
from portier.phone.calls import CallManager

from ..deps import checked_form, current_session, device_of, text_fields
from ..menu import by_path
from ..render import render

router = APIRouter(include_in_schema=False)

PATH = "/call-list/web-dial"
LINES = (("0", "Direct (IP address or SIP URI)"), ("1", "SIP1"), ("2", "SIP2"))
NOTICES = {
    "dialled": "Dialling…",
    "answered": "Answered.",
    "hungup": "Hung up.",
    "none": "There was no such call any more.",
}


@dataclass(frozen=True)
class CallRow:
    call_id: str
    line: str
    direction: str
    remote: str
    state: str
    ringing: bool


def _manager(request: Request) -> CallManager | None:
    try:
        manager = device_of(request).service("sip").calls
    except LookupError:
        return None
    return manager if isinstance(manager, CallManager) else None


def _show(
    request: Request, *, problems: list[str] | None = None, number: str = "", status: int = 200
) -> Response:
    current_session(request)
    manager = _manager(request)
    rows = []
    if manager is not None:
        for call in manager.calls.values():
            if call.state is CallState.ENDED:
                continue
            line = f"SIP{call.line}" if call.line else "Direct"
            rows.append(CallRow(call.call_id, line, call.direction, call.remote, str(call.state),
                                call.state is CallState.RINGING))  # fmt: skip
    problems = list(problems or [])
    if manager is None:
        problems.append("The SIP service is not running, so no call can be made or answered.")
    notice = NOTICES.get(request.query_params.get("done", ""), "")
    return render(request, "webdial.html", status, page=by_path(PATH), calls=rows, lines=LINES, number=number,
                  problems=problems, message=notice)  # fmt: skip


@router.get(PATH)
async def web_dial(request: Request) -> Response:
    return _show(request)


def _back(done: str) -> Response:
    return RedirectResponse(f"{PATH}?done={done}", status_code=303)


@router.post(f"{PATH}/dial")
async def dial(request: Request) -> Response:
    _, form = await checked_form(request, admin=False)
    fields = text_fields(form)
    number, line = fields.get("number", "").strip(), fields.get("line", "0")
    manager = _manager(request)
    if manager is None:
        return _show(request, number=number, status=409)
    if not number:
        return _show(request, problems=["Enter a number, an IP address or a SIP URI to dial."], status=422)
    try:
        if line in ("1", "2"):
            if int(line) not in manager.lines:
                raise ValueError(f"SIP{line} is not active; activate and register it under Line >> SIP first")
            await manager.dial(number, line=int(line))
        else:
            await manager.dial(number, agent=device_of(request).service("sip").agent())
    except ValueError as exc:
        return _show(request, problems=[f"The call was not made: {exc}."], number=number, status=422)
    return _back("dialled")


@router.post(f"{PATH}/answer")
async def answer(request: Request) -> Response:
    _, form = await checked_form(request, admin=False)
    manager = _manager(request)
    done = manager is not None and manager.answer(str(form.get("call_id", "")) or None)
    return _back("answered" if done else "none")


@router.post(f"{PATH}/hangup")
async def hangup(request: Request) -> Response:
    _, form = await checked_form(request, admin=False)
    manager = _manager(request)
    done = manager is not None and await manager.hangup(str(form.get("call_id", "")) or None)
    return _back("hungup" if done else "none")
