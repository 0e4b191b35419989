"""The virtual panel: the door station's face in the browser, live over server-sent events.

Buttons are pressed and released by the page's script on pointer down and up (POSTs with the
session's CSRF token), so a click, a long press (held past Command Mode Long Press Time) and
push-to-talk are all the real thing: the door service times them as it times a finger on a pin.
Inputs 1-2 and the tamper switch toggle their pin's level. All of it drives *virtual* pins only:
on real GPIO the panel shows the state and refuses to drive anything.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from portier.door.service import DoorService
from portier.events import Event

from .. import sse
from ..deps import checked_form, current_session, device_of, state_of
from ..menu import by_path
from ..panel_state import LEVEL_INTERVAL, WATCHED, audio_levels, panel_state
from ..render import render

router = APIRouter(include_in_schema=False)

PATH = "/virtual-panel"


@router.get(PATH)
async def panel(request: Request) -> Response:
    current_session(request)
    return render(request, "panel.html", page=by_path(PATH), panel=panel_state(device_of(request)))


@router.get(f"{PATH}/events")
async def events(request: Request) -> Response:
    current_session(request)
    device, web = device_of(request), state_of(request)
    outbox = sse.Outbox(limit=64)

    def changed(event: Event) -> None:
        if isinstance(event, WATCHED):
            outbox.put(sse.json_message(panel_state(device), event="state"))

    async def meter() -> None:
        """While a call has media, its audio levels a few times a second (nothing when idle)."""
        quiet = True
        while True:
            await asyncio.sleep(LEVEL_INTERVAL)
            levels = audio_levels(device)
            if levels is not None or not quiet:
                outbox.put(sse.json_message(levels, event="level"))
            quiet = levels is None

    unsubscribe = device.bus.subscribe(Event, changed)
    web.streams.add(outbox)
    metering = asyncio.get_running_loop().create_task(meter())

    def closed() -> None:
        unsubscribe()
        metering.cancel()
        web.streams.discard(outbox)

    first = [sse.json_message(panel_state(device), event="state")]
    return sse.stream(outbox, first, closed)


def _refused(status: int, why: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": why}, status_code=status)


def _drivable(request: Request) -> DoorService | JSONResponse:
    """The door service whose pins the panel may drive, or the refusal to send."""
    try:
        door = device_of(request).service("door")
    except LookupError:
        door = None
    if not isinstance(door, DoorService) or door.hardware is None:
        return _refused(503, "the door service is not running")
    if not door.hardware.virtual:
        return _refused(409, f"the door pins are real ({door.hardware.kind}): the panel can only watch them")
    return door


def _number(text: object, low: int, high: int) -> int | None:
    if isinstance(text, str) and text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


@router.post(f"{PATH}/button")
async def button(request: Request) -> Response:
    """``button`` 1-5 and ``action`` press or release."""
    _, form = await checked_form(request, admin=False)
    door = _drivable(request)
    if isinstance(door, JSONResponse):
        return door
    number, action = _number(form.get("button"), 1, 5), form.get("action")
    if number is None or action not in ("press", "release"):
        return _refused(400, "send button=1-5 and action=press or release")
    try:
        if action == "press":
            door.press(number)
        else:
            door.release(number)
    except ValueError as exc:
        return _refused(400, str(exc))
    return JSONResponse({"ok": True})


@router.post(f"{PATH}/input")
async def toggle_input(request: Request) -> Response:
    """``input`` 1, 2 or 0 (tamper): its pin goes to the other level."""
    _, form = await checked_form(request, admin=False)
    door = _drivable(request)
    if isinstance(door, JSONResponse):
        return door
    number = _number(form.get("input"), 0, 2)
    if number is None:
        return _refused(400, "send input=1, 2 or 0 (tamper)")
    current = {i.number: i.level for i in door.inputs()}
    door.set_input(number, not current[number])
    return JSONResponse({"ok": True})
