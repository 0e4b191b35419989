"""How a setting is declared: once, with everything every reader of it needs.

A setting is a pydantic field made by :func:`setting`. Its declaration carries the
default, the range, the unit, the help text, the label the web form shows and the
Fanvil config-file key. The web forms, the config codec, the CLI and the API all
read these declarations through :func:`leaves`; nothing else spells a key twice.

Fanvil keys of repeated things (two SIP lines, five call buttons...) are templates:
``"SIP{n} Register Addr"``. ``n`` comes from the trailing number of the outermost field
that holds a repeated model (``sip1`` -> 1; a numbered field inside it gives ``m``); a
parent may add more template variables with :func:`group` (``ctx``) for siblings that
share a model but not key words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

SINGLE_LINE = r"^(?:\S(?:[^\r\n]*\S)?)?$"
"""Text settings are one line with no surrounding blanks, so the config file round-trips them."""


PATTERN_MEANINGS: dict[str, str] = {}
"""Patterns whose error message says what they mean in words, instead of showing the regex."""


def described(pattern: str, meaning: str) -> str:
    """``pattern``, remembered with ``meaning`` ("IP addresses or networks ...") for error messages."""
    PATTERN_MEANINGS[pattern] = meaning
    return pattern


class Page(BaseModel):
    """A group of settings: a menu page, a section of one, or a repeated unit (a line, a button).

    ``fanvil_module`` / ``fanvil_section`` place its settings in the config file; a page
    that does not set them inherits its parent's.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)

    fanvil_module: ClassVar[str | None] = None
    fanvil_section: ClassVar[str | None] = None


def setting(
    default: Any,
    *,
    key: str,
    help: str,
    label: str | None = None,
    unit: str | None = None,
    ge: int | None = None,
    le: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    secret: bool = False,
    host: str | None = None,
) -> Any:
    """Declare one setting.

    ``key`` is the Fanvil config key (a template, see module doc); ``host`` names the part of
    the host OS that owns the function ("the OS network stack"), so the UI can say plainly that
    portier drives the OS tool rather than the setting itself.
    """
    extra: dict[str, Any] = {"fanvil": key}
    if unit:
        extra["unit"] = unit
    if secret:
        extra["secret"] = True
    if host:
        extra["host"] = host
    if isinstance(default, str) and pattern is None:
        pattern = SINGLE_LINE
    kwargs: dict[str, Any] = {}
    if isinstance(default, list):
        kwargs["default_factory"] = lambda: list(default)
    else:
        kwargs["default"] = default
    return Field(
        ge=ge,
        le=le,
        max_length=max_length,
        pattern=pattern,
        title=label,
        description=help,
        json_schema_extra=extra,
        **kwargs,
    )


def group(model: type[Page], *, help: str = "", **ctx: str) -> Any:
    """Declare a nested page; ``ctx`` adds words to its children's key templates."""
    return Field(default_factory=model, description=help, json_schema_extra={"ctx": dict(ctx)})


@dataclass(frozen=True)
class Leaf:
    """One setting as seen from the root: where it lives and how it is named in files."""

    path: tuple[str, ...]
    info: FieldInfo
    key: str
    module: str
    section: str | None

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def annotation(self) -> Any:
        return self.info.annotation

    @property
    def label(self) -> str:
        return self.info.title or self.path[-1].replace("_", " ").capitalize()

    @property
    def help(self) -> str:
        return self.info.description or ""

    def extra(self, name: str) -> Any:
        data = self.info.json_schema_extra
        return data.get(name) if isinstance(data, dict) else None

    @property
    def unit(self) -> str | None:
        return cast("str | None", self.extra("unit"))

    @property
    def secret(self) -> bool:
        return bool(self.extra("secret"))

    @property
    def default(self) -> Any:
        return self.info.get_default(call_default_factory=True)

    def bound(self, name: str) -> int | None:
        for item in self.info.metadata:
            value = getattr(item, name, None)
            if value is not None:
                return cast(int, value)
        return None


_TRAILING_NUMBER = re.compile(r"\D(\d+)$")


def _walk(
    model: type[Page], prefix: tuple[str, ...], ctx: dict[str, str], module: str | None, section: str | None
) -> Iterator[Leaf]:
    module = model.fanvil_module or module
    section = model.fanvil_section if model.fanvil_module or model.fanvil_section else section
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, Page):
            child_ctx = dict(ctx)
            number = _TRAILING_NUMBER.search(name)
            if number:
                child_ctx["m" if "n" in child_ctx else "n"] = number.group(1)
            extra = info.json_schema_extra
            if isinstance(extra, dict) and isinstance(extra.get("ctx"), dict):
                child_ctx.update(cast(dict[str, str], extra["ctx"]))
            yield from _walk(sub, (*prefix, name), child_ctx, module, section)
            continue
        extra = info.json_schema_extra
        template = extra.get("fanvil") if isinstance(extra, dict) else None
        if not isinstance(template, str) or module is None:
            raise TypeError(f"{'.'.join((*prefix, name))}: declare settings with setting(..., key=...)")
        yield Leaf((*prefix, name), info, template.format(**ctx), module, section)


@cache
def leaves(root: type[Page]) -> tuple[Leaf, ...]:
    """Every setting under ``root``, in declaration order (which is also file order)."""
    return tuple(_walk(root, (), {}, None, None))


@cache
def index(root: type[Page]) -> dict[str, Leaf]:
    """Look-up by Fanvil key (case-insensitive, blanks folded) and by dotted schema path."""
    table: dict[str, Leaf] = {}
    for leaf in leaves(root):
        for name in (fold_key(leaf.key), leaf.dotted):
            if name in table:
                raise TypeError(f"setting name {name!r} is declared twice")
            table[name] = leaf
    return table


def fold_key(key: str) -> str:
    """Fanvil files vary in case and spacing of keys; compare them folded."""
    return " ".join(key.split()).lower()


def enum_names(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [member.name for member in annotation]
    return []
