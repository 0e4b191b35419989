"""Lower layers never import upper ones (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[2] / "src" / "portier"
FORBIDDEN = {
    "sip": (
        "portier.phone",
        "portier.door",
        "portier.web",
        "portier.services",
        "portier.device",
        "portier.media",
    ),
    "media": ("portier.phone", "portier.door", "portier.web", "portier.services", "portier.device"),
    "settings": (
        "portier.phone",
        "portier.door",
        "portier.web",
        "portier.services",
        "portier.device",
        "portier.sip",
        "portier.media",
    ),
}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                package = ".".join(("portier", *path.relative_to(SRC).parts[:-1]))
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_lower_layers_do_not_import_upper_layers() -> None:
    offences = []
    for layer, banned in FORBIDDEN.items():
        for path in sorted((SRC / layer).glob("**/*.py")):
            for name in imports(path):
                if name.startswith(banned):
                    offences.append(f"{path.relative_to(SRC)} imports {name}")
    assert offences == []
