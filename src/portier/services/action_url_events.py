"""Which Action URLs (manual 9.19, Table 20) an event asks for: the sans-IO half of the service.

Bus events speak of one call or one line; the Action URL settings speak of the device ("busy to
idle", "missed call", "call established" once and not again after a resume). ``ActionMapper``
keeps just enough memory to tell: the calls in progress, whether each has talked or is held, and
each line's last registration status. Its answers name fields of ``settings.intercom_events.
ActionUrl`` ("setting" below), so the service only looks the URL up.

    DeviceStarted                              boot_completed ("Setup Completed")
    DeviceStopping reboot / factory reset      start_reboot / reset
    LineStatusChanged to Registered            reg_on
                      to Failed or Timeout     reg_failed (once, not per retry)
                      Registered -> Unapplied  reg_off ("Registration Disabled")
    CallStateChanged  a new incoming call      incoming_call (and ringing while it rings)
                      a new outgoing call      outgoing_call
                      first Talking            call_active ("Call Established"), talking
                      Held / Talking again     hold_on / hold_off
                      Ended                    call_stop; missed_call if incoming and never talking
    the first call begins (idle -> busy)       offhook
    the last call ends (busy -> idle)          onhook, idle
    RelayChanged active / reset                output_triggered / output_reset (door opened/closed)
    InputChanged triggered: input 1-2 / 0      input_triggered / tamper_alarm
    ButtonChanged pressed                      button_pressed
    DtmfReceived                               dtmf_received (with its call)
    MessageReceived                            sip_message
    AddressChanged to an address               ip_change ("IP Changed"; losing the address is not)
    CallTransferred succeeded                  transfer (with its call; any role: the device
                                               transferred, was transferred, or was the target)
    lines.sipN.dnd / forward_* switched        dnd_on/off, always/busy/no_answer_fwd_on/off
    DndChanged / ForwardChanged via "code"     the same, when "Use Feature Code" switched it on the
                                               server (the settings did not change; a change of
                                               the settings is reported from the settings alone)

Not reported yet, for want of an event: mute_on/mute_off. It becomes one entry in ``EVENT_RULES``
once its event exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portier.events import (
    AddressChanged,
    ButtonChanged,
    CallStateChanged,
    CallTransferred,
    DeviceStarted,
    DeviceStopping,
    DndChanged,
    DtmfReceived,
    Event,
    ForwardChanged,
    InputChanged,
    LineStatusChanged,
    MessageReceived,
    RelayChanged,
)


@dataclass(frozen=True)
class CallContext:
    """The call an Action URL reports on (what ``$call_id``, ``$remote`` and friends come from)."""

    call_id: str
    line: int
    direction: str
    remote: str
    remote_display: str = ""
    """The far end's display name, when it gave one (From of an incoming call)."""


@dataclass(frozen=True)
class Trigger:
    """Request the URL of ``setting`` (a field of ``ActionUrl``) about ``line`` and ``call``.

    ``line`` None means the device's default line (the first active one); 0 is a direct IP call,
    which uses no account.
    """

    setting: str
    line: int | None = None
    call: CallContext | None = None


def _relay(event: RelayChanged) -> tuple[Trigger, ...]:
    return (Trigger("output_triggered" if event.active else "output_reset"),)


def _input(event: InputChanged) -> tuple[Trigger, ...]:
    if not event.triggered:
        return ()
    return (Trigger("tamper_alarm" if event.input == 0 else "input_triggered"),)


_STOPPING = {"reboot": "start_reboot", "factory reset": "reset"}

FORWARD_TOGGLES: dict[str, str] = {"unconditional": "forward_unconditional", "busy": "forward_busy",
                                   "no-answer": "forward_no_answer"}  # fmt: skip
"""``ForwardChanged.kind`` -> its line setting in ``TOGGLES``."""

EVENT_RULES: dict[type[Event], Callable[[Any], tuple[Trigger, ...]]] = {
    DeviceStarted: lambda event: (Trigger("boot_completed"),),
    DeviceStopping: lambda event: (Trigger(_STOPPING[event.reason]),) if event.reason in _STOPPING else (),
    RelayChanged: _relay,
    InputChanged: _input,
    ButtonChanged: lambda event: (Trigger("button_pressed"),) if event.pressed else (),
    MessageReceived: lambda event: (Trigger("sip_message", event.line),),
    AddressChanged: lambda event: (Trigger("ip_change"),) if event.new is not None else (),
    DndChanged: lambda event: (toggle_trigger(event.line, "dnd", event.on),) if event.via == "code" else (),
    ForwardChanged: lambda event: (
        (toggle_trigger(event.line, FORWARD_TOGGLES[event.kind], event.on),) if event.via == "code" else ()
    ),
}
"""Events whose Action URL depends on the event alone: one entry per event type."""

