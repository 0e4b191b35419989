"""Reading and changing a settings document as a whole value.

A :class:`~portier.settings.schema.Settings` is treated as immutable: a change builds
a new document and validates it entirely, so cross-field rules always hold and a
rejected change leaves nothing half-applied.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from .declare import Leaf, fold_key, index, leaves
from .schema import Settings
from .values import SettingError, describe


def find(name: str) -> Leaf:
    """A setting by Fanvil key (``SIP1 Register Addr``) or schema path (``lines.sip1.server1.address``)."""
    table = index(Settings)
    leaf = table.get(name.strip()) or table.get(fold_key(name))
    if leaf is None:
        raise SettingError(f"no setting is called {name!r} (use a Fanvil key or a schema path)")
    return leaf


def get(settings: Settings, leaf: Leaf) -> Any:
    node: Any = settings
    for part in leaf.path:
        node = getattr(node, part)
    return node


def flatten(settings: Settings) -> dict[Leaf, Any]:
    return {leaf: get(settings, leaf) for leaf in leaves(Settings)}


def changed(before: Settings, after: Settings) -> list[Leaf]:
    """Settings whose values differ, in schema order."""
    return [leaf for leaf in leaves(Settings) if get(before, leaf) != get(after, leaf)]


def with_values(settings: Settings, values: Mapping[Leaf, Any]) -> Settings:
    """A new document with ``values`` set; raises :class:`ConfigErrors` naming every problem."""
    data = settings.model_dump()
    for leaf, value in values.items():
        node = data
        for part in leaf.path[:-1]:
            node = node[part]
        node[leaf.path[-1]] = copy.deepcopy(value)
    return validate(data)


def validate(data: Mapping[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigErrors(_messages(exc, data)) from None


def _messages(exc: ValidationError, data: Mapping[str, Any]) -> list[str]:
    by_path = {leaf.path: leaf for leaf in leaves(Settings)}
    messages = []
    for error in exc.errors():
        path = tuple(str(part) for part in error["loc"])
        leaf = by_path.get(path)
        if leaf is None:
            messages.append(str(error["msg"]).removeprefix("Value error, "))
            continue
        value: Any = data
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        messages.append(describe(leaf, error, value))
    return messages


def reset_modules(settings: Settings, modules: Iterable[str]) -> Settings:
    """Clear Configurations: every setting in the given Fanvil modules back to its default."""
    wanted = {fold_key(module) for module in modules}
    defaults = {leaf: leaf.default for leaf in leaves(Settings) if fold_key(leaf.module) in wanted}
    return with_values(settings, defaults)


class ConfigErrors(ValueError):
    """One or more settings were rejected; nothing was applied. ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
