"""Relay outputs driven by real peers (issue 5, "Proven by"): the door code from baresip (RFC 4733)
and SIPp (SIP INFO), the reset code, Reset By state on hang-up, and a SIP MESSAGE trigger text.

baresip 1.0.0 sends DTMF only as RFC 4733 telephone-events (it parses SIP INFO digits but has no
way to send them), so the SIP INFO code comes from SIPp. The relay's level is read from its
gpiozero mock pin, the pin the hardware would drive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from portier.door.service import DoorService
from portier.events import CallStateChanged, DtmfReceived, Event, MessageReceived, RelayChanged

from .baresip import Baresip
from .device import RunningDevice, running_device
from .sipp import free_port, run_sipp, scenario
from .test_action_url import sipp_message

pytestmark = pytest.mark.interop


@dataclass
class RelayClock:
    """Every RelayChanged with time.monotonic() on arrival."""

    seen: list[tuple[RelayChanged, float]] = field(default_factory=list)

    def __call__(self, event: RelayChanged) -> None:
        self.seen.append((event, time.monotonic()))

    def at(self, event: RelayChanged) -> float:
        found = [when for e, when in self.seen if e == event]
        assert found, f"{event} never happened; relay events: {[e for e, _ in self.seen]}"
        return found[0]


def door(dut: RunningDevice) -> DoorService:
    service: DoorService = dut.device.service("door")
    return service


def relay_closed(dut: RunningDevice, relay: int) -> bool:
    """The electrical level of the relay's pin (an NO relay: high = contact closed)."""
    hardware = door(dut).hardware
    assert hardware is not None and hardware.virtual, "the door pins should be virtual in tests"
    return bool(hardware.relay_pin(relay).state)


async def wait_event(dut: RunningDevice, expected: Event, timeout: float = 10.0, after: int = 0) -> None:
    await dut.events.wait_for(lambda e: e == expected, timeout, str(expected), after)


