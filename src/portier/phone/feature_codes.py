"""Switching a line's call features on and off, by itself or by "Use Feature Code" (manual 9.12).

With "Use Feature Code" off the device handles DND, call forward, anonymous-call blocking, call
waiting and Send Anonymous itself: switching one changes its setting. With it on the server does
("the features in this section will not be handled by the device itself"): switching one dials
the line's code for it (``*78``...; a forward code is followed by the target number when one is
given), a short call that the device hangs up once the server has answered and had a moment to
confirm, or after a few seconds when it does not answer. Policy then ignores the line's own
settings for these features (``policy.server_handles``).

Every change publishes :class:`DndChanged` / :class:`ForwardChanged`: for a setting, when it is
saved whoever saved it (``toggle_events``, called by the SIP service); for a code, once the server
answered the call. The web UI and the call buttons use :meth:`FeatureCodes.set`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from portier.events import DndChanged, Event, ForwardChanged
from portier.phone.policy import line_settings
from portier.settings.document import find
from portier.settings.schema import Settings

if TYPE_CHECKING:
    from portier.device import Device
    from portier.phone.call import Call

log = logging.getLogger(__name__)


class Feature(StrEnum):
    """The features of the line's Advanced Settings that have codes (names of their settings)."""

    DND = "dnd"
    FORWARD_UNCONDITIONAL = "forward_unconditional"
    FORWARD_BUSY = "forward_busy"
    FORWARD_NO_ANSWER = "forward_no_answer"
    BLOCK_ANONYMOUS = "block_anonymous"
    CALL_WAITING = "call_waiting"
    SEND_ANONYMOUS = "send_anonymous"


_CODES = {
    Feature.DND: ("dnd_on_code", "dnd_off_code"),
    Feature.FORWARD_UNCONDITIONAL: ("cfu_on_code", "cfu_off_code"),
    Feature.FORWARD_BUSY: ("cfb_on_code", "cfb_off_code"),
    Feature.FORWARD_NO_ANSWER: ("cfn_on_code", "cfn_off_code"),
    Feature.BLOCK_ANONYMOUS: ("anc_on_code", "anc_off_code"),
    Feature.CALL_WAITING: ("cw_on_code", "cw_off_code"),
    Feature.SEND_ANONYMOUS: ("send_anonymous_on_code", "send_anonymous_off_code"),
}
FORWARD_KINDS = {
    Feature.FORWARD_UNCONDITIONAL: "unconditional",
    Feature.FORWARD_BUSY: "busy",
    Feature.FORWARD_NO_ANSWER: "no-answer",
}
CALL_WAITING_PATH = "intercom.features.basic.call_waiting"
"""Call waiting is a device setting (Features page); its codes are per line."""


# --- pure: what switching a feature means ------------------------------------------------------------


@dataclass(frozen=True)
class DialCode:
    line: int
    number: str
    """The feature code (and, for a forward switched on, the target after it)."""


@dataclass(frozen=True)
class ChangeSettings:
    values: dict[str, Any]
    """Dotted setting path -> new value."""


@dataclass(frozen=True)
class NotPossible:
    why: str


Plan = DialCode | ChangeSettings | NotPossible


def plan(settings: Settings, line: int, feature: Feature, on: bool, number: str | None = None) -> Plan:
    """What switching ``feature`` ``on`` (or off) on ``line`` does, per "Use Feature Code"."""
    sip = line_settings(settings, line) if line in (1, 2) else None
    if sip is None:
        return NotPossible(f"call features belong to a SIP line (1 or 2), not line {line}")
    target = (number or "").strip()
    if sip.use_feature_code:
        name = _CODES[feature][0 if on else 1]
        code = str(getattr(sip, name)).strip()
        if not code:
            state = "on" if on else "off"
            return NotPossible(
                f"'Use Feature Code' is on for SIP{line} but its code to switch {feature} {state} "
                f"(SIP{line} {name}) is empty"
            )
        return DialCode(line, code + target if on and feature in FORWARD_KINDS else code)
    if feature is Feature.CALL_WAITING:
        return ChangeSettings({CALL_WAITING_PATH: on})
    values: dict[str, Any] = {f"lines.sip{line}.{feature.value}": on}
    if feature in FORWARD_KINDS and on:
        target = target or str(getattr(sip, f"{feature.value}_number")).strip()
        if not target:
            return NotPossible(f"call forward ({FORWARD_KINDS[feature]}) on SIP{line} needs a number")
        values[f"lines.sip{line}.{feature.value}_number"] = target
    return ChangeSettings(values)


