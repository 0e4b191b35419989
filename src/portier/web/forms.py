"""Settings forms generated from the schema: one declaration gives the field, its label, help, unit,
range, choices and secrecy (settings/declare.py); no page spells a setting in HTML.

Form values are text and go through the same :func:`~portier.settings.values.from_text` as config
files and the CLI, so a bad value gets the same sentence everywhere, shown next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any

from portier.settings.declare import Leaf, Page, enum_names, leaves
from portier.settings.document import get
from portier.settings.schema import Settings
from portier.settings.values import SettingError, from_text, to_text

CLEAR = "clear:"
"""Prefix of the checkbox that empties a secret (an empty secret field keeps the stored value)."""


@dataclass(frozen=True)
class Field:
    leaf: Leaf
    kind: str
    """checkbox, select, number, password or text."""
    value: str
    choices: tuple[str, ...] = ()
    error: str | None = None
    has_value: bool = False
    """For secrets: something is stored (the value itself is never sent to the browser)."""
    suggestions: tuple[str, ...] = ()
    """Values offered for a free-text field (the ring types: built-in and uploaded ringtones)."""

    @property
    def name(self) -> str:
        return self.leaf.dotted

    @property
    def label(self) -> str:
        return self.leaf.label

    @property
    def help(self) -> str:
        return self.leaf.help

    @property
    def unit(self) -> str | None:
        return self.leaf.unit

    @property
    def host(self) -> str | None:
        host = self.leaf.extra("host")
        return host if isinstance(host, str) else None

    @property
    def low(self) -> int | None:
        return self.leaf.bound("ge")

    @property
    def high(self) -> int | None:
        return self.leaf.bound("le")

    @property
    def clear_name(self) -> str:
        return CLEAR + self.name

    @property
    def field_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def names_a_ring(leaf: Leaf) -> bool:
    """A free-text setting that names a ring (Ring Type, the door's triggered ringtones)."""
    return leaf.annotation is str and leaf.path[-1].endswith(("ring_type", "ringtone"))


@dataclass
class Section:
    title: str
    depth: int
    fields: list[Field] = field(default_factory=list)


def _kind(leaf: Leaf) -> str:
    annotation = leaf.annotation
    if annotation is bool:
        return "checkbox"
    if enum_names(annotation):
        return "select"
    if annotation is int:
        return "number"
    if leaf.secret:
        return "password"
    return "text"


def page_leaves(prefixes: Sequence[str]) -> list[Leaf]:
    """The settings under any of ``prefixes`` (dotted, ending in '.'), in schema order."""
    return [leaf for leaf in leaves(Settings) if leaf.dotted.startswith(tuple(prefixes))]


@cache
def _group_titles() -> dict[tuple[str, ...], str]:
    """Each nested page's heading (the ``help`` of its ``group()``), by path."""
    titles: dict[tuple[str, ...], str] = {}

    def walk(model: type[Page], prefix: tuple[str, ...]) -> None:
        for name, info in model.model_fields.items():
            sub = info.annotation
            if isinstance(sub, type) and issubclass(sub, Page):
                path = (*prefix, name)
                titles[path] = info.description or name
                walk(sub, path)

    walk(Settings, ())
    return titles


def make_field(
    leaf: Leaf,
    settings: Settings,
    *,
    text: str | None = None,
    error: str | None = None,
    rings: Sequence[str] = (),
) -> Field:
    """A field showing the stored value, or ``text`` as typed when it was refused; a ring field
    offers ``rings``."""
    value = get(settings, leaf)
    kind = _kind(leaf)
    if kind == "password":
        return Field(leaf, kind, "", error=error, has_value=bool(value))
    if text is None:
        text = value.name if isinstance(value, Enum) else to_text(leaf, value)
    suggestions = tuple(rings) if names_a_ring(leaf) else ()
    return Field(leaf, kind, text, tuple(enum_names(leaf.annotation)), error, suggestions=suggestions)


def sections(
    prefixes: Sequence[str],
    settings: Settings,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    rings: Sequence[str] = (),
) -> list[Section]:
    """The form of a page: one section per nested page, headed by its title (Settings >> SIP1 >> ...);
    ``rings`` are the ring names ring fields offer."""
    typed, errors = typed or {}, errors or {}
    titles = _group_titles()
    result: list[Section] = []
    for leaf in page_leaves(prefixes):
        parent = leaf.path[:-1]
        if not result or result[-1].title != titles.get(parent, ""):
            result.append(Section(titles.get(parent, ""), len(parent)))
        name = leaf.dotted
        shown = typed.get(name) if name in errors else None
        result[-1].fields.append(make_field(leaf, settings, text=shown, error=errors.get(name), rings=rings))
    return result


@dataclass
class Submission:
    values: dict[Leaf, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)


def parse(prefixes: Sequence[str], form: Mapping[str, str]) -> Submission:
    """Values from a submitted form. A checkbox that is absent is off; other absent fields keep their
    value; an empty secret keeps the stored one unless its "clear" box is ticked."""
    result = Submission()
    for leaf in page_leaves(prefixes):
        name = leaf.dotted
        if leaf.annotation is bool:
            text = "1" if name in form else "0"
        elif leaf.secret and form.get(name, "") == "":
            if CLEAR + name not in form:
                continue
            text = ""
        elif name in form:
            text = str(form[name])
        else:
            continue
        result.typed[name] = text
        try:
            result.values[leaf] = from_text(leaf, text)
        except SettingError as exc:
            result.errors[name] = str(exc)
    return result
