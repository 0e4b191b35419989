"""Command mode presses (Table 1): one press announces the IP, three switch the network mode."""

from __future__ import annotations

from portier.door.command_mode import Command, CommandMode, spoken_address


def test_one_press_announces_the_address() -> None:
    mode = CommandMode(window=5.0)
    mode.enter(2, now=10.0)
    assert mode.press(2, now=11.0)
    assert mode.expire(now=14.9) is None  # window still open
    assert mode.expire(now=15.0) is Command.ANNOUNCE_IP
    assert not mode.active


def test_three_presses_switch_the_network_mode() -> None:
    mode = CommandMode(window=5.0)
    mode.enter(2, now=0.0)
    for at in (1.0, 1.3, 1.6):
        assert mode.press(2, now=at)
    assert mode.expire(now=5.0) is Command.SWITCH_NETWORK_MODE


def test_other_counts_other_buttons_and_late_presses_do_nothing() -> None:
    mode = CommandMode(window=5.0)
    mode.enter(2, now=0.0)
    assert mode.press(1, now=1.0)  # taken (no call starts), but not counted
    mode.press(2, now=1.5)
    mode.press(2, now=2.0)
    assert mode.expire(now=5.0) is None
    assert not mode.press(2, now=6.0)  # not in command mode any more: a normal press


def test_spoken_address() -> None:
    assert spoken_address("192.168.1.128") == "1 9 2 dot 1 6 8 dot 1 dot 1 2 8"
