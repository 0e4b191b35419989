"""What a parsed config file holds, whatever its format."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """One ``key: value`` found in a file, with the line it came from."""

    line: int
    key: str
    value: str


@dataclass
class ParsedFile:
    entries: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
