"""Device Log (manual 9.30, 10.5): the device's log lines, live, and a recording between Start and End.

Every record of the ``portier`` loggers at or above "Device Log Level" becomes a line in a bounded
ring (the live view starts from it) and goes to whoever watches (the web page's live view). Bus
events are in it too: the ``event-log`` service logs each one. Start opens a recording file in the
data directory (``logs/device-log.txt``, the previous one replaced), End closes it; the file is
bounded (``MAX_RECORDING``) and says so in its last line when it was cut.

Why the level needs care: Python drops a record below its logger's level before any handler sees
it, so a log level lower than the process's (``portier run --log-level WARNING`` with a Device Log
Level of INFO) lowers the ``portier`` logger's level; the handlers that were there (the console)
get a filter that keeps them at what they showed before.

Records logged from other threads (gpiozero callbacks, ``asyncio.to_thread`` workers) reach the
watchers through the loop (``call_soon_threadsafe``); the ring and the file are guarded by the
handler's own lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from portier.settings.declare import Leaf

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

RING_LINES = 2000
MAX_RECORDING = 8 * 1024 * 1024
ROOT = "portier"
LEVELS = {
    "EMERG": logging.CRITICAL, "ALERT": logging.CRITICAL, "CRIT": logging.CRITICAL, "ERROR": logging.ERROR,
    "WARNING": logging.WARNING, "NOTICE": 25, "INFO": logging.INFO, "DEBUG": logging.DEBUG,
}  # fmt: skip
"""The setting's syslog severities as Python levels (NOTICE sits between INFO and WARNING)."""

_FORMAT = logging.Formatter(
    "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
)


@dataclass(frozen=True)
class LogLine:
    id: int
    """Increases by one per line: a watcher that reconnects asks for what came after its last id."""
    text: str


Watcher = Callable[[LogLine], None]


class _Ring(logging.Handler):
    def __init__(self, service: DeviceLogService) -> None:
        super().__init__()
        self.service = service

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = _FORMAT.format(record)
        except Exception:
            self.handleError(record)
            return
        self.service._add(text)


class _Floor(logging.Filter):
    """Keeps a handler that was there before to the records it would have had: a ``portier`` record
    passes when its logger would have made it with the ``portier`` logger at its own level ``saved``."""

    def __init__(self, saved: int) -> None:
        super().__init__()
        self.saved = saved

    def filter(self, record: logging.LogRecord) -> bool:
        if not (record.name == ROOT or record.name.startswith(ROOT + ".")):
            return True
        logger: logging.Logger | None = logging.getLogger(record.name)
        while logger is not None:
            level = self.saved if logger.name == ROOT else logger.level
            if level:
                return record.levelno >= level
            logger = logger.parent
        return True


class _LevelKeeper:
    """The ``portier`` logger's level while device logs (one per device in this process) need lower."""

    def __init__(self) -> None:
        self.wanted: dict[int, int] = {}
        self.floor: _Floor | None = None
        self.guarded: list[logging.Handler] = []
        self.effective = logging.NOTSET
        """The ``portier`` loggers' effective level before: never raised above it."""

    def want(self, owner: int, level: int | None) -> None:
        if level is None:
            self.wanted.pop(owner, None)
        else:
            self.wanted[owner] = level
        logger = logging.getLogger(ROOT)
        lowest = min(self.wanted.values(), default=None)
        if lowest is None:
            if self.floor is not None:
                logger.setLevel(self.floor.saved)
                for handler in self.guarded:
                    handler.removeFilter(self.floor)
            self.floor, self.guarded = None, []
            return
        if self.floor is None:
            self.effective = logger.getEffectiveLevel()
            if lowest >= self.effective:
                return
            self.floor = _Floor(logger.level)
            self.guarded = _handlers_above(logger)
            for handler in self.guarded:
                handler.addFilter(self.floor)
        logger.setLevel(min(lowest, self.effective))


