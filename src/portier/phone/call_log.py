"""The persistent call log (Call List page, manual 9.23): incoming, outgoing and missed calls.

It only listens to :class:`CallStateChanged`, so it records what really happened on the wire
whichever feature placed or took the call. A call that was never answered and came in is
*missed* (when the line's "Enable Missed Call Log" is on); the log keeps the newest
:attr:`CallRecord.limit` calls and drops the oldest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portier.events import CallStateChanged
from portier.phone.policy import line_settings
from portier.settings.declare import Leaf
from portier.settings.records import CallRecord, Direction
from portier.storage import StorageError

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)


@dataclass
class _Open:
    started: float
    direction: str
    line: int
    remote: str
    talking_since: float | None = None


class CallLog:
    name = "call-log"
    watches: tuple[str, ...] = ()

    def __init__(self, device: Device, clock: Callable[[], float] = time.time) -> None:
        self._device = device
        self._clock = clock
        self._open: dict[str, _Open] = {}
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        self._unsubscribe = self._device.bus.subscribe(CallStateChanged, self._on_call)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def apply(self, changed: list[Leaf]) -> None:
        return None

    def records(self) -> list[tuple[int, CallRecord]]:
        """Newest first, as the Call List page shows them."""
        return list(reversed(self._device.storage.rows(CallRecord)))

    def _on_call(self, event: CallStateChanged) -> None:
        now = self._clock()
        entry = self._open.get(event.call_id)
        if entry is None:
            if event.state == "Ended":
                return  # refused before it rang (busy, restricted...): nothing the resident saw
            entry = self._open[event.call_id] = _Open(now, event.direction, event.line, event.remote)
        if event.state == "Talking" and entry.talking_since is None:
            entry.talking_since = now
        if event.state != "Ended":
            return
        del self._open[event.call_id]
        self._write(entry, now)

    def _write(self, entry: _Open, now: float) -> None:
        if entry.direction == "outgoing":
            direction = Direction.OUTGOING
        elif entry.talking_since is not None:
            direction = Direction.INCOMING
        else:
            line = line_settings(self._device.settings.current, entry.line)
            if line is not None and not line.missed_call_log:
                return
            direction = Direction.MISSED
        duration = now - entry.talking_since if entry.talking_since is not None else 0.0
        record = CallRecord(
            started=entry.started,
            direction=direction,
            line=f"SIP{entry.line}" if entry.line else "P2P",
            remote=entry.remote[:256],
            duration=max(0.0, duration),
        )
        storage = self._device.storage
        try:
            rows = storage.rows(CallRecord)
            if CallRecord.limit is not None and len(rows) >= CallRecord.limit:
                storage.delete(CallRecord, rows[0][0])
            storage.add(record)
        except StorageError as exc:
            log.error("call log: could not record the call with %s: %s", entry.remote, exc)
