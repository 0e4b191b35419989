"""Rows of the data tables and uploaded files, added and deleted from the pages that show them."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from portier.media.audio import AudioError
from portier.media.ringtone import store_ringtone
from portier.settings.records import FileKind, StoredFile, WebFilterRange
from portier.settings.security import DeviceCertMode
from portier.storage import StorageError

from ..deps import Forbidden, checked_form, device_of, text_fields, upload
from ..menu import MENU, MenuPage
from ..tables import TABLES, parse_row
from ..uploads import FILES, MAX_BYTES
from ..webfilter import range_problem
from .view import filter_problem, show

router = APIRouter(include_in_schema=False)


def _page_with_table(table: str) -> MenuPage:
    page = next((p for p in MENU if table in p.tables), None)
    if page is None or table not in TABLES:
        raise Forbidden(f"there is no table called {table!r}")
    return page


def _page_with_files(kind: str) -> tuple[MenuPage, FileKind]:
    try:
        file_kind = FileKind(kind)
    except ValueError:
        raise Forbidden(f"there are no uploads of kind {kind!r}") from None
    page = next((p for p in MENU if file_kind in p.files), None)
    if page is None:
        raise Forbidden(f"there are no uploads of kind {kind!r}")
    return page, file_kind


def _back(page: MenuPage, done: str) -> Response:
    return RedirectResponse(f"{page.path}?done={done}", status_code=303)


@router.post("/tables/{table}/add")
async def add_row(request: Request, table: str) -> Response:
    page = _page_with_table(table)
    _, form = await checked_form(request, admin=page.admin_only)
    fields = text_fields(form)
    row, errors = parse_row(TABLES[table], fields)
    if row is not None and isinstance(row, WebFilterRange):
        problem = range_problem(row.start_ip, row.end_ip)
        if problem:
            errors = {"start_ip": problem}
    if row is not None and not errors:
        try:
            device_of(request).storage.add(row)
        except StorageError as exc:
            errors = {"": str(exc)}
    if errors:
        return show(request, page, table=(table, errors, fields), status=422,
                    problems=["Nothing was added: correct the row (see the table below)."])  # fmt: skip
    return _back(page, "added")


@router.post("/tables/{table}/delete")
async def delete_row(request: Request, table: str) -> Response:
    page = _page_with_table(table)
    _, form = await checked_form(request, admin=page.admin_only)
    ident = str(form.get("id", ""))
    device = device_of(request)
    spec = TABLES[table]
    if not ident.isdigit():
        raise Forbidden("no row was chosen to delete")
    if spec.record is WebFilterRange:
        remaining = [row for number, row in device.storage.rows(WebFilterRange) if number != int(ident)]
        blocked = filter_problem(request, rows=remaining)
        if blocked:
            return show(request, page, problems=[f"The range was not deleted: {blocked}"], status=409)
    device.storage.delete(spec.record, int(ident))
    return _back(page, "deleted")


@router.post("/files/{kind}/upload")
async def upload_file(request: Request, kind: str) -> Response:
    page, file_kind = _page_with_files(kind)
    _, form = await checked_form(request, admin=page.admin_only)
    sent = upload(form, "file")
    if sent is None:
        return show(request, page, problems=["Choose a file to upload first."], status=422)
    content = await sent.read(MAX_BYTES + 1)
    name = (sent.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    problem = FILES[file_kind].problem(name, content)
    if problem is None and file_kind is FileKind.RINGTONE:
        problem = await _store_ringtone(request, name, content)
    elif problem is None:
        device = device_of(request)
        same = [i for i, f in device.storage.rows(StoredFile) if f.kind == file_kind and f.name == name]
        try:
            record = StoredFile(kind=file_kind, name=name, content=content)
            if same:  # an upload of the same name replaces it
                device.storage.update(same[0], record)
            else:
                device.storage.add(record)
        except (StorageError, ValueError) as exc:
            problem = str(exc)
    if problem:
        return show(request, page, problems=[f"The file was not stored: {problem}"], status=422)
    return _back(page, "uploaded")


async def _store_ringtone(request: Request, name: str, content: bytes) -> str | None:
    """Decode the file before keeping it (a worker thread: PyAV takes a moment), so a file that is
    not playable audio is refused with the reason and nothing is stored."""
    try:
        await asyncio.to_thread(store_ringtone, device_of(request).storage, name, content)
    except AudioError as exc:
        return str(exc)
    return None


@router.post("/files/{kind}/delete")
async def delete_file(request: Request, kind: str) -> Response:
    page, file_kind = _page_with_files(kind)
    _, form = await checked_form(request, admin=page.admin_only)
    name = str(form.get("name", ""))
    if name in FILES[file_kind].protected:
        return show(
            request, page, problems=[f"{name!r} is the built-in file and cannot be deleted."], status=409
        )
    device = device_of(request)
    certificates = device.settings.current.security.device_certificates
    in_use = certificates.mode is DeviceCertMode.CUSTOM and certificates.custom_file == name
    if file_kind is FileKind.DEVICE_CERTIFICATE and in_use:
        problem = f"{name!r} is the device certificate in use; set Device Certificates to DEFAULT first."
        return show(request, page, problems=[problem], status=409)
    for ident, stored in device.storage.rows(StoredFile):
        if stored.kind == file_kind and stored.name == name:
            device.storage.delete(StoredFile, ident)
    return _back(page, "removed")
