"""Hotline ("Enable Hotline", "Hotline Delay", "Hotline Number"; manual 9.12, Table 15).

The manual: the device dials the hotline number "at audio channel opened by off-hook handset or
turn on hands-free speaker or headphone", after the delay. A door station has no handset and no
speaker key, and its hands-free state (``handdown.HandsFree``) only ever opens because a call
starts, so "off hook without dialling" is not something the device can notice by itself. It
happens when someone opens the audio channel on purpose: a call button whose function has no
number to call, or the web dialer's off-hook. Those call :meth:`Hotline.off_hook`; after the
delay the number is dialled on the line whose hotline it is, unless the device went back on hook,
a call came or was placed meanwhile (the person dialled something else). A delay of 0 dials at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portier.phone.policy import line_settings
from portier.settings.schema import Settings

if TYPE_CHECKING:
    from portier.phone.calls import CallManager

log = logging.getLogger(__name__)

LINES = (1, 2)


@dataclass(frozen=True)
class HotlineTarget:
    line: int
    number: str
    delay: float


def hotline_for(settings: Settings, line: int | None = None) -> HotlineTarget | None:
    """The hotline to dial when the device goes off hook on ``line`` (None: the first active line
    that has one); None when no such line has "Enable Hotline" with a number."""
    for number in (line,) if line is not None else LINES:
        sip = line_settings(settings, number) if number in LINES else None
        if sip is not None and sip.activate and sip.hotline and sip.hotline_number.strip():
            return HotlineTarget(number, sip.hotline_number.strip(), float(sip.hotline_delay))
    return None


class Hotline:
    """Off hook -> the hotline number after the delay (see the module docstring)."""

    def __init__(self, settings: Callable[[], Settings], calls: Callable[[], CallManager | None]) -> None:
        self._settings = settings
        self._calls = calls
        self._pending: asyncio.Task[None] | None = None

    @property
    def pending(self) -> bool:
        """Off hook and waiting for the delay to pass."""
        return self._pending is not None and not self._pending.done()

    def off_hook(self, line: int | None = None) -> HotlineTarget | None:
        """The audio channel opened without a number; the target that will be dialled, or None."""
        target = hotline_for(self._settings(), line)
        if target is None:
            return None
        self.on_hook()
        log.info("hotline: off hook; %s on SIP%d in %.0f s", target.number, target.line, target.delay)
        self._pending = asyncio.get_running_loop().create_task(self._dial_after(target), name="hotline")
        return target

    def on_hook(self) -> bool:
        """Back on hook (or a number is being dialled): no hotline call. True if one was pending."""
        if not self.pending:
            return False
        assert self._pending is not None
        self._pending.cancel()
        self._pending = None
        return True

    async def close(self) -> None:
        task, self._pending = self._pending, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _dial_after(self, target: HotlineTarget) -> None:
        await asyncio.sleep(target.delay)
        calls = self._calls()
        if calls is None:
            log.warning("hotline: the SIP service is not running; %s not dialled", target.number)
            return
        if calls.calls:  # a call came in or was placed meanwhile
            log.info("hotline: a call is up; %s not dialled", target.number)
            return
        try:
            await calls.dial(target.number, line=target.line)
        except ValueError as exc:
            log.warning("hotline: cannot dial %s on SIP%d: %s", target.number, target.line, exc)
