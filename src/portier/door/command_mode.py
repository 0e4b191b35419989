"""Command mode (manual 5.2.1, Table 1): a long press, a beep, then presses that mean commands.

Hold a call button for Command Mode Long Press Time in standby, release after the beep, then
within Command Mode Window press the same button once (announce the IP address) or three
times (switch the network mode between static 192.168.1.128 and DHCP, then announce).
Pure state: the edge feeds presses and the time, and asks what to do when the window closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
