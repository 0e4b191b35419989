"""Command mode (manual 5.2.1, Table 1; issue 5 section 7) on a running device's virtual call button.

Hold button 1 (Desktop Long Pressed: Main Menu) for Command Mode Long Press Time, hear the beep, then
within Command Mode Window: one press announces the IP address by voice (espeak-ng; digit tones when
it is missing), three presses follow Table 1: DHCP with an address stays and announces it, STATIC
switches to DHCP, and no address at all switches to STATIC 192.168.1.128 (proven inside a network
namespace with nothing but loopback, where the device really has no address). The speaker is a WAV
directory (``--audio-out wav:DIR``): the beep and the announcement are files under ``tones/``, judged
by their spectrum and energy, and digit tones are read back digit by digit. The host's addresses and
routes are compared before and after: portier changes its settings, never this machine's network.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from portier.device import Device, RuntimeOptions
from portier.door import announce
from portier.events import ButtonChanged, CallStateChanged, Event, SettingsChanged
from portier.media.tones import dtmf_frequencies
from portier.services.network_watch import NetworkWatch
from portier.settings.document import find
from portier.settings.network import NetworkBasic, NetworkMode
from portier.settings.values import from_text

from .device import Recorder, RunningDevice, running_device
from .device_process import free_sip_port
from .netns import LoopbackNamespace
from .peers import require
from .sipp import free_port
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


async def three_presses(dut: RunningDevice) -> int:
    """Enter command mode and press button 1 three times; the event mark from before."""
    mark = len(dut.events.events)
    await enter_command_mode(dut)
    for _ in range(3):
        await click(dut, 1, hold=0.08)
        await asyncio.sleep(0.08)
    return mark


def mode_switched(event: Event) -> bool:
    return isinstance(event, SettingsChanged) and "network.basic.mode" in event.paths


async def test_three_presses_follow_table_1_and_never_touch_the_host(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The device (SIP bound to 127.0.0.1) has an address: on DHCP three presses only announce it; on
    STATIC (the default 192.168.1.128) they switch to DHCP and announce the address it has."""
    caplog.set_level(logging.INFO, logger="portier")
    recordings = tmp_path / "audio"
    before = host_network()
    async with running_device(tmp_path / "dut", FAST, audio_out=f"wav:{recordings}") as dut:

        def basic() -> NetworkBasic:
            return dut.device.settings.current.network.basic

        watch = dut.device.service("network")
        assert isinstance(watch, NetworkWatch) and watch.address == "127.0.0.1"
        assert basic().mode == NetworkMode.DHCP
        mark = await three_presses(dut)
        assert_speech(await announcement(dut, recordings, 1))
        assert not [e for e in dut.events.events[mark:] if mode_switched(e)], "DHCP with an address stays"
        assert basic().mode == NetworkMode.DHCP
        assert "the Network Mode is DHCP and the device has the address 127.0.0.1: nothing is switched" in (
            caplog.text
        )

        await dut.set({"network.basic.mode": "STATIC"})
        await dut.device.bus.drain()  # its SettingsChanged is recorded before the mark
        mark = await three_presses(dut)
        await dut.events.wait_for(mode_switched, 10, "the Network Mode setting changing", mark)
        assert basic().mode == NetworkMode.DHCP
        assert basic().ip == "192.168.1.128"
        assert_speech(await announcement(dut, recordings, 2))
        assert not [e for e in dut.events.events if isinstance(e, CallStateChanged)], "no call was made"
    assert "the Network Mode setting is now DHCP (was STATIC)" in caplog.text
    assert "this host's network interfaces are untouched" in caplog.text
    assert host_network() == before, "the host's addresses or routes changed"


DTMF = {dtmf_frequencies(key): key for key in "0123456789*#"}


def digits_heard(path: Path) -> str:
    """The address in an announcement of digit tones, read back by spectrum: each DIGIT_S of tone is
    a digit (its two strongest frequencies), each DOT_S of silence a dot."""
    rate, samples = mono(path)
    digit, gap, dot = (
        round(seconds * rate) for seconds in (announce.DIGIT_S, announce.GAP_S, announce.DOT_S)
    )
    heard, at = "", 0
    while at + digit <= samples.size:
        window = samples[at : at + digit]
        if float(np.max(window_levels(window, rate))) < -40:
            heard, at = heard + ".", at + dot
            continue
        low, high = peaks(window, rate, 2)
        key = min(DTMF, key=lambda pair: abs(pair[0] - low) + abs(pair[1] - high))
        assert abs(key[0] - low) < 10 and abs(key[1] - high) < 10, f"{low:.0f}+{high:.0f} Hz is no digit"
        heard, at = heard + DTMF[key], at + digit + gap
    return heard.rstrip(".")


async def three_presses_without_an_address(
    data: Path, recordings: Path
) -> tuple[str | None, NetworkBasic, Path]:
    """A device with SIP on every address (no bound address) where there is no network: its watcher's
    address, the network settings after three presses, and the announcement."""
    options = RuntimeOptions(
        http=("127.0.0.1", free_port("tcp")),
        sip_port=free_sip_port(),
        sip_t1=0.05,
        audio_out=f"wav:{recordings}",
    )
    device = Device(data, options)
    device.settings.update({find(k): from_text(find(k), str(v)) for k, v in FAST.items()})
    events = Recorder()
    device.bus.subscribe(Event, events)
    await device.start()
    try:
        assert options.sip_port is not None
        dut = RunningDevice(device, events, options.sip_port)
        watch = device.service("network")
        assert isinstance(watch, NetworkWatch)
        mark = await three_presses(dut)
        await events.wait_for(mode_switched, 10, "the Network Mode setting changing", mark)
        return watch.address, device.settings.current.network.basic, await announcement(dut, recordings)
    finally:
        await asyncio.wait_for(device.stop(), 15)


async def test_three_presses_without_an_address_switch_to_the_default_static_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a network namespace with only loopback the device has no address ("no IP at present"):
    three presses switch to STATIC 192.168.1.128 and announce it (as digit tones, read back here)."""
    monkeypatch.setattr(announce, "ESPEAK", "espeak-ng-not-installed-here")
    caplog.set_level(logging.INFO, logger="portier")
    recordings = tmp_path / "audio"
    before = host_network()
    with LoopbackNamespace("portier-cmd") as ns:

        def inside() -> tuple[str | None, NetworkBasic, Path]:
            work = three_presses_without_an_address(tmp_path / "dut", recordings)
            return asyncio.run(asyncio.wait_for(work, 90))

        address, basic, path = await asyncio.to_thread(ns.call_inside, inside)
    assert address is None
    assert basic.mode == NetworkMode.STATIC and basic.ip == "192.168.1.128"
    assert path.name == "announce-network-mode.wav"
    assert digits_heard(path) == "192.168.1.128"
    assert "the Network Mode setting is now STATIC (was DHCP)" in caplog.text
    assert "network: the device's address is none (netlink)" in caplog.text
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
