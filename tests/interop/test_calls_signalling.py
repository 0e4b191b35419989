"""Call signalling details against SIPp: the ACK for every 2xx retransmission (RFC 3261 §13.2.2.4),
"Dial Without Registered", and auto handdown (when the device is idle again after the far end hung up).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from portier.events import Event
from portier.phone.handdown import HandsFreeChanged

from .conftest import SippServerFactory
from .device import RunningDevice, running_device
from .sipp import free_port, scenario
from .test_calls_sipp import assert_sipp_ok, sipp_call


def unregistered_line(registrar_port: int, **extra: object) -> dict[str, object]:
    """Line 1 whose registrar (nothing listens there) never answers; no retry for an hour."""
    values: dict[str, object] = {
        "SIP1 Enable Reg": 1,
        "SIP1 Phone Number": "door",
        "SIP1 Register Addr": "127.0.0.1",
        "SIP1 Register Port": registrar_port,
        "Reg Fail Interval": 3600,
    }
    values.update(extra)
    return values


# --- the ACK for each 2xx ---------------------------------------------------------------------------


async def test_every_retransmitted_200_gets_the_ack_again(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    extra = ["-mp", str(free_port("udp")), "-d", "300"]
    server = sipp_server_factory(scenario("call_uas_reack"), extra=extra)
    async with running_device(tmp_path / "dut", {}) as dut:
        await dut.calls.dial(f"sip:service@127.0.0.1:{server.port}", agent=dut.sip.agent())
        await dut.call_state("Talking")
        result = await asyncio.to_thread(server.wait, 15)
        assert_sipp_ok(result)
        ended = await dut.call_state("Ended", timeout=5)
    assert ended.reason == "remote hangup"
    acks = result.received("ACK")
    assert len(acks) == 3, result.explain()
    assert all(re.search(r"^CSeq: *1 ACK", ack, re.M) for ack in acks), result.explain()


# --- Dial Without Registered -------------------------------------------------------------------------


async def test_dial_on_an_unregistered_line_is_refused(tmp_path: Path) -> None:
    async with running_device(tmp_path / "dut", unregistered_line(free_port("udp"))) as dut:
        await dut.events.line_status(1, "Timeout", timeout=10)
        refusal = r"line 1 is not registered \(Timeout\).*Dial Without Registered"
        with pytest.raises(ValueError, match=refusal):
            await dut.calls.dial("200", line=1)
        assert dut.calls.calls == {}


async def test_dial_without_registered_sends_the_invite_anyway(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    """The INVITE goes where the line's REGISTER went; SIPp starts there once registering failed."""
    registrar = free_port("udp")
    values = unregistered_line(registrar, **{"SIP1 Dial Off Line": 1})
    async with running_device(tmp_path / "dut", values) as dut:
        await dut.events.line_status(1, "Timeout", timeout=10)
        server = sipp_server_factory(
            scenario("call_uas"), port=registrar, extra=["-mp", str(free_port("udp")), "-d", "300"]
        )
        call = await dut.calls.dial("service", line=1)
        await dut.call_state("Talking")
        ended = await dut.call_state("Ended")
        assert ended.call_id == call.call_id and ended.reason == "remote hangup"
        result = await asyncio.to_thread(server.wait, 10)
    assert_sipp_ok(result)
    (invite,) = result.received("INVITE")
    assert invite.startswith("INVITE sip:service@127.0.0.1"), invite


# --- auto handdown -------------------------------------------------------------------------------------


def hands_free(events: list[Event]) -> list[HandsFreeChanged]:
    return [e for e in events if isinstance(e, HandsFreeChanged)]


async def wait_idle(dut: RunningDevice, after: int, timeout: float) -> HandsFreeChanged:
    found = await dut.events.wait_for(
        lambda e: isinstance(e, HandsFreeChanged) and not e.active, timeout, "the device idle", after
    )
    assert isinstance(found, HandsFreeChanged)
    return found


async def test_auto_handdown_returns_to_idle_after_its_time(tmp_path: Path) -> None:
    values = {"P1 Auto Onhook": 1, "P1 Auto Onhook Time": 2}
    async with running_device(tmp_path / "dut", values) as dut:
        loop = asyncio.get_running_loop()
        assert_sipp_ok(await sipp_call(dut, tmp_path, "call_uac_bye", hold_ms=300))
        await dut.call_state("Ended")
        ended_at, mark = loop.time(), len(dut.events.events)
        idle = await wait_idle(dut, mark, timeout=5)
        assert idle.reason == "auto handdown"
        waited = loop.time() - ended_at
        assert 1.5 <= waited <= 3.5, f"idle {waited:.2f} s after the far end hung up, not about 2 s"
        assert [e.active for e in hands_free(dut.events.events)] == [True, False]


async def test_without_auto_handdown_the_device_stays_off_hook_until_hung_up(tmp_path: Path) -> None:
    async with running_device(tmp_path / "dut", {"P1 Auto Onhook": 0, "P1 Auto Onhook Time": 1}) as dut:
        assert_sipp_ok(await sipp_call(dut, tmp_path, "call_uac_bye", hold_ms=300))
        await dut.call_state("Ended")
        await asyncio.sleep(1.5)
        assert [e.active for e in hands_free(dut.events.events)] == [True], "went idle by itself"
        assert dut.calls.hands_free.active
        mark = len(dut.events.events)
        assert await dut.calls.hangup()  # the End button with no call up
        idle = await wait_idle(dut, mark, timeout=2)
        assert idle.reason == "local hangup"
        assert not await dut.calls.hangup()


async def test_a_call_the_device_ends_itself_leaves_it_idle_at_once(tmp_path: Path) -> None:
    async with running_device(tmp_path / "dut", {"P1 Auto Onhook Time": 5}) as dut:
        client = asyncio.create_task(sipp_call(dut, tmp_path, "call_uac_wait_bye", timeout=15))
        await dut.call_state("Talking")
        mark = len(dut.events.events)
        assert await dut.calls.hangup()
        idle = await wait_idle(dut, mark, timeout=1)
        assert idle.reason == "local hangup"
        assert_sipp_ok(await client)
