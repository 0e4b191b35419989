"""Access to the RFC 4475 torture messages in the shared test-data directory."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from portier.sip import SipMessage, SipParseError

SHARED_DIR = Path(__file__).parents[3].parent / "shared" / "testdata" / "rfc4475"
VENDORED_DIR = Path(__file__).parents[2] / "vectors" / "rfc4475"
"""A byte-identical copy of the shared vectors (see its MANIFEST.md), so a clone elsewhere still has them."""
VECTOR_DIR = SHARED_DIR if SHARED_DIR.is_dir() else VENDORED_DIR


@cache
def load(name: str) -> bytes:
    path = VECTOR_DIR / f"{name}.dat"
    if not path.is_file():
        pytest.fail(f"RFC 4475 vector {path} is missing")
    return path.read_bytes()


def names() -> list[str]:
    if not VECTOR_DIR.is_dir():
        pytest.fail(f"RFC 4475 vectors not found at {VECTOR_DIR}")
    return sorted(p.stem for p in VECTOR_DIR.glob("*.dat"))


def _typed(msg: SipMessage, getter: str) -> Any:
    try:
        value = getattr(msg, getter)()
    except SipParseError as exc:
        return ("error", exc.message)
    if isinstance(value, list):
        return [dataclasses.astuple(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.astuple(value)
    return value


def structure(msg: SipMessage) -> tuple[Any, ...]:
    """Every structured field of a message, for fixed-point comparisons (URIs compared by field)."""
    start = dataclasses.astuple(msg)[3:]  # method/uri or status/reason (after headers, body, version)
    typed = tuple(_typed(msg, g) for g in ("vias", "from_", "to", "call_id", "cseq", "contacts", "route"))
    return (type(msg).__name__, msg.version, start, [(h.name, h.value) for h in msg.headers], msg.body, typed)
