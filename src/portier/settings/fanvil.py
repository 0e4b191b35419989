"""Fanvil configuration files (System >> Configurations, auto-provisioning).

Export writes Fanvil's text format::

    <<VOIP CONFIG FILE>>Version:2.0000000000

    <SIP CONFIG MODULE>
    SIP  Port          :5060
    --SIP Line List--  :
    SIP1 Phone Number       :1001
    <<END OF FILE>>

Import reads that format and the XML variants (:mod:`.fanvil_xml`). An import is all or
nothing: every bad value is reported with its line number and none is applied; keys this
device does not know are warnings, and a partial file changes only what it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .declare import Leaf, fold_key, index, leaves
from .document import ConfigErrors, changed, get, with_values
from .entries import Entry, ParsedFile
from .fanvil_xml import parse_xml
from .schema import Settings
from .values import SettingError, from_text, to_text

HEADER = "<<VOIP CONFIG FILE>>Version:2.0000000000"
FOOTER = "<<END OF FILE>>"
CRLF = "\r\n"
KEY_WIDTH = 19
SECTION_KEY_WIDTH = 24


@dataclass
class ImportResult:
    settings: Settings
    changed: list[Leaf]
    warnings: list[str]


def _pad(key: str, width: int) -> str:
    return key.ljust(width) + ":"


def export_text(settings: Settings) -> str:
    """The whole configuration in Fanvil's text format (CRLF line ends)."""
    modules: dict[str, dict[str | None, list[Leaf]]] = {}
    for leaf in leaves(Settings):
        modules.setdefault(leaf.module, {}).setdefault(leaf.section, []).append(leaf)
    out = [HEADER]
    for module, sections in modules.items():
        out += ["", f"<{module}>"]
        ordered = sorted(sections.items(), key=lambda item: item[0] is not None)
        for section, members in ordered:
            width = KEY_WIDTH
            if section is not None:
                out.append(_pad(section, KEY_WIDTH))
                width = SECTION_KEY_WIDTH
            out += [_pad(leaf.key, width) + to_text(leaf, get(settings, leaf)) for leaf in members]
    out.append(FOOTER)
    return CRLF.join(out) + CRLF


def parse(data: bytes | str) -> ParsedFile:
    """Read a config file of any supported format into entries; raises :class:`ConfigErrors`."""
    text = _decode(data)
    stripped = text.lstrip()
    if stripped.startswith("<<VOIP CONFIG FILE>>"):
        return _parse_text(text)
    if stripped.startswith("<"):
        return parse_xml(text)
    raise ConfigErrors(
        ["line 1: not a Fanvil config file: it must start with `<<VOIP CONFIG FILE>>` or be XML"]
    )


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigErrors([f"line {line}: the file is not UTF-8 text"]) from None


def _parse_text(text: str) -> ParsedFile:
    parsed = ParsedFile()
    errors: list[str] = []
    ended = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if ended:
            parsed.warnings.append(f"line {number}: text after `{FOOTER}` is ignored")
            break
        if line.startswith("<<VOIP CONFIG FILE>>"):
            continue
        if line == FOOTER:
            ended = True
        elif line.startswith("<") and line.endswith(">"):
            continue  # module header: keys are unique, so the module only orders the file
        elif line.startswith("--"):
            continue  # sub-section header, e.g. "--SIP Line List--  :"
        elif ":" in line:
            key, value = raw.split(":", 1)
            parsed.entries.append(Entry(number, key.strip(), value.strip()))
        else:
            errors.append(f"line {number}: expected `Key :value`, got {line[:60]!r}")
    if not ended:
        errors.append(f"the file ends without `{FOOTER}`: it looks truncated, so nothing was applied")
    if errors:
        raise ConfigErrors(errors)
    return parsed


def apply(settings: Settings, parsed: ParsedFile) -> ImportResult:
    """Settings with the file's values applied, or :class:`ConfigErrors` listing every problem."""
    table = index(Settings)
    warnings = list(parsed.warnings)
    errors: list[str] = []
    values: dict[Leaf, Any] = {}
    seen: dict[Leaf, int] = {}
    for entry in parsed.entries:
        leaf = table.get(fold_key(entry.key))
        if leaf is None:
            warnings.append(f"line {entry.line}: unknown key `{entry.key}` is ignored")
            continue
        if leaf in seen:
            warnings.append(
                f"line {entry.line}: `{leaf.key}` repeats line {seen[leaf]}; the last value is used"
            )
        seen[leaf] = entry.line
        try:
            values[leaf] = from_text(leaf, entry.value)
        except SettingError as exc:
            errors.append(f"line {entry.line}: {exc}")
    if errors:
        raise ConfigErrors(errors)
    try:
        updated = with_values(settings, values)
    except ConfigErrors as exc:
        raise ConfigErrors([f"the file as a whole: {problem}" for problem in exc.problems]) from None
    return ImportResult(updated, changed(settings, updated), warnings)


def import_file(settings: Settings, data: bytes | str) -> ImportResult:
    return apply(settings, parse(data))