async def blocking(function: Any, *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


@contextmanager
def baresip_peer(tmp_path: Path) -> Iterator[Baresip]:
    with Baresip(tmp_path / "baresip", user="visitor", lifetime=60) as peer:
        yield peer


async def call_in(dut: RunningDevice, baresip: Baresip) -> None:
    """baresip calls the door; portier answers (auto answer is on by default)."""
    await blocking(baresip.dial, f"sip:door@127.0.0.1:{dut.sip_port}")
    await blocking(baresip.wait_event, "CALL_ESTABLISHED", 15.0)
    await dut.call_state("Talking", timeout=15)


async def test_baresip_code_closes_relay_1_for_the_output_duration_and_the_reset_code_opens_it(
    tmp_path: Path,
) -> None:
    """Output Duration left at its default 5 s: the relay must not reopen before it is over."""
    clock = RelayClock()
    with baresip_peer(tmp_path) as baresip:
        async with running_device(tmp_path / "portier", {"Output1 DTMF Trigger": 1}) as dut:
            dut.device.bus.subscribe(RelayChanged, clock)
            await call_in(dut, baresip)
            assert not relay_closed(dut, 1)

            await blocking(baresip.command, "sndcode", "1234")
            await wait_event(dut, RelayChanged(1, True, "dtmf"))
            assert relay_closed(dut, 1) and door(dut).leds()["output"] == "on"
            methods = {e.method for e in dut.events.events if isinstance(e, DtmfReceived)}
            assert dut.digits() == "1234" and methods == {"rfc4733"}, (dut.digits(), methods)

            await wait_event(dut, RelayChanged(1, False, "duration"), timeout=12)
            assert not relay_closed(dut, 1)
            held = clock.at(RelayChanged(1, False, "duration")) - clock.at(RelayChanged(1, True, "dtmf"))
            assert 4.9 <= held <= 6.0, f"relay 1 reopened after {held:.2f} s, not at the 5 s Output Duration"

            mark = len(dut.events.events)
            await blocking(baresip.command, "sndcode", "1234")
            await wait_event(dut, RelayChanged(1, True, "dtmf"), after=mark)
            assert relay_closed(dut, 1)
            await blocking(baresip.command, "sndcode", "4321")
            await wait_event(dut, RelayChanged(1, False, "dtmf"), timeout=4, after=mark)
            assert not relay_closed(dut, 1)
            await blocking(baresip.hangup)
            await dut.call_state("Ended", timeout=10)


async def test_reset_by_state_keeps_relay_1_closed_until_baresip_hangs_up(tmp_path: Path) -> None:
    values = {"Output1 DTMF Trigger": 1, "Output1 Reset Mode": "STATE", "Output1 Duration": 1}
    with baresip_peer(tmp_path) as baresip:
        async with running_device(tmp_path / "portier", values) as dut:
            await call_in(dut, baresip)
            await blocking(baresip.command, "sndcode", "1234")
            await wait_event(dut, RelayChanged(1, True, "dtmf"))
            await asyncio.sleep(2.0)  # twice the Output Duration: the call holds the relay
            assert relay_closed(dut, 1)
            assert not [e for e in dut.events.events if e == RelayChanged(1, False, "duration")]
            await blocking(baresip.hangup)
            await wait_event(dut, RelayChanged(1, False, "call"))
            assert not relay_closed(dut, 1)


async def info_code(dut: RunningDevice, tmp_path: Path, code: str, reset: str) -> None:
    """SIPp calls the device and sends ``code``, then 1.5 s later ``reset``, as SIP INFO digits."""
    keys = dict(zip(["c1", "c2", "c3", "c4", "r1", "r2", "r3", "r4"], code + reset, strict=True))
    result = await asyncio.to_thread(
        run_sipp,
        scenario("call_info_code"),
        remote=f"127.0.0.1:{dut.sip_port}",
        extra=["-mp", str(free_port("udp"))],
        keys=keys,
        timeout=20,
        workdir=tmp_path / "sipp",
    )
    assert result.ok, result.explain()
    await dut.call_state("Ended", timeout=5)


def digits_before(dut: RunningDevice, relay: RelayChanged) -> str:
    """The digits the device had received when ``relay`` happened (events are published in order)."""
    events = dut.events.events
    assert relay in events, f"{relay} never happened"
    return "".join(e.digit for e in events[: events.index(relay)] if isinstance(e, DtmfReceived))


async def test_sipp_sends_the_code_as_sip_info_and_the_reset_code_opens_early(tmp_path: Path) -> None:
    async with running_device(tmp_path, {"Output1 DTMF Trigger": 1}) as dut:
        closed_during_call: list[bool] = []

        def watch(event: RelayChanged) -> None:
            closed_during_call.append(relay_closed(dut, 1))

        dut.device.bus.subscribe(RelayChanged, watch)
        assert not relay_closed(dut, 1)
        await info_code(dut, tmp_path, "1234", "4321")
        relay = [e for e in dut.events.events if isinstance(e, RelayChanged)]
    assert relay == [RelayChanged(1, True, "dtmf"), RelayChanged(1, False, "dtmf")]
    assert closed_during_call == [True, False]
    assert {e.method for e in dut.events.events if isinstance(e, DtmfReceived)} == {"info"}
    # the relay closed on the code's last digit and opened on the reset code's, not on any other
    assert digits_before(dut, RelayChanged(1, True, "dtmf")) == "1234"
    assert digits_before(dut, RelayChanged(1, False, "dtmf")) == "12344321"


async def test_sipp_info_code_without_the_reset_code_reopens_after_the_output_duration(
    tmp_path: Path,
) -> None:
    """Output Duration 1 s, and SIPp sends 9999 (no code) 1.5 s after the trigger code: the relay
    reopens by itself 1 s after it closed, while the call goes on."""
    clock = RelayClock()
    async with running_device(tmp_path, {"Output1 DTMF Trigger": 1, "Output1 Duration": 1}) as dut:
        closed_during_call: list[bool] = []

        def watch(event: RelayChanged) -> None:
            closed_during_call.append(relay_closed(dut, 1))

        dut.device.bus.subscribe(RelayChanged, clock)
        dut.device.bus.subscribe(RelayChanged, watch)
        await info_code(dut, tmp_path, "1234", "9999")
        await dut.device.bus.drain()
        relay = [e for e in dut.events.events if isinstance(e, RelayChanged)]
        assert not relay_closed(dut, 1)
    assert relay == [RelayChanged(1, True, "dtmf"), RelayChanged(1, False, "duration")]
    assert closed_during_call == [True, False]
    assert digits_before(dut, RelayChanged(1, True, "dtmf")) == "1234"
    assert digits_before(dut, RelayChanged(1, False, "duration")) == "1234", "it reopened before 9999"
    assert dut.digits() == "12349999"
    held = clock.at(RelayChanged(1, False, "duration")) - clock.at(RelayChanged(1, True, "dtmf"))
    assert 0.9 <= held <= 1.5, f"relay 1 reopened after {held:.2f} s, not at the 1 s Output Duration"
    ended = next(e for e in dut.events.events if isinstance(e, CallStateChanged) and e.state == "Ended")
    assert dut.events.events.index(RelayChanged(1, False, "duration")) < dut.events.events.index(ended), (
        "the relay reopened by its duration in the call, not because the call ended"
    )


async def test_a_sip_message_with_the_trigger_text_closes_relay_2(tmp_path: Path) -> None:
    values = {"Output2 SMS Trigger": 1, "Output2 SMS Trigger Msg": "open gate", "Output2 Duration": 1}
    async with running_device(tmp_path, values) as dut:
        assert not relay_closed(dut, 2)
        result, port = await sipp_message(dut, tmp_path, "door", "open gate")
        assert result.ok, result.explain()
        await wait_event(dut, RelayChanged(2, True, "sms"))
        assert relay_closed(dut, 2) and not relay_closed(dut, 1)
        message = MessageReceived(0, f"sip:desk@127.0.0.1:{port}", "open gate")
        assert message in dut.events.events, [e for e in dut.events.events if isinstance(e, MessageReceived)]
        await wait_event(dut, RelayChanged(2, False, "duration"))
        assert not relay_closed(dut, 2)
