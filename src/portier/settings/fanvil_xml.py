"""The XML variants of Fanvil config files.

``<VOIP_CONFIG_FILE>`` holds one element per module (``<SIP_CONFIG_MODULE>``) whose
children are keys with blanks written as ``_`` (``<SIP__Port>``). Repeated units are
entries with an ``<ID>`` child that prefixes their keys::

    <SIP_Line_List_Entry><ID>SIP1</ID><Phone_Number>1001</Phone_Number></SIP_Line_List_Entry>

``<sysConf>`` files, and ``<item name="Key">value</item>`` elements, are read the same way.
expat gives line numbers for the errors; DOCTYPEs are refused so entities cannot expand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from .document import ConfigErrors
from .entries import Entry, ParsedFile

ROOTS = {"voip_config_file", "sysconf"}
SKIPPED = {"id", "version"}


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    line: int
    text: str = ""
    children: list[_Node] = field(default_factory=list)


class _Refused(Exception):
    pass


def _tree(text: str) -> _Node:
    root = _Node("", {}, 0)
    stack = [root]
    parser = expat.ParserCreate()

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = _Node(tag, attrs, parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        stack[-1].text += data

    def doctype(*_: object) -> None:
        raise _Refused(f"line {parser.CurrentLineNumber}: DOCTYPE declarations are not accepted")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(text, True)
    except _Refused as exc:
        raise ConfigErrors([str(exc)]) from None
    except expat.ExpatError as exc:
        raise ConfigErrors(
            [f"line {exc.lineno}: not well-formed XML ({expat.errors.messages[exc.code]})"]
        ) from None
    return root


def parse_xml(text: str) -> ParsedFile:
    document = _tree(text)
    if len(document.children) != 1 or document.children[0].tag.lower() not in ROOTS:
        raise ConfigErrors(
            ["line 1: XML config files must have a <VOIP_CONFIG_FILE> or <sysConf> root element"]
        )
    parsed = ParsedFile()

    def walk(node: _Node, prefix: str) -> None:
        ident = next((child.text.strip() for child in node.children if child.tag.lower() == "id"), "")
        if ident:
            prefix = ident
        for child in node.children:
            if child.children:
                walk(child, prefix)
                continue
            if child.tag.lower() in SKIPPED:
                continue
            name = child.attrs.get("name") or child.tag.replace("_", " ")
            key = f"{prefix} {name}" if prefix else name
            parsed.entries.append(Entry(child.line, key.strip(), child.text.strip()))

    walk(document.children[0], "")
    return parsed
