"""Command mode on the running device (manual 5.2.1, Table 1): the beep, the window, the commands.

``command_mode.py`` counts presses; this is its edge on the device's loop. A long press in standby
enters it: the speaker beeps for the Command Mode Window, the presses inside the window are taken from
the call buttons, and when the window closes one press announces the IP address and three presses
run Table 1's network mode command (``command_mode.network_switch``: DHCP with an address stays and
announces it; no address switches to STATIC 192.168.1.128; STATIC switches to DHCP), then announce.
"The address" is the network watcher's (service "network"); None means the device has none.

Switching the network mode changes portier's settings only. Applying network settings to the
operating system is a separate, explicit job that portier does not do on a development machine or in
tests; the log says so each time, so nobody expects the host's address to move.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from portier.door.announce import digit_tones, speech
from portier.door.command_mode import Command, CommandMode, network_switch, spoken_address
from portier.phone.tone_player import TONE_RATE, Playback, TonePlayer
from portier.services.network_watch import current_address
from portier.settings import document
from portier.settings.declare import Leaf
from portier.settings.network import NetworkMode

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

NO_ADDRESS = "0.0.0.0"
"""What the digit tones play when the device has no address (what a phone shows then)."""
BEEP = "1000/200,0/800"
"""A short 1 kHz toot every second while command mode waits for presses."""

Spawn = Callable[[Coroutine[Any, Any, None]], object]


class CommandModeRunner:
    def __init__(self, device: Device, spawn: Spawn) -> None:
        self._device = device
        self._spawn = spawn
        self._mode = CommandMode(window=5.0)
        self._timer: asyncio.TimerHandle | None = None
        self._beep: Playback | None = None
        self._taken: set[int] = set()
        """Buttons whose press command mode took: their release is taken too."""

    @property
    def active(self) -> bool:
        return self._mode.active

    def enter(self, button: int) -> None:
        """Button ``button`` was held in standby and its Desktop Long Pressed is Main Menu."""
        if self._mode.active:
            return
        loop = asyncio.get_running_loop()
        window = float(self._device.settings.current.buttons.advanced.command_window)
        self._mode.window = window
        self._mode.enter(button, loop.time())
        log.info("command mode: button %d held; within %.0f s press it once to hear the IP address, "
                 "three times to switch the network mode", button, window)
        tones = self._tones()
        self._beep = tones.play_cadence("command-beep", BEEP, window) if tones is not None else None
        self._timer = loop.call_at(self._mode.until, self._expire)

    def take(self, button: int, pressed: bool) -> bool:
        """A short press or release; True when command mode took it (no call-button action runs)."""
        if pressed:
            if self._mode.press(button, asyncio.get_running_loop().time()):
                self._taken.add(button)
                return True
            return False
        if button in self._taken:
            self._taken.discard(button)
            return True
        return False

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._stop_beep()
        self._mode.button = None
        self._taken.clear()

    def _stop_beep(self) -> None:
        if self._beep is not None:
            self._beep.stop()
            self._beep = None

    def _expire(self) -> None:
        self._timer = None
        self._stop_beep()
        presses = self._mode.presses
        command = self._mode.expire(max(asyncio.get_running_loop().time(), self._mode.until))
        if command is Command.ANNOUNCE_IP:
            self._spawn(self.announce_ip())
        elif command is Command.SWITCH_NETWORK_MODE:
            self._spawn(self.switch_network_mode())
        else:
            log.info("command mode: %d press(es) mean nothing (one announces the IP address, three switch "
                     "the network mode); back to standby", presses)

    # --- the commands -------------------------------------------------------------------------------

    async def announce_ip(self) -> None:
        address = current_address(self._device)
        log.info("command mode: announcing the IP address %s", address or "(none: the device has no address)")
        await self.announce("announce-ip", "", address)

    async def switch_network_mode(self) -> None:
        """Table 1 (``network_switch``) on the Network Mode setting; then the address is announced."""
        basic = self._device.settings.current.network.basic
        decision = network_switch(basic.mode, current_address(self._device))
        if decision.mode is None:
            log.info("command mode: the Network Mode is %s and the device has the address %s: nothing is "
                     "switched (Table 1), the address is announced", basic.mode.name, decision.announce)
            await self.announce("announce-network-mode", "", decision.announce)
            return
        values: dict[Leaf, object] = {document.find("network.basic.mode"): decision.mode}
        if decision.static_ip is not None:
            values[document.find("network.basic.ip")] = decision.static_ip
        await self._device.apply_settings(values)
        was, now = basic.mode.name, decision.mode.name
        log.info("command mode: the Network Mode setting is now %s (was %s); portier changed only its own "
                 "settings, this host's network interfaces are untouched", now, was)
        words = "static" if decision.mode == NetworkMode.STATIC else "D H C P"
        await self.announce("announce-network-mode", words, decision.announce)

    async def announce(self, name: str, words: str, address: str | None) -> None:
        """Say ``words`` then ``address`` digit by digit ("no I P address" when there is none)."""
        spoken = spoken_address(address) if address is not None else "no I P address"
        await self.say(name, f"{words}, {spoken}" if words else spoken, address or NO_ADDRESS)

    async def say(self, name: str, text: str, address: str) -> None:
        """Speak ``text`` on the speaker (digit tones of ``address`` when there is no speech); with a WAV
        directory as the speaker the file is ``tones/<name>.wav``."""
        tones = self._tones()
        if tones is None or tones.output.kind == "null":
            log.info("command mode: no audio output, the announcement %r is not played", text)
            return
        samples = await speech(text, TONE_RATE)
        if samples is None:
            samples = digit_tones(address, TONE_RATE)
        tones.play_samples(name, samples)

    def _tones(self) -> TonePlayer | None:
        try:
            tones = self._device.service("tones")
        except LookupError:
            return None
        return tones if isinstance(tones, TonePlayer) else None
