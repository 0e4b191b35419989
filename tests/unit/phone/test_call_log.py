"""The call log records what the call events say: incoming, outgoing, missed, durations, the limit."""

from __future__ import annotations

from pathlib import Path

from portier.device import Device
from portier.events import CallStateChanged
from portier.phone.call_log import CallLog
from portier.settings import document
from portier.settings.records import CallRecord, Direction


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def run(device: Device, log: CallLog, clock: Clock, *steps: tuple[float, str, str, str]) -> None:
    for at, call_id, direction, state in steps:
        clock.now = at
        device.bus.publish(CallStateChanged(call_id, 1, direction, state, "sip:200@pbx"))
        await device.bus.drain()  # the log reads its clock when the event is delivered


async def test_incoming_outgoing_and_missed(tmp_path: Path) -> None:
    device = Device(tmp_path)
    device.bus.start()
    clock = Clock()
    log = CallLog(device, clock)
    await log.start()
    try:
        await run(
            device, log, clock,
            (1000, "a", "incoming", "Ringing"), (1002, "a", "incoming", "Talking"),
            (1012, "a", "incoming", "Ended"),
            (1100, "b", "outgoing", "Calling"), (1101, "b", "outgoing", "Alerting"),
            (1105, "b", "outgoing", "Ended"),
            (1200, "c", "incoming", "Ringing"), (1230, "c", "incoming", "Ended"),
            (1300, "d", "incoming", "Ended"),  # refused before ringing: not logged
        )
        records = [record for _, record in log.records()]
        assert [(r.direction, r.started, r.duration, r.line) for r in records] == [
            (Direction.MISSED, 1200, 0.0, "SIP1"),
            (Direction.OUTGOING, 1100, 0.0, "SIP1"),
            (Direction.INCOMING, 1000, 10.0, "SIP1"),
        ]
    finally:
        await log.stop()
        await device.bus.stop()
        device.storage.close()


async def test_missed_calls_not_logged_when_the_line_says_so(tmp_path: Path) -> None:
    device = Device(tmp_path)
    device.settings.update({document.find("SIP1 MissedCallLog"): False})
    device.bus.start()
    clock = Clock()
    log = CallLog(device, clock)
    await log.start()
    try:
        await run(device, log, clock, (1, "c", "incoming", "Ringing"), (2, "c", "incoming", "Ended"))
        assert log.records() == []
    finally:
        await log.stop()
        await device.bus.stop()
        device.storage.close()


async def test_full_log_drops_the_oldest(tmp_path: Path) -> None:
    device = Device(tmp_path)
    for n in range(CallRecord.limit or 0):
        device.storage.add(CallRecord(started=n, direction=Direction.OUTGOING, line="SIP1", remote="x"))
    device.bus.start()
    clock = Clock()
    log = CallLog(device, clock)
    await log.start()
    try:
        await run(device, log, clock, (5000, "n", "outgoing", "Calling"), (5001, "n", "outgoing", "Ended"))
        records = log.records()
        assert len(records) == CallRecord.limit
        assert records[0][1].started == 5000 and records[-1][1].started == 1
    finally:
        await log.stop()
        await device.bus.stop()
        device.storage.close()
