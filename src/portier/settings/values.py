"""Setting values as text (config files, CLI, forms) and their validation.

Every user-facing error names the setting by its Fanvil key and says what is allowed,
so a person can fix the line without reading code.
"""

from __future__ import annotations

import typing
from enum import Enum, IntEnum
from functools import cache
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from .declare import PATTERN_MEANINGS, SINGLE_LINE, Leaf

_TRUE = {"1", "true", "yes", "on", "enabled"}
_FALSE = {"0", "false", "no", "off", "disabled", ""}


class SettingError(ValueError):
    """A value a person gave for a setting is not acceptable; the message says why."""


def _list_item(annotation: Any) -> Any:
    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0]
    return None


def to_text(leaf: Leaf, value: Any) -> str:
    """The config-file spelling of a value: 0/1, integer codes, comma lists."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, IntEnum):
        return str(int(value))
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list):
        return ",".join(to_text(leaf, item) for item in value)
    return str(value)


def _enum_from_text(leaf: Leaf, enum: type[Enum], text: str) -> Enum:
    wanted = text.strip()
    for member in enum:
        if wanted.lower() in (member.name.lower(), str(member.value).lower()):
            return member
    names = ", ".join(member.name for member in enum)
    if issubclass(enum, IntEnum):
        codes = ", ".join(str(int(m)) for m in enum)
        raise SettingError(f"`{leaf.key}` must be one of {names} (codes {codes}), got {text!r}")
    raise SettingError(f"`{leaf.key}` must be one of {names}, got {text!r}")


def from_text(leaf: Leaf, text: str) -> Any:
    """Parse the text form of a value (config file, CLI) and validate it."""
    annotation = leaf.annotation
    text = text.strip()
    value: Any
    if annotation is bool:
        lowered = text.lower()
        if lowered not in _TRUE | _FALSE:
            raise SettingError(f"`{leaf.key}` must be 0 or 1, got {text!r}")
        value = lowered in _TRUE
    elif annotation is int:
        try:
            value = int(text)
        except ValueError:
            raise SettingError(f"`{leaf.key}` must be a whole number{_range(leaf)}, got {text!r}") from None
    elif isinstance(annotation, type) and issubclass(annotation, Enum):
        value = _enum_from_text(leaf, annotation, text)
    elif (item := _list_item(annotation)) is not None:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(item, type) and issubclass(item, Enum):
            value = [_enum_from_text(leaf, item, part) for part in parts]
        else:
            value = parts
    else:
        value = text
    return check(leaf, value)


def _range(leaf: Leaf) -> str:
    lo, hi = leaf.bound("ge"), leaf.bound("le")
    unit = f" {leaf.unit}" if leaf.unit else ""
    if lo is not None and hi is not None:
        return f" in {lo}-{hi}{unit}"
    if lo is not None:
        return f" of at least {lo}{unit}"
    if hi is not None:
        return f" of at most {hi}{unit}"
    return ""


@cache
def _adapter(leaf: Leaf) -> TypeAdapter[Any]:
    metadata = leaf.info.metadata
    form: Any = Annotated[leaf.annotation, *metadata] if metadata else leaf.annotation
    return TypeAdapter(form)


def check(leaf: Leaf, value: Any) -> Any:
    """Validate a Python value against the declaration; return it coerced."""
    try:
        return _adapter(leaf).validate_python(value)
    except ValidationError as exc:
        raise SettingError(describe(leaf, exc.errors()[0], value)) from None


def describe(leaf: Leaf, error: Any, value: Any) -> str:
    """One pydantic error as a sentence about the setting."""
    kind = str(error.get("type", ""))
    shown = to_text(leaf, value) if not isinstance(value, str) else value
    if kind in ("greater_than_equal", "less_than_equal", "int_parsing", "int_type"):
        return f"`{leaf.key}` must be a whole number{_range(leaf)}, got {shown!r}"
    if kind == "string_too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"`{leaf.key}` must be at most {limit} characters, got {len(str(value))}"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern")
        if pattern == SINGLE_LINE:
            return f"`{leaf.key}` must be one line without leading or trailing blanks, got {shown!r}"
        if pattern in PATTERN_MEANINGS:
            return f"`{leaf.key}` must be {PATTERN_MEANINGS[pattern]}, got {shown!r}"
        return f"`{leaf.key}` must match {pattern}, got {shown!r}"
    if kind in ("enum", "bool_parsing", "bool_type"):
        return f"`{leaf.key}`: {error.get('msg')}, got {shown!r}"
    return f"`{leaf.key}`: {error.get('msg')} (got {shown!r})"
