"""The event history behind /api/log/subscribe and /api/log/pull (2N-style long polling).

Every event on the device's bus gets an increasing id and goes into a bounded history. A client
subscribes a *channel* (an optional filter of event types, and where to start: only new events,
everything still in the history, or the last N seconds), then pulls: a pull answers at once with
what the channel has not seen yet, or waits up to its timeout for the next matching event. A
channel nobody pulls for its duration is closed, and the number of channels is bounded, so a
client that walks away costs nothing. Events that fell out of the history before a slow client
read them are counted as ``lost`` instead of silently skipped.

The bookkeeping is synchronous and takes ``now`` (wall clock seconds) from the caller; only
:meth:`EventHistory.pull` waits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from portier.events import Event

CAPACITY = 1000
MAX_CHANNELS = 32
BATCH = 128
DEFAULT_DURATION = 90.0


def event_kinds() -> dict[str, type[Event]]:
    """Every event type by its class name (``CallStateChanged``...), found from the Event hierarchy."""
    found: dict[str, type[Event]] = {}
    pending = list(Event.__subclasses__())
    while pending:
        kind = pending.pop()
        found[kind.__name__] = kind
        pending.extend(kind.__subclasses__())
    return dict(sorted(found.items()))


class UnknownChannel(LookupError):
    """The channel id was never issued, or the channel expired or was closed."""


@dataclass(frozen=True)
class LoggedEvent:
    id: int
    at: float
    event: Event

    @property
    def kind(self) -> str:
        return type(self.event).__name__

    def params(self) -> dict[str, Any]:
        return dataclasses.asdict(self.event)


@dataclass
class Channel:
    id: int
    kinds: frozenset[str] | None
    """Event type names this channel wants; None wants them all."""
    cursor: int
    """Id of the last event this channel has passed (or skipped)."""
    duration: float
    expires: float
    lost: int = 0


def parse_filter(text: str | None) -> frozenset[str] | None:
    """``"CallStateChanged, RelayChanged"`` to the set of names; ValueError names what is unknown."""
    if text is None or not text.strip():
        return None
    known = {name.lower(): name for name in event_kinds()}
    wanted, unknown = set(), []
    for part in text.replace(";", ",").split(","):
        name = part.strip()
        if not name:
            continue
        if name.lower() in known:
            wanted.add(known[name.lower()])
        else:
            unknown.append(name)
    if unknown:
        raise ValueError(f"unknown event type {', '.join(unknown)}; known types: {', '.join(event_kinds())}")
    return frozenset(wanted)


def parse_include(text: str) -> str | float:
    """``new``, ``all`` or ``-N`` (the events of the last N seconds)."""
    value = text.strip().lower()
    if value in ("new", "all"):
        return value
    if value.startswith("-") and value[1:].isdigit():
        return float(value[1:])
    raise ValueError(f"include must be new, all or -SECONDS (e.g. -60), got {text!r}")


class EventHistory:
    def __init__(self, capacity: int = CAPACITY, max_channels: int = MAX_CHANNELS) -> None:
        self._events: deque[LoggedEvent] = deque(maxlen=capacity)
        self._last_id = 0
        self._channels: dict[int, Channel] = {}
        self._max_channels = max_channels
        self._arrived = asyncio.Event()
        self._interrupts = 0

    @property
    def last_id(self) -> int:
        return self._last_id

    def record(self, event: Event, now: float) -> LoggedEvent:
        self._last_id += 1
        logged = LoggedEvent(self._last_id, now, event)
        self._events.append(logged)
        self._wake()
        return logged

    def interrupt(self) -> None:
        """Answer every waiting pull now: when the device stops, a long poll must not hold up the web
        server's shutdown."""
        self._interrupts += 1
        self._wake()

    def _wake(self) -> None:
        # Every waiting pull holds the old Event, so no waiter can clear it for another.
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    def subscribe(
        self, kinds: frozenset[str] | None, include: str | float, duration: float, now: float
    ) -> Channel:
        self._expire(now)
        if len(self._channels) >= self._max_channels:
            oldest = min(self._channels.values(), key=lambda channel: channel.expires)
            del self._channels[oldest.id]
        cursor = self._last_id
        if include == "all":
            cursor = 0
        elif isinstance(include, float):
            recent = [logged.id for logged in self._events if logged.at >= now - include]
            cursor = recent[0] - 1 if recent else self._last_id
        ident = secrets.randbelow(2**32 - 1) + 1
        while ident in self._channels:
            ident = secrets.randbelow(2**32 - 1) + 1
        channel = Channel(ident, kinds, cursor, duration, now + duration)
        self._channels[ident] = channel
        return channel

    def unsubscribe(self, ident: int) -> bool:
        return self._channels.pop(ident, None) is not None

    def take(self, ident: int, now: float, hold: float = 0.0) -> tuple[list[LoggedEvent], int]:
        """The channel's unread events (a batch of at most BATCH) and how many it lost.

        The channel lives on for its duration after ``now + hold`` (``hold``: how long a pull will
        wait), so it cannot expire under a waiting pull.
        """
        self._expire(now)
        channel = self._channels.get(ident)
        if channel is None:
            raise UnknownChannel(ident)
        channel.expires = now + hold + channel.duration
        if self._events and channel.cursor < self._events[0].id - 1:
            channel.lost += self._events[0].id - 1 - channel.cursor
            channel.cursor = self._events[0].id - 1
        found: list[LoggedEvent] = []
        for logged in self._events:
            if logged.id <= channel.cursor:
                continue
            if channel.kinds is None or logged.kind in channel.kinds:
                found.append(logged)
                if len(found) == BATCH:
                    break
        channel.cursor = found[-1].id if len(found) == BATCH else self._last_id
        lost, channel.lost = channel.lost, 0
        return found, lost

    async def pull(
        self, ident: int, timeout: float, clock: Callable[[], float] = time.time
    ) -> tuple[list[LoggedEvent], int]:
        """Like :meth:`take`, but with nothing to give, wait up to ``timeout`` s for a matching event."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        lost_total = 0
        interrupts = self._interrupts
        while True:
            arrived = self._arrived
            remaining = deadline - loop.time()
            found, lost = self.take(ident, clock(), max(remaining, 0.0))
            lost_total += lost
            if found or lost_total or remaining <= 0 or self._interrupts != interrupts:
                return found, lost_total
            try:
                await asyncio.wait_for(arrived.wait(), remaining)
            except TimeoutError:
                continue

    def channels(self) -> Iterable[Channel]:
        return self._channels.values()

    def _expire(self, now: float) -> None:
        for ident in [c.id for c in self._channels.values() if c.expires <= now]:
            del self._channels[ident]
