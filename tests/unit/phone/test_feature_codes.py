"""Switching call features: a setting, or a feature code dialled to the server ("Use Feature Code")."""

from __future__ import annotations

from typing import Any

import pytest

from portier.events import DndChanged, ForwardChanged
from portier.phone.feature_codes import (
    CALL_WAITING_PATH,
    ChangeSettings,
    DialCode,
    Feature,
    NotPossible,
    code_event,
    plan,
    toggle_events,
)
from portier.settings import document
from portier.settings.schema import Settings

CODES = {
    "SIP1 SvcCode Mode": True,
    "SIP1 DNDOn SvcCode": "*78",
    "SIP1 DNDOff SvcCode": "*79",
    "SIP1 CFUOn SvcCode": "*72",
    "SIP1 CFUOff SvcCode": "*73",
    "SIP1 CFBOn SvcCode": "*90",
    "SIP1 CFBOff SvcCode": "*91",
    "SIP1 CFNOn SvcCode": "*92",
    "SIP1 CFNOff SvcCode": "*93",
    "SIP1 ANCOn SvcCode": "*77",
    "SIP1 ANCOff SvcCode": "*87",
    "SIP1 CW On Code": "*70",
    "SIP1 CW Off Code": "*71",
    "SIP1 Send ANOn Code": "*67",
    "SIP1 Send ANOffCode": "*82",
}


def settings(**values: Any) -> Settings:
    return document.with_values(Settings(), {document.find(k): v for k, v in values.items()})


@pytest.mark.parametrize(
    ("feature", "on", "code"),
    [
        (Feature.DND, True, "*78"),
        (Feature.DND, False, "*79"),
        (Feature.FORWARD_UNCONDITIONAL, False, "*73"),
        (Feature.FORWARD_BUSY, True, "*90"),
        (Feature.FORWARD_NO_ANSWER, False, "*93"),
        (Feature.BLOCK_ANONYMOUS, True, "*77"),
        (Feature.CALL_WAITING, False, "*71"),
        (Feature.SEND_ANONYMOUS, True, "*67"),
    ],
)
def test_with_use_feature_code_every_switch_dials_its_code(feature: Feature, on: bool, code: str) -> None:
    assert plan(settings(**CODES), 1, feature, on) == DialCode(1, code)


def test_a_forward_code_carries_the_target_when_switched_on() -> None:
    assert plan(settings(**CODES), 1, Feature.FORWARD_UNCONDITIONAL, True, "301") == DialCode(1, "*72301")
    assert plan(settings(**CODES), 1, Feature.FORWARD_UNCONDITIONAL, False, "301") == DialCode(1, "*73")


def test_a_missing_code_is_not_dialled_and_says_which() -> None:
    found = plan(settings(**{"SIP2 SvcCode Mode": True}), 2, Feature.DND, True)
    assert isinstance(found, NotPossible) and "SIP2 dnd_on_code" in found.why


def test_without_feature_codes_the_setting_changes() -> None:
    assert plan(Settings(), 1, Feature.DND, True) == ChangeSettings({"lines.sip1.dnd": True})
    anonymous = ChangeSettings({"lines.sip2.send_anonymous": False})
    assert plan(Settings(), 2, Feature.SEND_ANONYMOUS, False) == anonymous
    assert plan(Settings(), 2, Feature.CALL_WAITING, False) == ChangeSettings({CALL_WAITING_PATH: False})
    assert plan(Settings(), 1, Feature.FORWARD_BUSY, True, "301") == ChangeSettings(
        {"lines.sip1.forward_busy": True, "lines.sip1.forward_busy_number": "301"}
    )
    kept = settings(**{"SIP1 Busy FWD Num": "302"})
    assert plan(kept, 1, Feature.FORWARD_BUSY, True) == ChangeSettings(
        {"lines.sip1.forward_busy": True, "lines.sip1.forward_busy_number": "302"}
    )
    off = ChangeSettings({"lines.sip1.forward_busy": False})
    assert plan(Settings(), 1, Feature.FORWARD_BUSY, False) == off


def test_forward_on_needs_a_number_and_features_need_a_line() -> None:
    assert isinstance(plan(Settings(), 1, Feature.FORWARD_NO_ANSWER, True), NotPossible)
    assert isinstance(plan(Settings(), 0, Feature.DND, True), NotPossible)
    assert isinstance(plan(Settings(), 3, Feature.DND, True), NotPossible)


def test_saved_settings_become_events_unless_the_server_has_the_features() -> None:
    now = settings(**{"SIP1 Enable DND": True, "SIP2 Busy FWD": True, "SIP2 Busy FWD Num": "301"})
    paths = ["lines.sip1.dnd", "lines.sip2.forward_busy", "lines.sip2.forward_busy_number",
             "lines.sip1.realm", "intercom.features.basic.call_waiting"]
    assert toggle_events(paths, now) == [DndChanged(1, True), ForwardChanged(2, "busy", True, "301")]
    coded = settings(**{**CODES, "SIP1 Enable DND": True})
    assert toggle_events(["lines.sip1.dnd"], coded) == []


def test_an_accepted_code_is_an_event_for_dnd_and_forward_only() -> None:
    assert code_event(1, Feature.DND, False) == DndChanged(1, False, via="code")
    assert code_event(2, Feature.FORWARD_NO_ANSWER, True, "301") == ForwardChanged(
        2, "no-answer", True, "301", via="code"
    )
    assert code_event(1, Feature.CALL_WAITING, True) is None
