"""Command mode (manual 5.2.1, Table 1): a long press, a beep, then presses that mean commands.

Hold a call button for Command Mode Long Press Time in standby, release after the beep, then
within Command Mode Window press the same button once (announce the IP address) or three
times (the network mode command, ``network_switch``: Table 1's three cases, then announce).
Pure state: the edge feeds presses and the time, and asks what to do when the window closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from portier.settings.network import NetworkMode

STATIC_ADDRESS = "192.168.1.128"
"""The static address Table 1 switches to (the factory IP Address of Table 5)."""


class Command(StrEnum):
    ANNOUNCE_IP = "announce-ip"
    SWITCH_NETWORK_MODE = "switch-network-mode"


@dataclass
class CommandMode:
    window: float
    button: int | None = None
    """The button that entered command mode; None when not in command mode."""
    until: float = 0.0
    presses: int = 0

    @property
    def active(self) -> bool:
        return self.button is not None

    def enter(self, button: int, now: float) -> None:
        """The long press was recognised (the edge beeps)."""
        self.button, self.until, self.presses = button, now + self.window, 0

    def press(self, button: int, now: float) -> bool:
        """A short press; True when command mode took it (the call-button action must not run)."""
        if self.button is None or now >= self.until:
            return False
        if button == self.button:
            self.presses += 1
        return True

    def expire(self, now: float) -> Command | None:
        """The window closed: which command the presses asked for, if any; leaves command mode."""
        if self.button is None or now < self.until:
            return None
        presses, self.button, self.presses = self.presses, None, 0
        if presses == 1:
            return Command.ANNOUNCE_IP
        if presses == 3:
            return Command.SWITCH_NETWORK_MODE
        return None


def spoken_address(address: str) -> str:
    """How the address is read out: digit by digit, "dot" between the parts (as Fanvil does)."""
    return " dot ".join(" ".join(part) for part in address.split("."))


@dataclass(frozen=True)
class NetworkSwitch:
    """What three presses do: the Network Mode to set (None: keep it), the static address that goes
    with it, and the address to announce afterwards (None: "no IP address")."""

    mode: NetworkMode | None
    static_ip: str | None
    announce: str | None


def network_switch(mode: NetworkMode, address: str | None) -> NetworkSwitch:
    """Table 1's "Switch network mode", given the Network Mode setting and the device's address now.

    - STATIC -> DHCP, announcing the address the device has. The manual names the default static
      192.168.1.128; any other static address is switched to DHCP too, so that three presses always
      lead out of a static address someone typed (the way back to a working network on site).
    - DHCP (or PPPoE: an address handed out by the network, the same case) with an address: nothing is
      switched ("When DHCP gets to IP, then do not switch"); the address is announced.
    - DHCP or PPPoE and no address at present: STATIC at ``STATIC_ADDRESS``, which is announced.
    """
    if mode == NetworkMode.STATIC:
        return NetworkSwitch(NetworkMode.DHCP, None, address)
    if address is None:
        return NetworkSwitch(NetworkMode.STATIC, STATIC_ADDRESS, STATIC_ADDRESS)
    return NetworkSwitch(None, None, address)
