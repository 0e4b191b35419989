"""Which hotline the device dials when it goes off hook without a number (Table 15)."""

from __future__ import annotations

from typing import Any

from portier.phone.hotline import HotlineTarget, hotline_for
from portier.settings import document
from portier.settings.schema import Settings


def settings(**values: Any) -> Settings:
    return document.with_values(Settings(), {document.find(k): v for k, v in values.items()})


HOTLINE2 = {"SIP2 Enable Reg": True, "SIP2 Enable Hotline": True, "SIP2 Hotline Num": "100",
            "SIP2 WarmLine Time": 3}


def test_the_first_active_line_with_a_hotline_number() -> None:
    assert hotline_for(settings(**HOTLINE2)) == HotlineTarget(2, "100", 3.0)
    both = settings(**HOTLINE2, **{"SIP1 Enable Reg": True, "SIP1 Enable Hotline": True,
                                   "SIP1 Hotline Num": "9"})
    assert hotline_for(both) == HotlineTarget(1, "9", 0.0)
    assert hotline_for(both, 2) == HotlineTarget(2, "100", 3.0)


def test_no_hotline_without_the_switch_a_number_or_an_active_line() -> None:
    assert hotline_for(Settings()) is None
    assert hotline_for(settings(**{**HOTLINE2, "SIP2 Enable Hotline": False})) is None
    assert hotline_for(settings(**{**HOTLINE2, "SIP2 Hotline Num": ""})) is None
    assert hotline_for(settings(**{**HOTLINE2, "SIP2 Enable Reg": False})) is None
    assert hotline_for(settings(**HOTLINE2), 1) is None
    assert hotline_for(settings(**HOTLINE2), 0) is None