TOGGLES: dict[str, tuple[str, str]] = {
    "dnd": ("dnd_on", "dnd_off"),
    "forward_unconditional": ("always_fwd_on", "always_fwd_off"),
    "forward_busy": ("busy_fwd_on", "busy_fwd_off"),
    "forward_no_answer": ("no_answer_fwd_on", "no_answer_fwd_off"),
}
"""Line settings (``lines.sipN.<name>``) whose switching on or off has an Action URL."""


def toggle_trigger(line: int, name: str, on: bool) -> Trigger:
    """The Action URL for line setting ``name`` (a key of ``TOGGLES``) switched ``on`` or off."""
    when_on, when_off = TOGGLES[name]
    return Trigger(when_on if on else when_off, line)


_FAILED = ("Failed", "Timeout")


@dataclass
class _Call:
    context: CallContext
    talked: bool = False
    held: bool = False


class ActionMapper:
    """Events in, ``Trigger``s out, in the order the URLs should be requested."""

    ENDED_KEPT = 8
    """Ended calls whose context is remembered: a transfer is reported after its call has ended."""

    def __init__(self) -> None:
        self._calls: dict[str, _Call] = {}
        self._ended: dict[str, CallContext] = {}
        self._lines: dict[int, str] = {}

    def triggers(self, event: Event) -> list[Trigger]:
        if isinstance(event, CallStateChanged):
            return self._call(event)
        if isinstance(event, LineStatusChanged):
            return self._line(event)
        if isinstance(event, DtmfReceived):
            call = self._calls.get(event.call_id)
            if call is None:
                return [Trigger("dtmf_received")]
            return [Trigger("dtmf_received", call.context.line, call.context)]
        if isinstance(event, CallTransferred):
            return self._transfer(event)
        rule = EVENT_RULES.get(type(event))
        return list(rule(event)) if rule is not None else []

    def _transfer(self, event: CallTransferred) -> list[Trigger]:
        """A successful transfer, about the call that was transferred (or replaced)."""
        if event.result != "succeeded":
            return []
        known = self._calls.get(event.call_id)
        context = known.context if known is not None else self._ended.get(event.call_id)
        if context is None:
            return [Trigger("transfer", None, CallContext(event.call_id, 0, "", ""))]
        return [Trigger("transfer", context.line, context)]

    def _line(self, event: LineStatusChanged) -> list[Trigger]:
        """Settled statuses only: "Trying" between two failures (a retry) or two registrations is
        no news, so a line failing every retry interval reports one failure, not one per retry."""
        previous = self._lines.get(event.line, "Unapplied")
        if event.status == "Trying" or event.status == previous:
            return []
        self._lines[event.line] = event.status
        if event.status == "Registered":
            return [Trigger("reg_on", event.line)]
        if event.status in _FAILED and previous not in _FAILED:
            return [Trigger("reg_failed", event.line)]
        if event.status == "Unapplied" and previous == "Registered":
            return [Trigger("reg_off", event.line)]
        return []

    def _call(self, event: CallStateChanged) -> list[Trigger]:
        context = CallContext(event.call_id, event.line, event.direction, event.remote, event.remote_display)
        out: list[str] = []
        call = self._calls.get(event.call_id)
        if event.state == "Ended":
            self._calls.pop(event.call_id, None)
            self._ended[event.call_id] = context
            while len(self._ended) > self.ENDED_KEPT:
                del self._ended[next(iter(self._ended))]
            out.append("call_stop")
            if call is not None:
                if event.direction == "incoming" and not call.talked:
                    out.append("missed_call")
                if not self._calls:
                    out += ["onhook", "idle"]
            return [Trigger(name, event.line, context) for name in out]
        if call is None:
            if not self._calls:
                out.append("offhook")
            call = self._calls[event.call_id] = _Call(context)
            out.append("incoming_call" if event.direction == "incoming" else "outgoing_call")
        if event.state == "Ringing":
            out.append("ringing")
        elif event.state == "Talking":
            if not call.talked:
                call.talked = True
                out += ["call_active", "talking"]
            elif call.held:
                call.held = False
                out.append("hold_off")
        elif event.state == "Held" and not call.held:
            call.held = True
            out.append("hold_on")
        return [Trigger(name, event.line, context) for name in out]
