"""The settings store: only differences are saved, changes are all-or-nothing and announced."""

from __future__ import annotations

from pathlib import Path

import pytest

from portier.settings.declare import Leaf
from portier.settings.document import ConfigErrors, find
from portier.settings.store import SettingsStore
from portier.storage import Storage


def test_fresh_device_runs_on_defaults(tmp_path: Path) -> None:
    store = SettingsStore(Storage(tmp_path))
    assert store.current.lines.sip1.auto_answer is True
    assert store.storage.load_settings() is None


def test_update_saves_only_differences_and_notifies(tmp_path: Path) -> None:
    store = SettingsStore(Storage(tmp_path))
    seen: list[list[Leaf]] = []
    store.subscribe(seen.append)
    changed = store.update({find("SIP1 Register Addr"): "127.0.0.1", find("SIP1 Register Port"): 5060})
    assert [leaf.dotted for leaf in changed] == ["lines.sip1.server1.address"]
    assert seen == [changed]
    assert store.storage.load_settings() == {"lines": {"sip1": {"server1": {"address": "127.0.0.1"}}}}
    reopened = SettingsStore(Storage(tmp_path))
    assert reopened.current == store.current


def test_rejected_update_changes_nothing(tmp_path: Path) -> None:
    store = SettingsStore(Storage(tmp_path))
    before = store.current
    with pytest.raises(ConfigErrors) as caught:
        store.update({find("SIP1 Register Addr"): "127.0.0.1", find("SIP1 Register Port"): 0})
    assert caught.value.problems == ["`SIP1 Register Port` must be a whole number in 1-65535, got '0'"]
    assert store.current == before
    assert store.storage.load_settings() is None


def test_stored_document_with_a_bad_value_keeps_the_good_ones(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    storage.save_settings({"lines": {"sip1": {"username": "1001", "auto_answer_delay": 999}, "bogus": 1}})
    store = SettingsStore(storage)
    assert store.current.lines.sip1.username == "1001"
    assert store.current.lines.sip1.auto_answer_delay == 0
    assert "`SIP1 NoAnswerTime` must be a whole number in 0-120 s, got '999'" in store.problems
    assert storage.load_settings() is not None and "bogus" in storage.load_settings()["lines"]  # type: ignore[index]


def test_clear_configuration_by_module(tmp_path: Path) -> None:
    store = SettingsStore(Storage(tmp_path))
    store.update({find("SIP1 Register Addr"): "127.0.0.1"})
    changed = store.reset_modules(["SIP CONFIG MODULE"])
    assert [leaf.dotted for leaf in changed] == ["lines.sip1.server1.address"]
    assert store.current.lines.sip1.server1.address == ""
