"""Check schema rows against the manual's tables."""

from __future__ import annotations

from typing import Any

from portier.settings.declare import Leaf, index
from portier.settings.schema import Settings


def row(path: str) -> Leaf:
    table = index(Settings)
    assert path in table, f"the schema has no setting {path!r}"
    return table[path]


_UNSET: Any = object()


def assert_row(
    path: str,
    *,
    label: str | None = None,
    default: Any = _UNSET,
    ge: int | None = None,
    le: int | None = None,
    key: str | None = None,
    unit: str | None = None,
) -> Leaf:
    """Assert one manual row: its label, default, range, unit and Fanvil key."""
    leaf = row(path)
    if label is not None:
        assert leaf.label == label, f"{path}: label {leaf.label!r}, manual says {label!r}"
    if default is not _UNSET:
        assert leaf.default == default, f"{path}: default {leaf.default!r}, manual says {default!r}"
    if ge is not None:
        assert leaf.bound("ge") == ge, f"{path}: lower bound {leaf.bound('ge')}, manual says {ge}"
    if le is not None:
        assert leaf.bound("le") == le, f"{path}: upper bound {leaf.bound('le')}, manual says {le}"
    if key is not None:
        assert leaf.key == key, f"{path}: Fanvil key {leaf.key!r}, expected {key!r}"
    if unit is not None:
        assert leaf.unit == unit, f"{path}: unit {leaf.unit!r}, expected {unit!r}"
    assert leaf.help, f"{path}: no help text"
    return leaf
