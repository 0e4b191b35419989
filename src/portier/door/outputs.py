"""The relay outputs (manual 9.31, Table 27): what triggers and resets each one, and when.

Sans-IO: events go in with the time (``now``), switches come out as :class:`RelaySwitched`, and
the next reset time is :meth:`Outputs.next_deadline` for the edge to schedule. No pins, no clock.

Rules, from Table 27 where it says them and chosen where it does not:

- A trigger (DTMF code, SMS or URI text, input, call state, call button, ``switch("trigger")``)
  holds the relay for Output Duration, or, with Reset By STATE while a call is up, until that
  call's state changes. Triggered outside any call, Reset By STATE falls back to the duration:
  a door must not stay open until some later call happens. An input always uses the duration
  (the manual: "By <Output Duration> control"). A trigger while active restarts the hold.
- "A call's state changes" means it moves between the families talking (Talking, Held),
  ringing (Ringing) and calling (Calling, Alerting), or ends; hold and resume are still talking.
- DTMF codes match on the digits of one call, the newest digits last, whatever came before
  ("991234" opens); a match clears that call's digits. Reset codes reset at once.
- Output Response off ignores every trigger of that output; resets still work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from portier.settings.door import AlarmOutput, CallStateTrigger, DoorSettings, ResetMode, StandardStatus

ACTIONS = ("on", "off", "trigger")
MAX_CODE = 16
FAMILIES = {"Talking": "talking", "Held": "talking", "Ringing": "ringing", "Calling": "calling",
            "Alerting": "calling"}  # fmt: skip
_CALL_TRIGGERS = {CallStateTrigger.TALKING: "talking", CallStateTrigger.RINGING: "ringing",
                  CallStateTrigger.CALLING: "calling"}  # fmt: skip


@dataclass(frozen=True)
class OutputConfig:
    """One output's settings as plain values (``call_state`` is a family name or empty)."""

    number: int
    response: bool = True
    normally_closed: bool = False
    duration: float = 5.0
    reset_by_state: bool = False
    dtmf: bool = False
    dtmf_trigger: str = "1234"
    dtmf_reset: str = "4321"
    sms: bool = False
    sms_trigger: str = ""
    sms_reset: str = ""
    uri: bool = False
    uri_trigger: str = ""
    uri_reset: str = ""
    input: int = 0
    call_state: str = ""
    button: int = 0


def output_config(number: int, output: AlarmOutput) -> OutputConfig:
    return OutputConfig(
        number=number,
        response=output.response,
        normally_closed=output.standard_status == StandardStatus.NC,
        duration=float(output.duration),
        reset_by_state=output.reset_by == ResetMode.STATE,
        dtmf=output.trigger_by_dtmf,
        dtmf_trigger=output.dtmf_trigger_code,
        dtmf_reset=output.dtmf_reset_code,
        sms=output.trigger_by_sms,
        sms_trigger=output.trigger_sms.strip(),
        sms_reset=output.reset_sms.strip(),
        uri=output.trigger_by_uri,
        uri_trigger=output.uri_trigger_message.strip(),
        uri_reset=output.uri_reset_message.strip(),
        input=int(output.trigger_by_input),
        call_state=_CALL_TRIGGERS.get(output.trigger_by_call_state, ""),
        button=int(output.trigger_by_dsskey),
    )


def output_configs(door: DoorSettings) -> list[OutputConfig]:
    return [output_config(1, door.output1), output_config(2, door.output2)]


@dataclass(frozen=True)
class RelaySwitched:
    """Relay ``relay`` became ``active`` (triggered) or not, because of ``cause``."""

    relay: int
    active: bool
    cause: str


@dataclass
class _Relay:
    config: OutputConfig
    active: bool = False
    until: float | None = None
    """Reset by duration at this time."""
    held_by: tuple[str, str] | None = None
    """(call id, family): reset when that call leaves the family (Reset By STATE)."""


