"""A menu page as shown: its generated form, its tables and uploads, and what is not built yet."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from fastapi import Request
from starlette.responses import HTMLResponse

from portier import __version__
from portier.device import Device
from portier.media.ringtone import list_ringtones
from portier.settings.records import StoredFile, WebFilterRange
from portier.tls_material import device_certificate

from .. import forms
from ..deps import client_ip, current_session, device_of
from ..extras import EXTRAS
from ..menu import MenuPage
from ..render import render
from ..tables import TABLES, Column, TableSpec, cell, columns
from ..uploads import FILES, FileSpec
from ..webfilter import lockout_problem, ranges


@dataclass
class TableView:
    spec: TableSpec
    columns: list[Column]
    rows: list[tuple[int, list[str]]]
    errors: Mapping[str, str] = field(default_factory=dict)
    typed: Mapping[str, str] = field(default_factory=dict)


@dataclass
class FileView:
    spec: FileSpec
    files: list[tuple[str, int]]


def certificate_facts(device: Device) -> list[tuple[str, str]]:
    """The certificate the device presents, so an installer can compare it with what a browser shows."""
    cert, _ = device_certificate(device.storage, device.settings.current.security)
    first = x509.load_pem_x509_certificates(cert)[0]
    fingerprint = first.fingerprint(hashes.SHA256()).hex(":").upper()
    return [
        ("Subject", first.subject.rfc4514_string()),
        ("Issuer", first.issuer.rfc4514_string()),
        ("Valid", f"{first.not_valid_before_utc:%Y-%m-%d} to {first.not_valid_after_utc:%Y-%m-%d}"),
        ("SHA-256 fingerprint", fingerprint),
    ]


def firmware_facts(device: Device) -> list[tuple[str, str]]:
    return [("Current Software Version", f"portier {__version__}")]


FACTS: dict[str, Callable[[Device], list[tuple[str, str]]]] = {
    "/security/device-certificates": certificate_facts,
    "/system/upgrade": firmware_facts,
}
"""Read-only facts some settings pages show above their form."""


def not_built(page: MenuPage, device: Device) -> str:
    """What the page's settings are not acted on by yet (empty when a service acting on them runs)."""
    if not page.pending:
        return ""
    running = {service.name for service in device.services}
    return "" if running & set(page.services) else page.pending


def gaps(page: MenuPage, device: Device) -> str:
    """What stays unbuilt even with the page's services running (shown when they run)."""
    return page.gaps if page.gaps and not not_built(page, device) else ""


def table_view(device: Device, name: str, errors: Mapping[str, str], typed: Mapping[str, str]) -> TableView:
    spec = TABLES[name]
    cols = columns(spec)
    rows = [
        (ident, [cell(getattr(row, col.name)) for col in cols])
        for ident, row in device.storage.rows(spec.record)
    ]
    return TableView(spec, cols, rows, errors, typed)


def file_view(device: Device, spec: FileSpec) -> FileView:
    stored = [f for _, f in device.storage.rows(StoredFile) if f.kind == spec.kind]
    return FileView(spec, [(f.name, len(f.content)) for f in stored])


def show(
    request: Request,
    page: MenuPage,
    *,
    unit: str | None = None,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    problems: Sequence[str] = (),
    table: tuple[str, Mapping[str, str], Mapping[str, str]] | None = None,
    message: str = "",
    status: int = 200,
) -> HTMLResponse:
    """Render a settings page; ``table`` is (name, errors, typed) of a refused row."""
    session = current_session(request)
    device = device_of(request)
    chosen = (
        unit if unit in {label for label, _ in page.units} else (page.units[0][0] if page.units else None)
    )
    prefixes = page.unit_prefixes(chosen)
    has_rings = any(map(forms.names_a_ring, forms.page_leaves(prefixes)))
    rings = list_ringtones(device.storage) if has_rings else []
    form = forms.sections(prefixes, device.settings.current, typed, errors, rings) if prefixes else []
    tables = [
        table_view(device, name, *(table[1:] if table and table[0] == name else ({}, {})))
        for name in page.tables
    ]
    return render(
        request, "page.html", status,
        page=page, unit=chosen, sections=form, tables=tables,
        files=[file_view(device, FILES[kind]) for kind in page.files],
        problems=list(problems), message=message, pending=not_built(page, device), gap=gaps(page, device),
        facts=FACTS[page.path](device) if page.path in FACTS else [],
        can_edit=session.admin or not page.admin_only, is_admin=session.admin,
        **(EXTRAS[page.extra](device) if page.extra else {}),
    )  # fmt: skip


def filter_problem(
    request: Request, *, enable: bool | None = None, rows: list[WebFilterRange] | None = None
) -> str | None:
    """Why a web filter change (its switch or its table) would shut out this browser; None if not."""
    device = device_of(request)
    if enable is None:
        enable = device.settings.current.security.web_filter.enable
    return lockout_problem(enable, ranges(device.storage) if rows is None else rows, client_ip(request))