def _handlers_above(logger: logging.Logger) -> list[logging.Handler]:
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found.extend(h for h in current.handlers if not isinstance(h, _Ring))
        current = current.parent if current.propagate else None
    return found


_levels = _LevelKeeper()


@dataclass(frozen=True)
class Recording:
    running: bool
    started: float | None
    stopped: float | None
    size: int
    cut: bool
    available: bool


class DeviceLogService:
    """Service ``device-log``: the ring, the watchers and the recording of one device."""

    name = "device-log"
    watches: tuple[str, ...] = ("system.device_log.",)

    def __init__(self, device: Device, clock: Callable[[], float] = time.time) -> None:
        self.device = device
        self.clock = clock
        self.path = device.data_dir / "logs" / "device-log.txt"
        self._lines: deque[LogLine] = deque(maxlen=RING_LINES)
        self._last_id = 0
        self._watchers: list[Watcher] = []
        self._handler = _Ring(self)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._file: IO[str] | None = None
        self._size = 0
        self._cut = False
        self._started: float | None = None
        self._stopped: float | None = None

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._set_level()
        logging.getLogger(ROOT).addHandler(self._handler)

    async def stop(self) -> None:
        self.end_recording()
        logging.getLogger(ROOT).removeHandler(self._handler)
        _levels.want(id(self), None)
        self._watchers.clear()
        self._loop = None

    async def apply(self, changed: list[Leaf]) -> None:
        self._set_level()

    def _set_level(self) -> None:
        level = LEVELS.get(self.device.settings.current.system.device_log.level, logging.INFO)
        self._handler.setLevel(level)
        _levels.want(id(self), level)

    # --- what the web page reads ------------------------------------------------------------------

    def lines(self, after: int = 0) -> list[LogLine]:
        """The ring's lines with an id above ``after`` (all of them by default)."""
        with self._lock():
            return [line for line in self._lines if line.id > after]

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call ``watcher`` on the loop with every new line; returns the function that stops it."""
        self._watchers.append(watcher)

        def unwatch() -> None:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

        return unwatch

    def recording(self) -> Recording:
        return Recording(
            self._file is not None, self._started, self._stopped, self._size, self._cut,
            self._file is None and self.path.is_file(),
        )  # fmt: skip

    def begin_recording(self) -> None:
        """Start writing every new line to the recording file (a new file; a running recording goes on)."""
        if self._file is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock():
            self._file = self.path.open("w", encoding="utf-8")
            self._size, self._cut = 0, False
            self._started, self._stopped = self.clock(), None
        log.info("device log recording started")

    def end_recording(self) -> None:
        if self._file is None:
            return
        log.info("device log recording ended")
        with self._lock():
            if self._file is not None:
                self._file.close()
            self._file = None
            self._stopped = self.clock()

    def _lock(self) -> threading.RLock:
        lock = self._handler.lock
        assert lock is not None, "logging.Handler made its lock in __init__"
        return lock

    # --- lines in ---------------------------------------------------------------------------------

    def _add(self, text: str) -> None:
        """A formatted record, under the handler's lock (any thread)."""
        self._last_id += 1
        line = LogLine(self._last_id, text)
        self._lines.append(line)
        if self._file is not None and not self._cut:
            self._record(text)
        loop = self._loop
        if loop is None or not self._watchers:
            return
        if threading.get_ident() == self._thread:
            self._tell(line)
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._tell, line)

    def _record(self, text: str) -> None:
        assert self._file is not None
        data = text + "\n"
        if self._size + len(data) > MAX_RECORDING:
            self._file.write(f"[the recording stopped here: it reached {MAX_RECORDING} bytes]\n")
            self._file.flush()
            self._cut = True
            return
        self._file.write(data)
        self._size += len(data)

    def _tell(self, line: LogLine) -> None:
        for watcher in list(self._watchers):
            try:
                watcher(line)
            except Exception:  # not logged: that would come straight back here
                self._watchers.remove(watcher)
