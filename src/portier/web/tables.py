"""Data tables edited row by row on their pages (restricted numbers, web filter, firewall, time plans).

Like the settings forms, the add form of a table is generated from its row shape
(:mod:`portier.settings.records`), and the row is validated by that same declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from portier.settings.declare import SINGLE_LINE
from portier.settings.records import (
    HHMM,
    IPV4,
    FirewallRule,
    Record,
    RestrictedIncoming,
    RestrictedOutgoing,
    TimePlan,
    WebFilterRange,
)


@dataclass(frozen=True)
class TableSpec:
    record: type[Record]
    title: str

    @property
    def name(self) -> str:
        return self.record.table


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(RestrictedIncoming, "Restricted Incoming Calls"),
        TableSpec(RestrictedOutgoing, "Restrict Outgoing Call"),
        TableSpec(WebFilterRange, "Web Filter Table"),
        TableSpec(FirewallRule, "Firewall Rules"),
        TableSpec(TimePlan, "Time Plans"),
    )
}

_WORDS = {"ip": "IP", "src": "Source", "dst": "Destination"}
_PATTERNS = {
    IPV4: "must be an IPv4 address such as 192.168.1.10",
    HHMM: "must be a time of day as HH:MM, such as 06:30",
    SINGLE_LINE: "must be one line without leading or trailing blanks",
}


def label(name: str) -> str:
    words = [_WORDS.get(word, word) for word in name.split("_")]
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words)


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str
    """checkbox, select, number or text."""
    default: str
    choices: tuple[str, ...] = ()
    help: str = ""


def _enum(info: FieldInfo) -> type[Enum] | None:
    annotation = info.annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, Enum) else None


def columns(spec: TableSpec) -> list[Column]:
    result = []
    for name, info in spec.record.model_fields.items():
        enum = _enum(info)
        default = info.get_default(call_default_factory=True)
        if enum is not None:
            shown = default.name if isinstance(default, Enum) else ""
            result.append(Column(name, label(name), "select", shown, tuple(m.name for m in enum)))
        elif info.annotation is bool:
            result.append(
                Column(name, label(name), "checkbox", "1" if default else "", help=info.description or "")
            )
        elif info.annotation in (int, float):
            result.append(Column(name, label(name), "number", "" if default is None else str(default)))
        else:
            text = "" if default is None or not isinstance(default, str) else default
            result.append(Column(name, label(name), "text", text, help=info.description or ""))
    return result


def cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return value.name
    return str(value)


def parse_row(spec: TableSpec, form: Mapping[str, str]) -> tuple[Record | None, dict[str, str]]:
    """The row a form describes, or the problems by column (each a sentence)."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, info in spec.record.model_fields.items():
        enum = _enum(info)
        text = form.get(name, "").strip()
        if info.annotation is bool:
            data[name] = name in form
        elif enum is not None:
            member = next((m for m in enum if m.name == text), None)
            if member is None:
                errors[name] = f"{label(name)} must be one of {', '.join(m.name for m in enum)}"
            else:
                data[name] = member
        elif text or info.is_required():
            data[name] = text
    if errors:
        return None, errors
    try:
        return spec.record.model_validate(data), {}
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            errors[name] = _sentence(name, error)
        return None, errors


def _sentence(name: str, error: Any) -> str:
    ctx = error.get("ctx") or {}
    if error.get("type") == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERNS:
        return f"{label(name)} {_PATTERNS[ctx['pattern']]}, got {error.get('input')!r}"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{label(name)}: {message[:1].lower()}{message[1:]} (got {error.get('input')!r})"
