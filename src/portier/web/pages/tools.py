"""Device Log (manual 9.30, 10.5) and Network Packets Capture (10.4): start, stop, watch, download.

The settings on those pages (log levels, syslog) are the generated forms of :mod:`.settings`;
these are the actions next to them. Both need an administrator: a log and a capture show the
device's SIP traffic and configuration.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from portier.services.capture import CaptureService
from portier.services.device_log import DeviceLogService, LogLine

from .. import sse
from ..deps import Forbidden, checked_form, current_session, device_of, state_of
from ..render import render

router = APIRouter(include_in_schema=False)

LOG_PAGE = "/device-log"
TOOLS_PAGE = "/system/tools"
FIRST_LINES = 500
"""Lines of the ring a new live view starts with."""


def device_log(request: Request) -> DeviceLogService:
    service = _service(request, "device-log", "the device log")
    assert isinstance(service, DeviceLogService)
    return service


def capture(request: Request) -> CaptureService:
    service = _service(request, "capture", "the packet capture")
    assert isinstance(service, CaptureService)
    return service


def _service(request: Request, name: str, what: str) -> object:
    try:
        return device_of(request).service(name)
    except LookupError:
        raise Forbidden(f"{what} is not running right now (the device is restarting); try again") from None


def _admin(request: Request) -> None:
    session = current_session(request)
    if not session.admin:
        raise Forbidden(f"user {session.user} is not an administrator; logs and captures need one")


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _missing(request: Request, what: str) -> Response:
    return render(request, "message.html", 404, title="Nothing to download", text=what)


# --- Device Log ---------------------------------------------------------------------------------------


@router.post(f"{LOG_PAGE}/start")
async def start_log(request: Request) -> Response:
    await checked_form(request, admin=True)
    try:
        device_log(request).begin_recording()
    except OSError as exc:
        raise Forbidden(f"the recording file cannot be written in the data directory: {exc}") from None
    return RedirectResponse(f"{LOG_PAGE}?done=log-started", status_code=303)


@router.post(f"{LOG_PAGE}/stop")
async def stop_log(request: Request) -> Response:
    await checked_form(request, admin=True)
    device_log(request).end_recording()
    return RedirectResponse(f"{LOG_PAGE}?done=log-ended", status_code=303)


@router.get(f"{LOG_PAGE}/download")
async def download_log(request: Request) -> Response:
    _admin(request)
    service = device_log(request)
    if not service.recording().available:
        return _missing(request, "There is no finished recording: click Start, then End, then Save.")
    return FileResponse(service.path, media_type="text/plain; charset=utf-8",
                        filename=f"portier-device-log-{_stamp()}.txt")  # fmt: skip


@router.get(f"{LOG_PAGE}/events")
async def log_events(request: Request) -> Response:
    """The live log; ``after`` (or the browser's Last-Event-ID on reconnect) skips lines seen."""
    _admin(request)
    service, web = device_log(request), state_of(request)
    mark = request.headers.get("last-event-id") or request.query_params.get("after", "0")
    after = int(mark) if mark.isdigit() else 0
    outbox = sse.Outbox()

    def line_message(line: LogLine) -> str:
        return sse.message(line.text, event="line", ident=line.id)

    unwatch = service.watch(lambda line: outbox.put(line_message(line)))
    web.streams.add(outbox)

    def closed() -> None:
        unwatch()
        web.streams.discard(outbox)

    first = [line_message(line) for line in service.lines(after)[-FIRST_LINES:]]
    return sse.stream(outbox, first, closed)


# --- Network Packets Capture ----------------------------------------------------------------------------


@router.post(f"{TOOLS_PAGE}/capture/start")
async def start_capture(request: Request) -> Response:
    await checked_form(request, admin=True)
    try:
        capture(request).begin()
    except OSError as exc:
        raise Forbidden(f"the capture file cannot be written in the data directory: {exc}") from None
    return RedirectResponse(f"{TOOLS_PAGE}?done=capture-started", status_code=303)


@router.post(f"{TOOLS_PAGE}/capture/stop")
async def stop_capture(request: Request) -> Response:
    await checked_form(request, admin=True)
    capture(request).end()
    return RedirectResponse(f"{TOOLS_PAGE}?done=capture-stopped", status_code=303)


@router.get(f"{TOOLS_PAGE}/capture/download")
async def download_capture(request: Request) -> Response:
    _admin(request)
    service = capture(request)
    if not service.status().available:
        return _missing(request, "There is no finished capture: click Start, then Stop, then Save.")
    return FileResponse(service.path, media_type="application/vnd.tcpdump.pcap",
                        filename=f"portier-capture-{_stamp()}.pcap")  # fmt: skip
