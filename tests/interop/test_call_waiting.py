"""Call waiting (manual 7.5, Table 17; "Use 182 Response for Call waiting") with three SIPp callers.

A second caller while one talks rings with 182 and its own Ringing event ("call waiting"), and is not
answered by itself; a third gets 486. Answering the waiting call puts the first on hold (a sendonly or
inactive re-INVITE that SIPp checks); hanging it up resumes the first ("Auto Resume Current"). With
call waiting off the second caller gets 486 at once. With Intercom Barge an intercom call is answered
during the call, holding the first until it ends.

After each scenario the persistent call log is read back: every call that rang here and was answered
is an incoming call, newest first; a caller turned away with 486 never rang, so it has no row.
Each SIPp caller gets a port of its own, so the log's remote (``sip:sipp@127.0.0.1:PORT``, the
From URI) tells the callers apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from portier.events import CallStateChanged, Event
from portier.phone.handdown import HandsFreeChanged
from portier.settings.records import Direction

from .device import RunningDevice, running_device
from .sipp import SippResult, free_port, run_sipp, scenario
from .test_calls_prack import door_line
from .test_calls_sipp import assert_sipp_ok
from .test_policy_incoming import call_log


async def door_call(
    dut: RunningDevice,
    tmp_path: Path,
    name: str,
    timeout: float = 30,
    hold_ms: int = 0,
    local_port: int | None = None,
    keys: Mapping[str, str] | None = None,
) -> SippResult:
    """SIPp scenario ``name`` (with ``keys``) calls ``door`` (line 1) on the device from
    ``local_port`` (a free one by default), in a thread."""
    return await asyncio.to_thread(
        run_sipp,
        scenario(name),
        remote=f"127.0.0.1:{dut.sip_port}",
        local_port=local_port,
        extra=["-s", "door", "-mp", str(free_port("udp")), "-d", str(hold_ms)],
        keys=keys,
        timeout=timeout,
        workdir=tmp_path / "sipp",
    )


def sipp_at(port: int) -> str:
    """The remote the device logs for a SIPp caller on ``port`` (its From URI)."""
    return f"sip:sipp@127.0.0.1:{port}"


async def state_of(dut: RunningDevice, call_id: str, state: str, after: int = 0) -> CallStateChanged:
    def match(event: Event) -> bool:
        return isinstance(event, CallStateChanged) and event.call_id == call_id and event.state == state

    found = await dut.events.wait_for(match, 10, f"call {call_id} {state}", after)
    assert isinstance(found, CallStateChanged)
    return found


def states(dut: RunningDevice, call_id: str) -> list[tuple[str, str]]:
    return [
        (e.state, e.reason)
        for e in dut.events.events
        if isinstance(e, CallStateChanged) and e.call_id == call_id
    ]


async def test_waiting_call_rings_182_holds_the_first_and_resumes_it(tmp_path: Path) -> None:
    values = door_line(**{"SIP1 Respond 182": 1, "P1 Auto Resume Current": 1})
    first_port, second_port = free_port("udp"), free_port("udp")
    async with running_device(tmp_path / "dut", values) as dut:
        first = asyncio.create_task(door_call(dut, tmp_path, "call_waiting_first", local_port=first_port))
        one = (await dut.call_state("Talking")).call_id
        second = asyncio.create_task(door_call(dut, tmp_path, "call_waiting_second", local_port=second_port))
        waiting = await dut.events.wait_for(
            lambda e: isinstance(e, CallStateChanged) and e.state == "Ringing" and e.call_id != one,
            10,
            "the second call ringing",
        )
        assert isinstance(waiting, CallStateChanged)
        two = waiting.call_id
        assert waiting.reason == "call waiting"
        assert_sipp_ok(await door_call(dut, tmp_path, "call_uac_busy", timeout=10), ["SIP/2.0 486"])
        await asyncio.sleep(0.5)
        assert dut.calls.calls[two].state == "Ringing", "a waiting call must not be answered by itself"

        mark = len(dut.events.events)
        assert dut.calls.answer(two)
        await state_of(dut, one, "Held", mark)
        await state_of(dut, two, "Talking", mark)
        await asyncio.sleep(0.3)
        mark = len(dut.events.events)
        assert await dut.calls.hangup(two)
        await state_of(dut, two, "Ended", mark)
        await state_of(dut, one, "Talking", mark)
        assert_sipp_ok(await asyncio.wait_for(second, 20))
        assert_sipp_ok(await asyncio.wait_for(first, 20))
        await state_of(dut, one, "Ended")
        await dut.device.bus.drain()
        assert states(dut, one) == [
            ("Ringing", ""), ("Talking", ""), ("Held", ""), ("Talking", ""), ("Ended", "remote hangup")
        ]
        assert states(dut, two) == [("Ringing", "call waiting"), ("Talking", ""), ("Ended", "local hangup")]
        busy_device = [e.active for e in dut.events.events if isinstance(e, HandsFreeChanged)]
        assert busy_device[:1] == [True] and True not in busy_device[1:], busy_device
        # newest first: the waiting call ended before the first; the 486 caller never rang
        assert await call_log(dut) == [
            (Direction.INCOMING, "SIP1", sipp_at(first_port)),
            (Direction.INCOMING, "SIP1", sipp_at(second_port)),
        ]


async def test_without_call_waiting_a_second_caller_gets_486(tmp_path: Path) -> None:
    first_port = free_port("udp")
    async with running_device(tmp_path / "dut", door_line(**{"P1 CallWaiting": 0})) as dut:
        first = asyncio.create_task(
            door_call(dut, tmp_path, "call_uac_wait_bye", timeout=15, local_port=first_port)
        )
        await dut.call_state("Talking")
        assert_sipp_ok(await door_call(dut, tmp_path, "call_uac_busy", timeout=10), ["SIP/2.0 486"])
        assert await dut.calls.hangup()
        assert_sipp_ok(await first)
        await dut.device.bus.drain()
        assert [e.state for e in dut.events.events if isinstance(e, CallStateChanged)] == [
            "Ringing", "Talking", "Ended"
        ]
        assert await call_log(dut) == [(Direction.INCOMING, "SIP1", sipp_at(first_port))], (
            "the busy caller was refused before it rang: no row, neither missed nor incoming"
        )


async def test_intercom_barge_answers_during_a_call_and_holds_the_first(tmp_path: Path) -> None:
    values = door_line(**{"P1 Intercom Barge": 1, "P1 Auto Resume Current": 1})
    first_port, intercom_port = free_port("udp"), free_port("udp")
    async with running_device(tmp_path / "dut", values) as dut:
        first = asyncio.create_task(door_call(dut, tmp_path, "call_waiting_first", local_port=first_port))
        one = (await dut.call_state("Talking")).call_id
        mark = len(dut.events.events)
        intercom = await door_call(
            dut, tmp_path, "call_intercom", timeout=15, hold_ms=500, local_port=intercom_port
        )
        assert_sipp_ok(intercom)
        await state_of(dut, one, "Talking", mark)  # resumed once the intercom call ended
        assert_sipp_ok(await asyncio.wait_for(first, 20))
        await dut.device.bus.drain()
        barged = [
            e for e in dut.events.events[mark:] if isinstance(e, CallStateChanged) and e.call_id != one
        ]
        assert [(e.state, e.reason) for e in barged] == [
            ("Ringing", "intercom barge"), ("Talking", ""), ("Ended", "remote hangup")
        ]
        assert ("Held", "") in states(dut, one)
        await state_of(dut, one, "Ended", mark)
        # the barged-in intercom call was answered (incoming, not missed) and ended first
        assert await call_log(dut) == [
            (Direction.INCOMING, "SIP1", sipp_at(first_port)),
            (Direction.INCOMING, "SIP1", sipp_at(intercom_port)),
        ]
