"""Auto handdown (Table 17: "Enable Auto Handdown", "Auto Handdown Time"): when the device is back idle.

A door station is always in hands-free mode. When the far end ends a call (its BYE, or a dialled call
that was refused or never answered), the call is over at once (``Ended``), but the device stays "off
hook" (on a phone: the busy tone, the call screen) until it hangs up by itself "Auto Handdown Time"
seconds later, or, with auto handdown off, until someone hangs up (``CallManager.hangup()`` with no
call up: the End button). A call the device ends itself (hang-up, reject, no answer, a caller's
CANCEL) leaves it idle at once. ``HandsFreeChanged`` reports both edges, which is what Action URL's
"Idle To Busy"/"Busy To Idle", the LEDs and the busy tone need.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from portier.events import Event
from portier.settings.intercom_features import FeatureBasic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandsFreeChanged(Event):
    """The device left idle (``active``: a call rings, is dialled, talks, or the far end just hung up
    and auto handdown has not hung up yet) or is back idle. (Belongs in ``events.py``.)"""

    active: bool
    reason: str


class HandsFree:
    def __init__(self, publish: Callable[[Event], None], basic: Callable[[], FeatureBasic]) -> None:
        self._publish = publish
        self._basic = basic
        self.active = False
        self._timer: asyncio.TimerHandle | None = None

    def call_started(self) -> None:
        self._cancel_timer()
        if not self.active:
            self.active = True
            self._publish(HandsFreeChanged(True, "call"))

    def call_ended(self, *, far_end: bool, calls_left: bool, reason: str) -> None:
        """A call ended; ``far_end`` when the other side ended it after the device went off hook."""
        if calls_left or not self.active:
            return
        if not far_end:
            self._idle(reason)
            return
        basic = self._basic()
        if basic.auto_handdown:
            delay = float(basic.auto_handdown_time)
            self._timer = asyncio.get_running_loop().call_later(delay, self._idle, "auto handdown")
        else:
            log.info("the far end hung up; the device stays off hook until hung up (auto handdown is off)")

    def hang_up(self) -> bool:
        """The End button with no call up: back to idle if the device was still off hook."""
        if not self.active:
            return False
        self._idle("local hangup")
        return True

    def close(self) -> None:
        self._cancel_timer()

    def _idle(self, reason: str) -> None:
        self._cancel_timer()
        if self.active:
            self.active = False
            self._publish(HandsFreeChanged(False, reason))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
