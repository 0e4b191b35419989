"""The live settings of a device: loaded from storage, changed atomically, watched.

Changes are whole-document: validate, save in one SQLite transaction, then tell the
listeners which settings changed so only the affected services re-apply them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..storage import Storage
from . import document
from .declare import Leaf, leaves
from .document import ConfigErrors
from .schema import Settings
from .values import SettingError, check

log = logging.getLogger(__name__)

Listener = Callable[[list[Leaf]], None]


def to_document(settings: Settings) -> dict[str, Any]:
    """What is stored: only the values that differ from the factory defaults."""
    return settings.model_dump(mode="json", exclude_defaults=True)


class SettingsStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.problems: list[str] = []
        self._listeners: list[Listener] = []
        self._current = self._load()

    @property
    def current(self) -> Settings:
        return self._current

    def _load(self) -> Settings:
        stored = self.storage.load_settings()
        if stored is None:
            return Settings()
        try:
            return document.validate(stored)
        except ConfigErrors as exc:
            self.problems = exc.problems
        # Keep every stored value that is still valid; the stored document stays untouched
        # until the next save, so nothing is lost by reading it.
        values: dict[Leaf, Any] = {}
        for leaf in leaves(Settings):
            node: Any = stored
            for part in leaf.path:
                node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
            if node is _MISSING:
                continue
            try:
                values[leaf] = check(leaf, node)
            except SettingError as err:
                self.problems.append(str(err))
        for problem in self.problems:
            log.error("stored settings: %s (factory default used)", problem)
        try:
            return document.with_values(Settings(), values)
        except ConfigErrors as exc:
            for problem in exc.problems:
                log.error("stored settings: %s (factory defaults used)", problem)
            return Settings()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def update(self, values: Mapping[Leaf, Any]) -> list[Leaf]:
        """Set some settings; raises ConfigErrors and changes nothing if any is invalid."""
        return self.replace(document.with_values(self._current, values))

    def replace(self, settings: Settings) -> list[Leaf]:
        changed = document.changed(self._current, settings)
        if not changed and self.storage.load_settings() is not None:
            return []
        self.storage.save_settings(to_document(settings))
        self._current = settings
        self.problems = []
        for listener in list(self._listeners):
            listener(changed)
        return changed

    def reset_modules(self, modules: Iterable[str]) -> list[Leaf]:
        return self.replace(document.reset_modules(self._current, modules))


_MISSING = object()
