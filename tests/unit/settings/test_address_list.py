"""Restrict Active URI Source IP takes addresses and networks only: a typo is refused when saved."""

from __future__ import annotations

import pytest

from portier.settings.document import find
from portier.settings.values import SettingError, check

LEAF = find("Active Uri IP")


@pytest.mark.parametrize(
    "text",
    ["", "127.0.0.1", "10.0.0.9, 127.0.0.0/8", "192.168.1.0/24;10.1.2.3", "::1", "fe80::1/64",
     "2001:db8::/32 10.0.0.1"],
)  # fmt: skip
def test_addresses_and_networks_are_taken(text: str) -> None:
    assert check(LEAF, text) == text


@pytest.mark.parametrize(
    "text", ["10.0.0.300", "door.example.com", "10.0.0.1/33", "10.0.0", "10.0.0.1,", "any", " 10.0.0.1"]
)
def test_anything_else_is_refused_saying_what_is_expected(text: str) -> None:
    with pytest.raises(SettingError) as refused:
        check(LEAF, text)
    assert str(refused.value) == (
        "`Active Uri IP` must be IP addresses or networks such as 192.168.1.10 or 192.168.1.0/24, "
        f"separated by commas, got {text!r}"
    )
