"""Call buttons at work (manual 9.25): presses become calls, answers, hang-ups, DTMF, URLs.

The hardware (or the virtual panel) only publishes :class:`ButtonChanged`; this service reads
the programmable key table for the device's state and runs the action. A press acts at once,
except a button whose long press means something in standby: there the short action waits
for the release, so holding the button for command mode never dials first. PTT buttons act
on press and hang up on release. Main/Secondary dialling switches to number 2 when number 1
has not answered within Call Switched Time; Day/Night picks by ``clock`` (the wall clock, or a
test's). A long press whose Desktop Long Pressed is Main Menu enters command mode
(``command_runner.py``), which takes the presses of its window.

A number that is a SIP URI or an IP address is called directly from the device's port when no line
is chosen or registered; a plain number goes out on the button's line (AUTO: the first registered).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from portier.door.button_actions import (
    Numbers,
    PhoneState,
    action_for,
    call_button,
    call_button_of,
    numbers,
)
from portier.door.command_runner import CommandModeRunner
from portier.events import ButtonChanged, CallStateChanged, InputChanged
from portier.media.codecs import CodecError, codec_info
from portier.media.multicast import MulticastSender, parse_target
from portier.settings import document
from portier.settings.buttons import ButtonAction, ButtonSubtype, ButtonType, CallButton
from portier.settings.declare import Leaf

if TYPE_CHECKING:
    from portier.device import Device
    from portier.phone.call import Call
    from portier.phone.calls import CallManager

log = logging.getLogger(__name__)

PAGE_CODECS = {
    ButtonSubtype.G711A: "PCMA",
    ButtonSubtype.G711U: "PCMU",
    ButtonSubtype.G729AB: "G729",
    ButtonSubtype.ILBC: "iLBC",
    ButtonSubtype.OPUS: "opus",
    ButtonSubtype.G722: "G722",
}
"""The voice codec of a MULTICAST button's page (its subtype); PCMU when none is chosen."""

_ACTIVE = ("Ringing", "Calling", "Alerting", "Talking", "Held")