class Outputs:
    """Both relays, the calls they watch and the DTMF digits of each call."""

    def __init__(self, configs: Iterable[OutputConfig]) -> None:
        self._relays = {c.number: _Relay(c) for c in configs}
        self._calls: dict[str, str] = {}
        """call id -> family of each call that has not ended, most recently changed last."""
        self._digits: dict[str, str] = {}

    # --- reading ---------------------------------------------------------------------------------

    @property
    def numbers(self) -> list[int]:
        return sorted(self._relays)

    def active(self, relay: int) -> bool:
        return self._relay(relay).active

    def energised(self, relay: int) -> bool:
        """The coil level: the trigger switches the contact away from its Standard Status."""
        state = self._relay(relay)
        return state.active != state.config.normally_closed

    def any_active(self) -> bool:
        return any(r.active for r in self._relays.values())

    def next_deadline(self) -> float | None:
        times = [r.until for r in self._relays.values() if r.active and r.until is not None]
        return min(times, default=None)

    # --- settings -------------------------------------------------------------------------------

    def configure(self, configs: Iterable[OutputConfig]) -> None:
        """New settings: states and running holds stay (a changed duration applies to the next one)."""
        for config in configs:
            relay = self._relays.get(config.number)
            self._relays[config.number] = replace(relay, config=config) if relay else _Relay(config)

    # --- inputs ------------------------------------------------------------------------------------

    def handle_timer(self, now: float) -> list[RelaySwitched]:
        due = [r for r in self._relays.values() if r.active and r.until is not None and r.until <= now]
        return [s for r in due for s in self._reset(r, "duration")]

    def switch(self, relay: int, action: str, cause: str, now: float) -> list[RelaySwitched]:
        """A direct command (HTTP URI, virtual panel): ``on`` holds until ``off``; ``trigger`` holds
        as any trigger does (Output Duration by default)."""
        state = self._relay(relay)
        if action not in ACTIONS:
            raise ValueError(f"relay action {action!r} is not one of {', '.join(ACTIONS)}")
        if action == "off":
            return self._reset(state, cause)
        if action == "on":
            return self._trigger(state, cause, now, hold_forever=True)
        return self._trigger(state, cause, now, call=self._current_call())

    def on_dtmf(self, call_id: str, digit: str, now: float) -> list[RelaySwitched]:
        digits = (self._digits.get(call_id, "") + digit.upper())[-MAX_CODE:]
        self._digits[call_id] = digits
        call = self._call(call_id)
        switched: list[RelaySwitched] = []
        matched = False
        for relay in self._relays.values():
            config = relay.config
            if not config.dtmf:
                continue
            if config.dtmf_trigger and digits.endswith(config.dtmf_trigger.upper()):
                switched += self._trigger(relay, "dtmf", now, call=call)
                matched = True
            elif config.dtmf_reset and digits.endswith(config.dtmf_reset.upper()):
                switched += self._reset(relay, "dtmf")
                matched = True
        if matched:
            self._digits[call_id] = ""
        return switched

    def on_message(self, text: str, now: float) -> list[RelaySwitched]:
        """A SIP MESSAGE ("SMS") arrived: Trigger SMS / Reset SMS texts match exactly (trimmed)."""
        return self._text(text.strip(), now, "sms")

    def on_uri(self, text: str, now: float) -> list[RelaySwitched]:
        """A URI command's message: Trigger Message / Reset Message match exactly (trimmed)."""
        return self._text(text.strip(), now, "http")

    def on_input(self, number: int, now: float) -> list[RelaySwitched]:
        """Input ``number`` triggered: its outputs switch for Output Duration."""
        relays = [r for r in self._relays.values() if r.config.input == number]
        return [s for r in relays for s in self._trigger(r, "input", now)]

    def on_button(self, number: int, now: float) -> list[RelaySwitched]:
        """Call button ``number`` was used ("Trigger By DssKey")."""
        relays = [r for r in self._relays.values() if r.config.button == number]
        return [s for r in relays for s in self._trigger(r, "button", now, call=self._current_call())]

    def on_call_state(self, call_id: str, state: str, now: float) -> list[RelaySwitched]:
        before = self._calls.pop(call_id, None)
        family = FAMILIES.get(state)
        if family is not None:
            self._calls[call_id] = family  # re-inserted: the most recently changed call is last
        else:
            self._digits.pop(call_id, None)
        switched: list[RelaySwitched] = []
        for relay in self._relays.values():
            if relay.active and family != before and relay.held_by == (call_id, before):
                switched += self._reset(relay, "call")
        if family is not None and family != before:
            for relay in self._relays.values():
                if relay.config.call_state == family:
                    switched += self._trigger(relay, "call", now, call=(call_id, family))
        return switched

    # --- the two moves --------------------------------------------------------------------------------

    def _trigger(
        self,
        relay: _Relay,
        cause: str,
        now: float,
        *,
        call: tuple[str, str] | None = None,
        hold_forever: bool = False,
    ) -> list[RelaySwitched]:
        if not relay.config.response:
            return []
        if hold_forever:
            relay.until, relay.held_by = None, None
        elif relay.config.reset_by_state and call is not None and cause != "input":
            relay.until, relay.held_by = None, call
        else:
            relay.until, relay.held_by = now + relay.config.duration, None
        if relay.active:
            return []
        relay.active = True
        return [RelaySwitched(relay.config.number, True, cause)]

    def _reset(self, relay: _Relay, cause: str) -> list[RelaySwitched]:
        relay.until, relay.held_by = None, None
        if not relay.active:
            return []
        relay.active = False
        return [RelaySwitched(relay.config.number, False, cause)]

    # --- helpers -----------------------------------------------------------------------------------

    def _text(self, text: str, now: float, kind: str) -> list[RelaySwitched]:
        switched: list[RelaySwitched] = []
        for relay in self._relays.values():
            config = relay.config
            enabled, trigger, reset = (
                (config.sms, config.sms_trigger, config.sms_reset)
                if kind == "sms"
                else (config.uri, config.uri_trigger, config.uri_reset)
            )
            if not enabled or not text:
                continue
            if text == trigger:
                switched += self._trigger(relay, kind, now, call=self._current_call())
            elif text == reset:
                switched += self._reset(relay, kind)
        return switched

    def _relay(self, number: int) -> _Relay:
        relay = self._relays.get(number)
        if relay is None:
            known = " and ".join(str(n) for n in self.numbers)
            raise ValueError(f"relay {number} does not exist; the relays are {known}")
        return relay

    def _call(self, call_id: str) -> tuple[str, str] | None:
        family = self._calls.get(call_id)
        return (call_id, family) if family is not None else None

    def _current_call(self) -> tuple[str, str] | None:
        if not self._calls:
            return None
        call_id = next(reversed(self._calls))
        return call_id, self._calls[call_id]
