"""Command mode (manual 5.2.1, Table 1; issue 5 section 7) on a running device's virtual call button.

Hold button 1 (Desktop Long Pressed: Main Menu) for Command Mode Long Press Time, hear the beep, then
within Command Mode Window: one press announces the IP address by voice (espeak-ng; digit tones when
it is missing), three presses switch the Network Mode setting between STATIC 192.168.1.128 and DHCP
and announce. The speaker is a WAV directory (``--audio-out wav:DIR``): the beep and the announcement
are files under ``tones/``, judged by their spectrum and energy. The host's addresses and routes are
compared before and after: portier changes its settings, never this machine's network.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from portier.door import announce
from portier.events import ButtonChanged, CallStateChanged, Event, SettingsChanged
from portier.settings.network import NetworkBasic, NetworkMode

from .device import RunningDevice, running_device
from .peers import require
from .test_buttons_calls import click, door
from .test_tones_sipp import mono, peaks, tones_idle, window_levels

FAST = {"buttons.advanced.command_press_time": 1, "buttons.advanced.command_window": 2}


async def enter_command_mode(dut: RunningDevice, button: int = 1) -> None:
    """Hold ``button`` until the device reports the long press, then let go."""
    mark = len(dut.events.events)
    door(dut).press(button)

    def long_press(event: Event) -> bool:
        return isinstance(event, ButtonChanged) and event.button == button and event.long

    await dut.events.wait_for(long_press, 5, f"a long press of button {button}", mark)
    door(dut).release(button)
    await asyncio.sleep(0.1)


def host_network() -> str:
    """This machine's addresses and routes, as `ip` prints them."""
    ip = require("ip")
    shown = [
        subprocess.run([ip, *args], capture_output=True, text=True, timeout=5, check=True).stdout
        for args in (["-o", "addr", "show"], ["route", "show", "table", "all"])
    ]
    return "".join(shown)


def announcements(recordings: Path) -> list[Path]:
    """``tones/announce-*.wav``, oldest first."""
    return sorted((recordings / "tones").glob("announce-*.wav"), key=lambda path: path.stat().st_mtime)


async def announcement(dut: RunningDevice, recordings: Path, count: int = 1) -> Path:
    """The ``count``-th announcement file, once it is complete."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while len(announcements(recordings)) < count:
        assert loop.time() < deadline, f"no announcement #{count} under {recordings / 'tones'}"
        await asyncio.sleep(0.1)
    await tones_idle(dut, 30)
    return announcements(recordings)[count - 1]


async def announce_once(tmp_path: Path, recordings: Path) -> Path:
    """Long press and one press on a device whose speaker is ``recordings``: the announcement's file."""
    async with running_device(tmp_path / "dut", FAST, audio_out=f"wav:{recordings}") as dut:
        await enter_command_mode(dut)
        await click(dut, 1, hold=0.1)
        path = await announcement(dut, recordings)
        assert not [e for e in dut.events.events if isinstance(e, CallStateChanged)], "no call was made"
    return path


def assert_speech(path: Path) -> None:
    """Speech, not a tone or silence: over a second long, loud in stretches with pauses between words,
    its energy spread over the voice band rather than one frequency."""
    rate, samples = mono(path)
    levels = window_levels(samples, rate)
    loud = float(np.mean(levels > -40))
    assert samples.size / rate > 1.0, f"{path.name}: only {samples.size / rate:.2f} s"
    assert 0.3 < loud < 0.97, f"{path.name}: {loud:.0%} of 10 ms windows are loud"
    spectrum = np.abs(np.fft.rfft(samples))
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    voice = float(np.sum(spectrum[(freqs > 100) & (freqs < 4000)] ** 2) / np.sum(spectrum**2))
    assert voice > 0.8, f"{path.name}: only {voice:.0%} of the energy in the voice band"
    top = np.sort(spectrum)[::-1]
    assert top[0] < 0.2 * np.sum(top[:200]), f"{path.name}: one frequency dominates, not speech"


async def test_long_press_then_one_press_announces_the_ip_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="portier")
    recordings = tmp_path / "audio"
    path = await announce_once(tmp_path, recordings)
    assert "command mode: announcing the IP address 127.0.0.1" in caplog.text
    assert_speech(path)
    assert path.name == "announce-ip.wav"
    (beep,) = (recordings / "tones").glob("command-beep*.wav")
    rate, samples = mono(beep)
    assert peaks(samples, rate, 1) == pytest.approx([1000.0], rel=0.01)
    assert samples.size / rate <= 2.5, "the beep stops when the window closes"


async def test_without_espeak_the_address_is_played_as_digit_tones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(announce, "ESPEAK", "espeak-ng-not-installed-here")
    caplog.set_level(logging.INFO, logger="portier")
    path = await announce_once(tmp_path, tmp_path / "audio")
    assert "espeak-ng-not-installed-here is not installed" in caplog.text
    rate, samples = mono(path)
    first = samples[: round(announce.DIGIT_S * rate)]  # "1" of 127.0.0.1
    assert peaks(first, rate, 2) == pytest.approx([697.0, 1209.0], rel=0.01)
    digits = 6  # 1 2 7, 0, 0, 1
    expected = digits * (announce.DIGIT_S + announce.GAP_S) + 3 * announce.DOT_S
    assert abs(samples.size / rate - expected) < 0.1


async def test_three_presses_switch_the_network_mode_setting_and_never_the_host(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="portier")
    recordings = tmp_path / "audio"
    before = host_network()
    async with running_device(tmp_path / "dut", FAST, audio_out=f"wav:{recordings}") as dut:

        def basic() -> NetworkBasic:
            return dut.device.settings.current.network.basic

        assert basic().mode == NetworkMode.DHCP
        for round_, expected in enumerate((NetworkMode.STATIC, NetworkMode.DHCP), start=1):
            mark = len(dut.events.events)
            await enter_command_mode(dut)
            for _ in range(3):
                await click(dut, 1, hold=0.08)
                await asyncio.sleep(0.08)

            def switched(event: Event) -> bool:
                return isinstance(event, SettingsChanged) and "network.basic.mode" in event.paths

            await dut.events.wait_for(switched, 10, "the Network Mode setting changing", mark)
            assert basic().mode == expected
            assert basic().ip == "192.168.1.128"
            assert_speech(await announcement(dut, recordings, round_))
        assert not [e for e in dut.events.events if isinstance(e, CallStateChanged)], "no call was made"
    assert "the Network Mode setting is now STATIC (was DHCP)" in caplog.text
    assert "the Network Mode setting is now DHCP (was STATIC)" in caplog.text
    assert "this host's network interfaces are untouched" in caplog.text
    assert host_network() == before, "the host's addresses or routes changed"


async def test_two_presses_mean_nothing_and_presses_after_the_window_dial_again(tmp_path: Path) -> None:
    values = {**FAST, "buttons.button1.value": "sip:nobody@127.0.0.1:9"}
    async with running_device(tmp_path / "dut", values) as dut:
        await enter_command_mode(dut)
        await click(dut, 1, hold=0.08)
        await click(dut, 1, hold=0.08)
        buttons = dut.device.service("buttons")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while buttons.command_mode.active:
            assert loop.time() < deadline, "command mode did not end"
            await asyncio.sleep(0.05)
        assert not [e for e in dut.events.events if isinstance(e, CallStateChanged)]
        assert dut.device.settings.current.network.basic.mode == NetworkMode.DHCP
        await click(dut, 1)
        await dut.call_state("Calling")