def toggle_events(paths: Iterable[str], settings: Settings) -> list[Event]:
    """The DND/forward events for saved settings (dotted ``paths``) of lines that handle them."""
    found: list[Event] = []
    for path in paths:
        parts = path.split(".")
        if len(parts) != 3 or parts[0] != "lines" or parts[1] not in ("sip1", "sip2"):
            continue
        line = int(parts[1].removeprefix("sip"))
        sip = line_settings(settings, line)
        if sip is None or sip.use_feature_code:
            continue  # the server has these features; the local settings do nothing
        name = parts[2]
        if name == Feature.DND.value:
            found.append(DndChanged(line, sip.dnd))
        elif name in {f.value for f in FORWARD_KINDS}:
            feature = Feature(name)
            on, target = bool(getattr(sip, name)), str(getattr(sip, f"{name}_number"))
            found.append(ForwardChanged(line, FORWARD_KINDS[feature], on, target))
    return found


def code_event(line: int, feature: Feature, on: bool, number: str = "") -> Event | None:
    """The event for a feature code the server accepted (None for features without an event)."""
    if feature is Feature.DND:
        return DndChanged(line, on, via="code")
    if feature in FORWARD_KINDS:
        return ForwardChanged(line, FORWARD_KINDS[feature], on, number, via="code")
    return None


# --- the edge: do it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What :meth:`FeatureCodes.set` did: ``via`` "setting" or "code"; ``done`` False says why not."""

    line: int
    feature: Feature
    on: bool
    via: str
    done: bool
    detail: str = ""


class FeatureCodes:
    """Switch call features on a running device (see the module docstring)."""

    ANSWER_WAIT = 8.0
    """Seconds a feature-code call may ring before the device gives up on it."""
    CONFIRM_WAIT = 2.0
    """Seconds an answered feature-code call stays up for the server's confirmation."""

    def __init__(self, device: Device) -> None:
        self._device = device

    async def set(self, line: int, feature: Feature, on: bool, number: str | None = None) -> Outcome:
        decided = plan(self._device.settings.current, line, feature, on, number)
        if isinstance(decided, NotPossible):
            log.warning("feature %s on SIP%d: %s", feature, line, decided.why)
            return Outcome(line, feature, on, "none", False, decided.why)
        if isinstance(decided, ChangeSettings):
            await self._device.apply_settings({find(path): value for path, value in decided.values.items()})
            return Outcome(line, feature, on, "setting", True)
        return await self._dial(decided, feature, on, (number or "").strip())

    async def _dial(self, code: DialCode, feature: Feature, on: bool, number: str) -> Outcome:
        try:
            calls = self._device.service("sip").calls
        except LookupError:
            calls = None
        if calls is None:
            return Outcome(code.line, feature, on, "code", False, "the SIP service is not running")
        try:
            call: Call = await calls.dial(code.number, line=code.line)
        except ValueError as exc:
            log.warning("feature code %s on SIP%d not dialled: %s", code.number, code.line, exc)
            return Outcome(code.line, feature, on, "code", False, str(exc))
        answered = await _answered_within(call, self.ANSWER_WAIT)
        if answered:
            await _ended_within(call, self.CONFIRM_WAIT)
        if not call.ended.is_set():
            await calls.hangup(call.call_id)
        detail = "answered" if answered else call.reason or "not answered"
        log.info("feature code %s on SIP%d (%s %s): %s", code.number, code.line, feature, on, detail)
        if answered and (event := code_event(code.line, feature, on, number)) is not None:
            self._device.bus.publish(event)
        return Outcome(code.line, feature, on, "code", answered, detail)


async def _answered_within(call: Call, seconds: float) -> bool:
    """True once the call talks; False when it ends or ``seconds`` pass first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while call.state.value not in ("Talking", "Held"):
        remaining = deadline - loop.time()
        if call.ended.is_set() or remaining <= 0:
            return False
        await _ended_within(call, min(remaining, 0.05))
    return True


async def _ended_within(call: Call, seconds: float) -> None:
    try:
        await asyncio.wait_for(call.ended.wait(), seconds)
    except TimeoutError:
        return
