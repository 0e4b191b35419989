"""Call buttons (manual 9.25, Tables 23-24; issue 5 section 3) pressed on the door service's virtual pins.

A press of a speed-dial button calls baresip and a press in the call ends it; an Intercom button's
INVITE carries ``Call-Info: ...;answer-after=0`` (SIPp checks it); a PTT button calls while it is held
and hangs up when let go (the BYE reaches baresip). Hot Key Dial Mode: Main/Secondary cancels number 1
(a SIPp that only rings) after Call Switched Time and calls number 2; Day/Night picks by the buttons
service's clock, set by the test. Volume buttons in a call move the Speakerphone Volume setting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from portier.door.buttons import ButtonService
from portier.door.service import DoorService
from portier.events import CallStateChanged, Event

from .baresip import Baresip
from .conftest import SippServerFactory
from .device import RunningDevice, running_device
from .sipp import SippServer, free_port, scenario
from .test_calls_sipp import assert_sipp_ok, sipp_call


def door(dut: RunningDevice) -> DoorService:
    service = dut.device.service("door")
    assert isinstance(service, DoorService)
    return service


def buttons(dut: RunningDevice) -> ButtonService:
    service = dut.device.service("buttons")
    assert isinstance(service, ButtonService)
    return service


async def click(dut: RunningDevice, button: int, hold: float = 0.2) -> None:
    """Press and release ``button`` on its (virtual) pin."""
    door(dut).press(button)
    await asyncio.sleep(hold)
    door(dut).release(button)


def uas(factory: SippServerFactory, name: str, hold_ms: int = 0, timeout: float = 30) -> SippServer:
    return factory(
        scenario(name), extra=["-mp", str(free_port("udp")), "-d", str(hold_ms)], timeout=timeout
    )


def calls_to(dut: RunningDevice, server: SippServer, state: str) -> list[CallStateChanged]:
    where = f"127.0.0.1:{server.port}"
    return [
        e for e in dut.events.events
        if isinstance(e, CallStateChanged) and e.state == state and where in e.remote
    ]  # fmt: skip


async def state_to(
    dut: RunningDevice, server: SippServer, state: str, timeout: float = 10
) -> CallStateChanged:
    where = f"127.0.0.1:{server.port}"

    def match(event: Event) -> bool:
        return isinstance(event, CallStateChanged) and event.state == state and where in event.remote

    found = await dut.events.wait_for(match, timeout, f"a call to {where} {state}")
    assert isinstance(found, CallStateChanged)
    return found


def sip_uri(server: SippServer) -> str:
    return f"sip:service@127.0.0.1:{server.port}"


async def test_a_press_calls_baresip_and_a_press_in_the_call_ends_it(tmp_path: Path) -> None:
    with Baresip(tmp_path / "bob") as bob:
        async with running_device(tmp_path / "dut", {"buttons.button1.value": bob.direct_uri}) as dut:
            await click(dut, 1)
            await asyncio.to_thread(bob.wait_event, "CALL_ESTABLISHED", 10)
            talking = await dut.call_state("Talking")
            assert talking.direction == "outgoing" and talking.remote == bob.direct_uri
            mark = len(dut.events.events)
            await click(dut, 1)  # Talking: END
            await asyncio.to_thread(bob.wait_event, "CALL_CLOSED", 10)
            ended = await dut.call_state("Ended", after=mark)
            assert (ended.call_id, ended.reason) == (talking.call_id, "local hangup")


async def test_an_intercom_button_asks_the_callee_to_answer_at_once(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    server = uas(sipp_server_factory, "call_uas_intercom")
    values = {"buttons.button1.value": sip_uri(server), "buttons.button1.subtype": "INTERCOM"}
    async with running_device(tmp_path / "dut", values) as dut:
        await click(dut, 1)
        await state_to(dut, server, "Talking")
        await click(dut, 1)
        await state_to(dut, server, "Ended")
        result = await asyncio.to_thread(server.wait, 10)
    assert_sipp_ok(result, ["Call-Info: ", "answer-after=0"])


async def test_ptt_calls_while_held_and_hangs_up_on_release(tmp_path: Path) -> None:
    with Baresip(tmp_path / "bob") as bob:
        values = {"buttons.button1.value": bob.direct_uri, "buttons.button1.type": "PTT"}
        async with running_device(tmp_path / "dut", values) as dut:
            door(dut).press(1)
            await asyncio.to_thread(bob.wait_event, "CALL_ESTABLISHED", 10)
            await dut.call_state("Talking")
            await asyncio.sleep(0.5)
            assert [c.state for c in dut.calls.calls.values()] == ["Talking"], "still talking while held"
            door(dut).release(1)
            await asyncio.to_thread(bob.wait_event, "CALL_CLOSED", 10)
            ended = await dut.call_state("Ended")
            assert ended.reason == "local hangup"


async def test_main_secondary_calls_number_2_when_number_1_does_not_answer(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    ringing_only = uas(sipp_server_factory, "call_uas_ring_only")
    answering = uas(sipp_server_factory, "call_uas", hold_ms=500)
    values: dict[str, Any] = {
        "buttons.button1.value": sip_uri(ringing_only),
        "buttons.button1.secondary": sip_uri(answering),
        "buttons.advanced.dial_mode": "MAIN_SECONDARY",
        "buttons.advanced.call_switched_time": 5,
    }
    async with running_device(tmp_path / "dut", values) as dut:
        loop = asyncio.get_running_loop()
        await click(dut, 1)
        await state_to(dut, ringing_only, "Alerting")
        pressed_at = loop.time()
        await state_to(dut, answering, "Talking", timeout=15)
        switched_after = loop.time() - pressed_at
        await state_to(dut, answering, "Ended")
        first = await asyncio.to_thread(ringing_only.wait, 10)
        second = await asyncio.to_thread(answering.wait, 10)
        assert [e.reason for e in calls_to(dut, ringing_only, "Ended")] == ["local hangup"]
    assert_sipp_ok(first, ["CANCEL sip:service@127.0.0.1"])
    assert_sipp_ok(second)
    assert 4.5 <= switched_after <= 8, f"number 2 was called {switched_after:.1f} s after number 1 rang"


async def test_day_night_picks_the_number_by_the_time_of_day(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    day = uas(sipp_server_factory, "call_uas", hold_ms=300)
    night = uas(sipp_server_factory, "call_uas", hold_ms=300)
    values = {
        "buttons.button1.value": sip_uri(day),
        "buttons.button1.secondary": sip_uri(night),
        "buttons.advanced.dial_mode": "DAY_NIGHT",
        "buttons.advanced.day_start": "07:30",
        "buttons.advanced.day_end": "19:00",
    }
    async with running_device(tmp_path / "dut", values) as dut:
        buttons(dut).clock = lambda: datetime(2026, 6, 1, 12, 0)
        await click(dut, 1)
        await state_to(dut, day, "Ended")
        buttons(dut).clock = lambda: datetime(2026, 6, 1, 19, 0)  # the end of the day is night
        await click(dut, 1)
        await state_to(dut, night, "Ended")
        assert len(calls_to(dut, day, "Talking")) == 1 and len(calls_to(dut, night, "Talking")) == 1
        results = [await asyncio.to_thread(server.wait, 10) for server in (day, night)]
    for result in results:
        assert_sipp_ok(result)


async def test_volume_buttons_in_a_call_move_the_speakerphone_volume(tmp_path: Path) -> None:
    values = {
        "buttons.programmable.button2.talking": "VOLUME_UP",
        "buttons.programmable.button3.talking": "VOLUME_DOWN",
        "HandFree Vol": 5,
    }
    async with running_device(tmp_path / "dut", values) as dut:
        caller = asyncio.create_task(sipp_call(dut, tmp_path, "call_intercom", hold_ms=4000, timeout=15))
        await dut.call_state("Talking")

        def volume() -> int:
            return dut.device.settings.current.intercom.media.volume.speakerphone_volume

        await click(dut, 2)
        await wait_until(lambda: volume() == 6, "volume up to 6")
        for expected in (5, 4):
            await click(dut, 3)
            await wait_until(lambda: volume() == expected, f"volume down to {expected}")  # noqa: B023
        assert [c.state for c in dut.calls.calls.values()] == ["Talking"], "volume keys do not end the call"
        assert_sipp_ok(await caller)
    async with running_device(tmp_path / "dut", {}) as dut:
        assert dut.device.settings.current.intercom.media.volume.speakerphone_volume == 4, "saved"


async def wait_until(test: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not test():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
