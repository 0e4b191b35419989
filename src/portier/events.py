"""Typed events and the bus every feature talks through.

Publishers never wait for subscribers: ``publish`` queues the event and one dispatcher
task delivers events in order. A subscriber that raises is logged and stays subscribed;
it cannot take the bus, or the publisher, down with it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """Base of all events."""


@dataclass(frozen=True)
class DeviceStarted(Event):
    version: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class DeviceStopping(Event):
    reason: str


@dataclass(frozen=True)
class SettingsChanged(Event):
    """Settings were saved; ``paths`` are the dotted schema paths that changed."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class LineStatusChanged(Event):
    """A SIP line's registration state (manual: Registered, Unapplied, Trying, Timeout, Failed)."""

    line: int
    status: str
    reason: str
    server: str


@dataclass(frozen=True)
class CallStateChanged(Event):
    """A call changed state: Ringing, Calling, Alerting, Talking, Ended (with the reason)."""

    call_id: str
    line: int
    """1 or 2 for SIP lines, 0 for a direct IP (P2P) call."""
    direction: str
    state: str
    remote: str
    reason: str = ""
    remote_display: str = ""
    """The far end's display name (From of an incoming call, To of an outgoing one), if it gave one."""


@dataclass(frozen=True)
class DtmfReceived(Event):
    """A digit the remote party sent, by RFC 4733 event, SIP INFO or in-band tone."""

    call_id: str
    digit: str
    method: str


@dataclass(frozen=True)
class MessageReceived(Event):
    """A SIP MESSAGE (RFC 3428) with a text body arrived (relay trigger/reset texts listen to it)."""

    line: int
    """1 or 2 when it came over a SIP line's port, 0 when direct (P2P)."""
    sender: str
    text: str


@dataclass(frozen=True)
class ButtonChanged(Event):
    """A call button (1-5) was pressed or released; ``long`` marks a long press (3 s)."""

    button: int
    pressed: bool
    long: bool = False


@dataclass(frozen=True)
class RelayChanged(Event):
    """A relay output (1-2) was triggered (``active``) or reset, and why (dtmf, http, sms, input, call...)."""

    relay: int
    active: bool
    cause: str


@dataclass(frozen=True)
class InputChanged(Event):
    """An alarm input (1-2) or the tamper switch (``input`` 0) changed; ``triggered`` per its level."""

    input: int
    triggered: bool


@dataclass(frozen=True)
class LedChanged(Event):
    """An indicator's pattern: on, off, fast (flash), slow (flash)."""

    led: str
    pattern: str


@dataclass(frozen=True)
class AddressChanged(Event):
    """The device's own address changed (manual 9.19 "IP Changed"); None means it has none (no
    address on a routed interface, no default route). The network watcher reports it."""

    old: str | None
    new: str | None


@dataclass(frozen=True)
class ServiceFailed(Event):
    service: str
    reason: str


@dataclass(frozen=True)
class CallTransferred(Event):
    """A transfer ended: ``result`` is "succeeded" or "failed" (``reason`` says why).

    ``kind`` is "blind" or "attended"; ``role`` is "transferor" (the device sent the REFER),
    "transferee" (it was asked to call ``target``) or "target" (an INVITE with Replaces took the
    place of the call). ``new_call_id`` is the call that took over, when there is one."""

    call_id: str
    target: str
    kind: str
    result: str
    role: str = "transferor"
    reason: str = ""
    new_call_id: str = ""


@dataclass(frozen=True)
class VoiceMessages(Event):
    """Message waiting for a line (RFC 3842): a NOTIFY of its voicemail subscription, or one the
    server sent unasked. ``new``/``old`` count voice messages (urgent ones among them separately)."""

    line: int
    waiting: bool
    new: int = 0
    old: int = 0
    urgent_new: int = 0
    urgent_old: int = 0
    account: str = ""


@dataclass(frozen=True)
class DndChanged(Event):
    """A line's do-not-disturb went on or off: its setting changed (``via`` "setting") or the
    device dialled the server's feature code for it (``via`` "code", "Use Feature Code")."""

    line: int
    on: bool
    via: str = "setting"


@dataclass(frozen=True)
class ForwardChanged(Event):
    """A line's call forward went on or off; ``kind`` is "unconditional", "busy" or "no-answer"."""

    line: int
    kind: str
    on: bool
    target: str = ""
    via: str = "setting"


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[None] | None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[type[Event], list[Handler]] = {}
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self, kind: type[E], handler: Callable[[E], Awaitable[None] | None]) -> Callable[[], None]:
        """Call ``handler`` for every event of ``kind`` (or a subclass); returns the unsubscriber."""
        handlers = self._handlers.setdefault(kind, [])
        handlers.append(handler)
        return lambda: handlers.remove(handler)

    def publish(self, event: Event) -> None:
        self._queue.put_nowait(event)

    async def drain(self) -> None:
        """Wait until every event published so far has been delivered."""
        await self._queue.join()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._dispatch(), name="event-bus")

    async def stop(self) -> None:
        if self._task is not None:
            await self.drain()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _dispatch(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self.deliver(event)
            finally:
                self._queue.task_done()

    async def deliver(self, event: Event) -> None:
        for kind, handlers in list(self._handlers.items()):
            if not isinstance(event, kind):
                continue
            for handler in list(handlers):
                try:
                    result = handler(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("event handler %r failed on %r", handler, event)
