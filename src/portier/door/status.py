"""What the door station's outputs and inputs look like from outside (web API, virtual panel).

Plain values, copied out of the running service, so a reader never holds a live pin.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelayStatus:
    """One relay output (1-2). ``active`` is "triggered": the contact is switched away from its
    Standard Status (closed for NO, open for NC)."""

    number: int
    active: bool
    name: str


@dataclass(frozen=True)
class InputStatus:
    """One alarm input (1-2) or the tamper switch (0).

    ``level`` is the pin's electrical level (True = high); ``triggered`` is whether that level is
    the configured trigger level and the input is watched ("Input Detect", "Enable Tamper")."""

    number: int
    triggered: bool
    level: bool