class ButtonService:
    name = "buttons"
    watches: tuple[str, ...] = ()

    def __init__(self, device: Device, clock: Callable[[], datetime.datetime] | None = None) -> None:
        self._device = device
        self.clock: Callable[[], datetime.datetime] = clock or datetime.datetime.now
        """The time of day Day/Night dialling reads (replaceable, e.g. by a test)."""
        self._unsubscribe: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._held_since_desktop: set[int] = set()
        """Buttons pressed in standby whose short action waits for the release."""
        self._ptt_calls: dict[int, str] = {}
        self._pages: dict[int, MulticastSender] = {}
        """Call button -> the multicast page it is sending."""
        self._page_holders: dict[int, int] = {}
        """Physical button held down for a PTT page -> the call button paging."""
        """Button -> call id of the PTT call it holds up."""
        self._ptt_down: set[int] = set()
        """PTT buttons held now: a call whose button was let go while it was being placed is ended."""
        self._dialling: set[asyncio.Task[Any]] = set()
        """Dials that may still switch to number 2; an End press stops them."""
        self.command_mode = CommandModeRunner(device, self._spawn)

    async def start(self) -> None:
        bus = self._device.bus
        self._unsubscribe = [
            bus.subscribe(ButtonChanged, self._on_button),
            bus.subscribe(CallStateChanged, self._on_call),
            bus.subscribe(InputChanged, self._on_input),
        ]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self.command_mode.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for number in list(self._pages):
            await self._end_page(number)

    async def apply(self, changed: list[Leaf]) -> None:
        return None

    # --- state ------------------------------------------------------------------------------------

    def _calls(self) -> CallManager | None:
        try:
            return self._device.service("sip").calls  # type: ignore[no-any-return]
        except LookupError:
            return None

    def _live(self) -> list[Call]:
        calls = self._calls()
        if calls is None:
            return []
        return [call for call in calls.calls.values() if call.state.value in _ACTIVE]

    def phone_state(self) -> PhoneState:
        live = self._live()
        if any(c.state.value in ("Talking", "Held") for c in live):
            return PhoneState.TALKING
        if any(c.direction == "incoming" and c.state.value == "Ringing" for c in live):
            return PhoneState.RINGING
        if any(c.direction == "outgoing" for c in live):
            return PhoneState.ALERTING
        return PhoneState.DESKTOP

    def _on_call(self, event: CallStateChanged) -> None:
        if event.state == "Ended":  # a PTT call the far end ended: the release has nothing to end
            for button, call_id in list(self._ptt_calls.items()):
                if call_id == event.call_id:
                    del self._ptt_calls[button]

    # --- presses ----------------------------------------------------------------------------------

    def _on_input(self, event: InputChanged) -> None:
        """An input's "Call Button" (Table 27): its function runs when the input triggers."""
        if not event.triggered or event.input not in (1, 2):
            return
        port = getattr(self._device.settings.current.door, f"input{event.input}")
        if port.call_button and self._calls() is not None:
            log.info("Input%d triggered: running call button %d", event.input, int(port.call_button))
            self._function(int(port.call_button), self.phone_state(), 0)

    def _on_button(self, event: ButtonChanged) -> None:
        settings = self._device.settings.current
        number = event.button
        if not 1 <= number <= 5:
            return
        state = self.phone_state()
        if event.long:
            self._held_since_desktop.discard(number)
            main_menu = action_for(number, state, True, settings) == ButtonAction.MAIN_MENU
            if main_menu and number not in self._ptt_down:
                self.command_mode.enter(number)
            return
        standby = state is PhoneState.DESKTOP  # in a call (one came in during the window) a press is a press
        if (standby or not event.pressed) and self.command_mode.take(number, event.pressed):
            return
        if not event.pressed:
            self._ptt_down.discard(number)
            if number in self._ptt_calls:
                self._spawn(self._hang_up(self._ptt_calls.pop(number)))
            elif number in self._page_holders:
                self._spawn(self._end_page(self._page_holders.pop(number)))
            elif number in self._held_since_desktop:
                self._held_since_desktop.discard(number)
                self._run(action_for(number, PhoneState.DESKTOP, False, settings), state, pressed=True)
            return
        action = action_for(number, state, False, settings)
        target = call_button_of(action)
        ptt = target is not None and call_button(settings, target).type == ButtonType.PTT
        waits_for_release = (
            state is PhoneState.DESKTOP
            and not ptt
            and action_for(number, state, True, settings) == ButtonAction.MAIN_MENU
        )
        if waits_for_release:
            self._held_since_desktop.add(number)
            return
        if ptt:
            self._ptt_down.add(number)
        self._run(action, state, pressed=True, physical=number)

    def _run(self, action: ButtonAction, state: PhoneState, *, pressed: bool, physical: int = 0) -> None:
        calls = self._calls()
        if calls is None:
            log.warning("button: the SIP service is not running; press ignored")
            return
        target = call_button_of(action)
        if target is not None:
            self._function(target, state, physical)
        elif action == ButtonAction.ANSWER:
            calls.answer()
        elif action == ButtonAction.END:
            if state is PhoneState.RINGING:
                calls.reject()
            else:
                for dialling in self._dialling:
                    dialling.cancel()
                self._spawn(calls.hangup())
        elif action in (ButtonAction.VOLUME_UP, ButtonAction.VOLUME_DOWN):
            self._spawn(self._volume(+1 if action == ButtonAction.VOLUME_UP else -1))

    def _function(self, number: int, state: PhoneState, physical: int) -> None:
        """Run call button ``number``'s own function (Table 23 function key settings)."""
        settings = self._device.settings.current
        button = call_button(settings, number)
        calls = self._calls()
        assert calls is not None
        kind = ButtonType(button.type)
        if kind in (ButtonType.MEMORY, ButtonType.PTT):
            if state is PhoneState.RINGING:
                calls.answer()
                return
            if state is not PhoneState.DESKTOP and kind is ButtonType.MEMORY:
                self._spawn(calls.hangup())
                return
            if button.subtype == ButtonSubtype.MULTICAST:  # PTT multicast: page while held
                if kind is ButtonType.PTT and physical:
                    self._spawn(self._page(number, button, held_by=physical))
                return
            picked = numbers(button, settings.buttons.advanced, self.clock().time())
            if not picked.first:
                if self._hotline() is None:
                    log.warning("button %d has no number to call", number)
                return
            ptt_button = physical if kind is ButtonType.PTT else 0
            task = self._spawn(self._dial(button, picked, ptt_button))
            self._dialling.add(task)
            task.add_done_callback(self._dialling.discard)
        elif kind is ButtonType.DTMF:
            if state is PhoneState.TALKING:
                self._spawn(self._send_digits(button.value))
        elif kind is ButtonType.KEY_EVENT:
            if button.subtype == ButtonSubtype.RELEASE:
                self._spawn(calls.hangup())
            elif state is PhoneState.RINGING:
                calls.answer()
        elif kind is ButtonType.ACTION_URL:
            self._spawn(self._get(button.value))
        elif kind is ButtonType.MULTICAST:  # a press starts the page, the next one ends it
            if number in self._pages:
                self._spawn(self._end_page(number))
            else:
                self._spawn(self._page(number, button))
        elif kind is ButtonType.MCAST_LISTENING:
            log.warning("button %d: multicast listening is not built yet (paging issue)", number)

    # --- the actions ------------------------------------------------------------------------------

    async def _page(self, number: int, button: CallButton, held_by: int = 0) -> None:
        """Send a multicast page to the button's address:port with its codec (Table 23)."""
        calls = self._calls()
        if calls is None or number in self._pages:
            return
        codec = PAGE_CODECS.get(ButtonSubtype(button.subtype), "PCMU")
        try:
            host, port = parse_target(button.value)
            rate = codec_info(codec).sample_rate
            media = self._device.settings.current.intercom.media
            payload_type = media.opus_payload_type if codec == "opus" else None
            source = calls.audio_in.source(rate)
            sender = MulticastSender(host, port, codec, source, payload_type=payload_type)
        except (ValueError, CodecError) as exc:
            log.warning("button %d: cannot page: %s", number, exc)
            return
        self._pages[number] = sender
        if held_by:
            self._page_holders[held_by] = number
        await sender.start()

    async def _end_page(self, number: int) -> None:
        sender = self._pages.pop(number, None)
        if sender is not None:
            await sender.stop()

    def _hotline(self) -> object | None:
        """A button with no number takes the device off hook: the hotline dials if it is on."""
        try:
            return self._device.service("sip").hotline.off_hook()  # type: ignore[no-any-return]
        except LookupError:
            return None

    def _line(self, button: CallButton) -> int | None:
        if button.line:
            return int(button.line)
        try:
            states = self._device.service("sip").line_states()
        except LookupError:
            return None
        registered = [s.line for s in states if s.status.value == "Registered"]
        return registered[0] if registered else None

    async def _dial(self, button: CallButton, picked: Numbers, ptt_button: int) -> None:
        calls = self._calls()
        assert calls is not None
        intercom = button.subtype == ButtonSubtype.INTERCOM
        call = await self._place(calls, picked.first, button, intercom)
        if call is None or not self._ptt_held(ptt_button, call, calls):
            return
        if picked.then is None:
            return
        if await self._answered_within(call, picked.switch_after):
            return
        if call.state.value != "Ended":
            await calls.hangup(call.call_id)
        if ptt_button and ptt_button not in self._ptt_down:
            return
        log.info("button: %s not answered in %.0f s, calling %s", picked.first, picked.switch_after,
                 picked.then)
        second = await self._place(calls, picked.then, button, intercom)
        if second is not None:
            self._ptt_held(ptt_button, second, calls)

    def _ptt_held(self, ptt_button: int, call: Call, calls: CallManager) -> bool:
        """Tie a PTT call to its button; False (and the call ended) if the button was let go already."""
        if not ptt_button:
            return True
        if ptt_button in self._ptt_down:
            self._ptt_calls[ptt_button] = call.call_id
            return True
        self._spawn(calls.hangup(call.call_id))
        return False

    async def _place(
        self, calls: CallManager, target: str, button: CallButton, intercom: bool
    ) -> Call | None:
        line = self._line(button)
        try:
            agent = self._device.service("sip").agent()
        except (LookupError, KeyError):
            agent = None
        try:
            call = await calls.dial(target, line=line, agent=agent, intercom=intercom)
        except (ValueError, LookupError) as exc:
            log.warning("button: cannot call %s: %s", target, exc)
            return None
        log.info("button: calling %s%s%s", target, f" on SIP{line}" if line else "",
                 " (intercom)" if intercom else "")
        return call

    async def _answered_within(self, call: Call, seconds: float) -> bool:
        """True once the call is Talking; False if it ends or the time runs out first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(call.settled(), seconds)
        return call.state.value in ("Talking", "Held")

    async def _hang_up(self, call_id: str) -> None:
        calls = self._calls()
        if calls is not None:
            await calls.hangup(call_id)

    async def _send_digits(self, digits: str) -> None:
        calls = self._calls()
        assert calls is not None
        for digit in digits:
            await calls.send_dtmf(digit)
            await asyncio.sleep(0.15)

    async def _volume(self, step: int) -> None:
        leaf = document.find("intercom.media.volume.speakerphone_volume")
        current = int(document.get(self._device.settings.current, leaf))
        wanted = max(1, min(9, current + step))
        if wanted != current:
            await self._device.apply_settings({leaf: wanted})

    async def _get(self, url: str) -> None:
        if not url.startswith(("http://", "https://")):
            log.warning("button: action URL %r is not an http(s) URL", url)
            return
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(url)
            log.info("button: GET %s -> %d", url, response.status_code)
        except httpx.HTTPError as exc:
            log.warning("button: GET %s failed: %s", url, exc)

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("button action failed: %s", finished.exception())

        task.add_done_callback(done)
        return task
