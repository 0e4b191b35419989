"""The door service: pins, relay and input decisions, LEDs and alarm messages on the device's loop.

It is the edge around the sans-IO parts (``outputs.py``, ``inputs.py``, ``leds.py``): bus events
and pin changes go in with ``loop.time()``, relay switches and LED patterns come out and are put
on the pins and published (``RelayChanged``, ``InputChanged``, ``LedChanged``, ``ButtonChanged``),
and the one next relay reset is scheduled with ``loop.call_at``. Alarm messages go out as a UDP
datagram or a SIP MESSAGE through the SIP service.

What other helpers hook on, not done here: the call-button actions and command mode (they
listen to ``ButtonChanged``), the triggered ringtones of relays, inputs and tamper (they listen
to ``RelayChanged``/``InputChanged`` and read the ringtone settings), the input's Call Button
(``InputChanged`` with the input's ``call_button`` setting).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from portier import MODEL
from portier.door.alarm import SipTarget, UdpTarget, alarm_target, alarm_text, port_name
from portier.door.hardware import Hardware, NotVirtual, backend_name, pin_map
from portier.door.inputs import InputEdge, Inputs, input_configs
from portier.door.leds import LedFacts, led_patterns, network_up
from portier.door.outputs import Outputs, RelaySwitched, output_configs
from portier.door.status import InputStatus, RelayStatus
from portier.events import (
    AddressChanged,
    ButtonChanged,
    CallStateChanged,
    DtmfReceived,
    InputChanged,
    LedChanged,
    LineStatusChanged,
    MessageReceived,
    RelayChanged,
)
from portier.phone.sip_service import device_mac
from portier.settings.declare import Leaf
from portier.sip.agent import RequestFailed, local_ip_toward
from portier.sip.uri import SipUri, parse_uri

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

NETWORK_POLL = 5.0
"""Seconds between looks at the routing table for the SIP/NET LED."""


class DoorService:
    name = "door"
    watches: tuple[str, ...] = ("door.",)

    def __init__(self, device: Device) -> None:
        self.device = device
        self.hardware: Hardware | None = None
        door = device.settings.current.door
        self._outputs = Outputs(output_configs(door))
        self._inputs = Inputs(input_configs(door, True), {})
        self._leds: dict[str, str] = {}
        self._lines: dict[int, str] = {}
        self._calls: set[str] = set()
        self._network = True
        self._timer: asyncio.TimerHandle | None = None
        self._long: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- what others read and do (web API, virtual panel, tests) -----------------------------------------

    def relays(self) -> list[RelayStatus]:
        return [RelayStatus(n, self._outputs.active(n), f"Output{n}") for n in self._outputs.numbers]

    def inputs(self) -> list[InputStatus]:
        """Inputs 1 and 2, then the tamper switch (number 0)."""
        inputs = self._inputs
        return [InputStatus(n, inputs.triggered(n), inputs.level(n)) for n in inputs.numbers]

    def leds(self) -> dict[str, str]:
        """LED name (net, sip, output) -> pattern (on, off, fast, slow)."""
        return dict(self._leds)

    async def switch(self, relay: int, action: str, cause: str) -> None:
        """``on``, ``off`` or ``trigger`` relay ``relay`` (Output Duration, or Reset By STATE in a
        call); ValueError names a relay or action that does not exist."""
        self._apply(self._outputs.switch(relay, action, cause, self._now()))

    async def uri_command(self, message: str) -> None:
        """A URI command's message ("Trigger by URI"): the relays whose Trigger/Reset Message it is."""
        self._apply(self._outputs.on_uri(message, self._now()))

    def press(self, button: int) -> None:
        self._drive_button(button, True)

    def release(self, button: int) -> None:
        self._drive_button(button, False)

    def set_input(self, number: int, level: bool) -> None:
        """Drive input ``number`` (0 = tamper) to ``level``; on real pins the change is simulated."""
        hardware = self._running()
        if number not in self._inputs.numbers:
            raise ValueError(f"input {number} does not exist; the inputs are 1, 2 and 0 (tamper)")
        try:
            hardware.drive_input(number, level)
        except NotVirtual:
            self._on_input(number, level)

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        door = self.device.settings.current.door
        hardware = self.hardware = Hardware(
            loop, self._on_button, self._on_input,
            pins=pin_map(door.hardware), backend=backend_name(door.hardware),
        )
        self._outputs = Outputs(output_configs(door))
        levels = {n: hardware.input_level(n) for n in (1, 2, 0)}
        self._inputs = Inputs(input_configs(door, hardware.pins.tamper_alarm_level), levels)
        for relay in self._outputs.numbers:  # an NC relay rests energised
            hardware.set_relay(relay, self._outputs.energised(relay))
        bus = self.device.bus
        self._unsubscribe = [
            bus.subscribe(DtmfReceived, self._on_dtmf),
            bus.subscribe(MessageReceived, self._on_message),
            bus.subscribe(CallStateChanged, self._on_call_state),
            bus.subscribe(LineStatusChanged, self._on_line_status),
            bus.subscribe(ButtonChanged, self._on_button_changed),
            bus.subscribe(AddressChanged, lambda event: self._check_network()),
        ]
        self._network = network_up()
        self._refresh_leds()
        self._spawn(self._watch_network())

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        for handle in [self._timer, *self._long.values()]:
            if handle is not None:
                handle.cancel()
        self._timer = None
        self._long.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.hardware is not None:
            self.hardware.close()
            self.hardware = None
        self._leds = {}

    async def apply(self, changed: list[Leaf]) -> None:
        if any(leaf.dotted.startswith("door.hardware.") for leaf in changed) and self.hardware is not None:
            await self.stop()  # other pins: release the old ones and open the new ones
            await self.start()
            return
        door = self.device.settings.current.door
        self._outputs.configure(output_configs(door))
        if self.hardware is not None:  # a changed Standard Status moves a resting relay at once
            for relay in self._outputs.numbers:
                self.hardware.set_relay(relay, self._outputs.energised(relay))
        tamper_level = self.hardware.pins.tamper_alarm_level if self.hardware else True
        for edge in self._inputs.configure(input_configs(door, tamper_level)):
            self._input_edge(edge)
        self._arm_timer()

    # --- pins -------------------------------------------------------------------------------------

    def _drive_button(self, button: int, pressed: bool) -> None:
        hardware = self._running()
        if not 1 <= button <= len(hardware.pins.buttons):
            count = len(hardware.pins.buttons)
            raise ValueError(f"button {button} does not exist; the buttons are 1-{count}")
        try:
            hardware.drive_button(button, pressed)
        except NotVirtual:
            self._on_button(button, pressed)

    def _on_button(self, number: int, pressed: bool) -> None:
        """A button pin changed: pressed, then (still held after Command Mode Long Press Time) a long
        press, then released; the release itself is never ``long`` (the press already said so)."""
        bus = self.device.bus
        if pressed:
            bus.publish(ButtonChanged(number, True))
            hold = float(self.device.settings.current.buttons.advanced.command_press_time)
            self._cancel_long(number)
            self._long[number] = asyncio.get_running_loop().call_later(hold, self._long_press, number)
            return
        self._cancel_long(number)
        bus.publish(ButtonChanged(number, False))

    def _long_press(self, number: int) -> None:
        self._long.pop(number, None)
        self.device.bus.publish(ButtonChanged(number, True, long=True))

    def _cancel_long(self, number: int) -> None:
        handle = self._long.pop(number, None)
        if handle is not None:
            handle.cancel()

    def _on_input(self, number: int, level: bool) -> None:
        for edge in self._inputs.on_level(number, level):
            self._input_edge(edge)

    def _input_edge(self, edge: InputEdge) -> None:
        log.info("%s %s", port_name(edge.number), "triggered" if edge.triggered else "back to rest")
        self.device.bus.publish(InputChanged(edge.number, edge.triggered))
        if edge.triggered and edge.number != 0:
            self._apply(self._outputs.on_input(edge.number, self._now()))
        if edge.alarm:
            self._spawn(self._send_alarm(edge.number))

    # --- bus events -------------------------------------------------------------------------------

    def _on_dtmf(self, event: DtmfReceived) -> None:
        self._apply(self._outputs.on_dtmf(event.call_id, event.digit, self._now()))

    def _on_message(self, event: MessageReceived) -> None:
        self._apply(self._outputs.on_message(event.text, self._now()))

    def _on_call_state(self, event: CallStateChanged) -> None:
        if event.state == "Ended":
            self._calls.discard(event.call_id)
        else:
            self._calls.add(event.call_id)
        self._apply(self._outputs.on_call_state(event.call_id, event.state, self._now()))
        self._refresh_leds()

    def _on_line_status(self, event: LineStatusChanged) -> None:
        self._lines[event.line] = event.status
        self._refresh_leds()

    def _on_button_changed(self, event: ButtonChanged) -> None:
        if event.pressed and not event.long:
            self._apply(self._outputs.on_button(event.button, self._now()))

    # --- relays -----------------------------------------------------------------------------------

    def _apply(self, switches: list[RelaySwitched]) -> None:
        for switch in switches:
            if self.hardware is not None:
                self.hardware.set_relay(switch.relay, self._outputs.energised(switch.relay))
            done = "triggered" if switch.active else "reset"
            log.info("Output%d %s (%s)", switch.relay, done, switch.cause)
            self.device.bus.publish(RelayChanged(switch.relay, switch.active, switch.cause))
        self._arm_timer()
        if switches:
            self._refresh_leds()

    def _arm_timer(self) -> None:
        if self._loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self._outputs.next_deadline()
        if deadline is not None:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._apply(self._outputs.handle_timer(self._now()))

    # --- LEDs -------------------------------------------------------------------------------------

    def _refresh_leds(self) -> None:
        facts = LedFacts(self._network, dict(self._lines), bool(self._calls), self._outputs.any_active())
        for name, pattern in led_patterns(facts).items():
            if self._leds.get(name) == pattern:
                continue
            self._leds[name] = pattern
            if self.hardware is not None:
                self.hardware.set_led(name, pattern)
            self.device.bus.publish(LedChanged(name, pattern))

    async def _watch_network(self) -> None:
        """Look at the routing table now and then; the network watcher's AddressChanged makes it at once."""
        while True:
            await asyncio.sleep(NETWORK_POLL)
            self._check_network()

    def _check_network(self) -> None:
        up = network_up()
        if up != self._network:
            log.info("network %s", "normal" if up else "abnormal: no default route")
            self._network = up
            self._refresh_leds()

    # --- alarm messages ------------------------------------------------------------------------------

    async def _send_alarm(self, number: int) -> None:
        settings = self.device.settings.current
        address = settings.door.basic.server_address
        try:
            target = alarm_target(address)
        except ValueError as exc:
            log.warning("%s alarm not sent: %s", port_name(number), exc)
            return
        if target is None:
            log.info("%s alarm: no Input & Tamper Server Address, nothing sent", port_name(number))
            return
        user = settings.lines.sip1.username

        def text(ip: str) -> str:
            return alarm_text(model=MODEL, user=user, mac=device_mac(), ip=ip, port=port_name(number))

        if isinstance(target, UdpTarget):
            await self._send_udp(target, text(local_ip_toward(target.host)))
        else:
            await self._send_sip(target, text)

    async def _send_udp(self, target: UdpTarget, text: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(target.host, target.port)
            )
        except OSError as exc:
            log.warning("alarm to %s:%d not sent: %s", target.host, target.port, exc)
            return
        try:
            transport.sendto(text.encode())
            log.info("alarm sent to udp %s:%d: %s", target.host, target.port, text)
        finally:
            transport.close()

    async def _send_sip(self, target: SipTarget, text: Callable[[str], str]) -> None:
        try:
            sip = self.device.service("sip")
        except LookupError:
            log.warning("alarm to %s not sent: the SIP service is not running", target.target)
            return
        try:
            result = await sip.send_message(target.target, text(_sip_ip(sip, target.target)), line=1)
        except ValueError as exc:
            log.warning("alarm to %s not sent: %s", target.target, exc)
            return
        if isinstance(result, RequestFailed) or not 200 <= result.status < 300:
            why = result.reason if isinstance(result, RequestFailed) else f"{result.status} {result.reason}"
            log.warning("alarm MESSAGE to %s failed: %s", target.target, why)

    # --- plumbing ---------------------------------------------------------------------------------

    def _running(self) -> Hardware:
        if self.hardware is None:
            raise RuntimeError("the door service is not running")
        return self.hardware

    def _now(self) -> float:
        return (self._loop or asyncio.get_running_loop()).time()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("door task failed", exc_info=task.exception())


def _sip_ip(sip: Any, target: str) -> str:
    """The device's address as the alarm's receiver sees it: toward line 1's server when the line
    is in use, else toward the target's host."""
    line = sip.lines.get(1)
    destination = line.destination() if line is not None else None
    if destination is not None:
        return str(line.agent.local_ip(destination.host))
    with contextlib.suppress(Exception):
        uri = parse_uri(target if target.lower().startswith(("sip:", "sips:")) else f"sip:{target}")
        if isinstance(uri, SipUri):
            return str(sip.agent().local_ip(uri.host.strip("[]")))
    return str(sip.agent().local_ip("127.0.0.1"))
