"""Command mode on the running device (manual 5.2.1, Table 1): the beep, the window, the commands.

``command_mode.py`` counts presses; this is its edge on the device's loop. A long press in standby
enters it: the speaker beeps for the Command Mode Window, the presses inside the window are taken from
the call buttons, and when the window closes one press announces the IP address and three presses
switch the Network Mode setting (STATIC 192.168.1.128 <-> DHCP), then announce the address.

Switching the network mode changes portier's settings only. Applying network settings to the
operating system is a separate, explicit job that portier does not do on a development machine or in
tests; the log says so each time, so nobody expects the host's address to move.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from portier.door.announce import device_address, digit_tones, speech
from portier.door.command_mode import Command, CommandMode, spoken_address
from portier.phone.tone_player import TONE_RATE, Playback, TonePlayer
from portier.settings import document
from portier.settings.network import NetworkMode

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

STATIC_ADDRESS = "192.168.1.128"
"""The static address Table 1 switches to (the factory IP Address of Table 5)."""
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
        address = device_address(self._device.options.sip_host)
        log.info("command mode: announcing the IP address %s", address)
        await self.say("announce-ip", spoken_address(address), address)

    async def switch_network_mode(self) -> None:
        """STATIC -> DHCP; DHCP (or PPPoE) -> STATIC at ``STATIC_ADDRESS``; then the address is announced."""
        basic = self._device.settings.current.network.basic
        mode, ip = document.find("network.basic.mode"), document.find("network.basic.ip")
        if basic.mode == NetworkMode.STATIC:
            await self._device.apply_settings({mode: NetworkMode.DHCP})
            address, words = device_address(self._device.options.sip_host), "D H C P"
        else:
            await self._device.apply_settings({mode: NetworkMode.STATIC, ip: STATIC_ADDRESS})
            address, words = STATIC_ADDRESS, "static"
        new = self._device.settings.current.network.basic.mode
        log.info("command mode: the Network Mode setting is now %s (was %s); portier changed only its own "
                 "settings, this host's network interfaces are untouched", new.name, basic.mode.name)
        await self.say("announce-network-mode", f"{words}, {spoken_address(address)}", address)

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
