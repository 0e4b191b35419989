"""PRACK (RFC 3262) per the line's "Enable PRACK", both directions, against SIPp.

As UAS the device sends its 180 reliably to a caller that supports 100rel, repeats it until the PRACK
and stops then; no PRACK at all ends the INVITE with 500 after 64*T1 (T1 is 50 ms in these tests); a
caller that requires 100rel on a line without PRACK gets 420 with Unsupported: 100rel. As UAC it
advertises 100rel and PRACKs each reliable response once, in RSeq order: the SIPp scenario sends a
retransmission and an out-of-order one that must not be PRACKed (``scenarios/call_uas_prack.xml``).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from .conftest import SippServerFactory
from .device import RunningDevice, running_device
from .sipp import SippResult, free_port, run_sipp, scenario
from .test_calls_sipp import assert_sipp_ok


def door_line(**extra: Any) -> dict[str, Any]:
    """Line 1 as user ``door`` whose registrar never answers: calls to ``door`` arrive on it (direct
    IP calls have no "Enable PRACK"), and it may call out unregistered."""
    values: dict[str, Any] = {
        "SIP1 Enable Reg": 1,
        "SIP1 Phone Number": "door",
        "SIP1 Register Addr": "127.0.0.1",
        "SIP1 Register Port": free_port("udp"),
        "SIP1 Dial Off Line": 1,
        "Reg Fail Interval": 3600,
    }
    values.update(extra)
    return values


async def call_door(
    dut: RunningDevice, tmp_path: Path, name: str, header: str, timeout: float = 15
) -> SippResult:
    return await asyncio.to_thread(
        run_sipp,
        scenario(name),
        remote=f"127.0.0.1:{dut.sip_port}",
        extra=["-s", "door", "-mp", str(free_port("udp")), "-d", "300"],
        keys={"option_header": header},
        timeout=timeout,
        workdir=tmp_path / "sipp",
    )


def header(message: str, name: str) -> list[str]:
    return re.findall(rf"^{name}:\s*(.*?)\s*$", message, re.MULTILINE | re.IGNORECASE)


# --- as UAS ---------------------------------------------------------------------------------------


async def test_180_is_repeated_until_the_prack(tmp_path: Path) -> None:
    values = door_line(**{"SIP1 PRACK": 1, "SIP1 NoAnswerTime": 1})
    async with running_device(tmp_path / "dut", values) as dut:
        result = await call_door(dut, tmp_path, "call_uac_prack", "Supported")
        assert_sipp_ok(result)
        ended = await dut.call_state("Ended")
        assert ended.reason == "remote hangup"
    messages = result.received()
    ringing = [m for m in messages if m.startswith("SIP/2.0 180")]
    assert len(ringing) >= 2, f"the reliable 180 was not repeated before the PRACK\n{result.explain()}"
    assert {tuple(header(m, "RSeq")) for m in ringing} == {tuple(header(ringing[0], "RSeq"))}
    assert all(header(m, "Require") == ["100rel"] for m in ringing), result.explain()
    prack_ok = next(
        i
        for i, m in enumerate(messages)
        if m.startswith("SIP/2.0 200") and re.search(r"^CSeq: *2 PRACK", m, re.M)
    )
    assert not [m for m in messages[prack_ok:] if m.startswith("SIP/2.0 180")], "180 repeated after its PRACK"


async def test_no_prack_ends_the_invite_with_500(tmp_path: Path) -> None:
    values = door_line(**{"SIP1 PRACK": 1, "SIP1 Auto Answer": 0})
    async with running_device(tmp_path / "dut", values) as dut:
        loop = asyncio.get_running_loop()
        began = loop.time()
        result = await call_door(dut, tmp_path, "call_uac_refused_100rel", "Supported")
        assert_sipp_ok(result, ["SIP/2.0 500"])
        ended = await dut.call_state("Ended")
        assert "PRACK" in ended.reason, ended
        assert loop.time() - began >= 64 * 0.05
    assert len(result.received("SIP/2.0 180")) >= 5, result.explain()  # T1, 2, 4, 8, 16 T1 apart


async def test_require_100rel_without_prack_gets_420(tmp_path: Path) -> None:
    async with running_device(tmp_path / "dut", door_line()) as dut:
        result = await call_door(dut, tmp_path, "call_uac_refused_100rel", "Require")
        assert_sipp_ok(result, ["SIP/2.0 420"])
        await dut.device.bus.drain()
    (refusal,) = result.received("SIP/2.0 420")
    assert header(refusal, "Unsupported") == ["100rel"], refusal


async def test_require_100rel_with_prack_is_honoured(tmp_path: Path) -> None:
    values = door_line(**{"SIP1 PRACK": 1, "SIP1 NoAnswerTime": 1})
    async with running_device(tmp_path / "dut", values) as dut:
        result = await call_door(dut, tmp_path, "call_uac_prack", "Require")
        assert_sipp_ok(result)


# --- as UAC ---------------------------------------------------------------------------------------


async def test_each_reliable_response_is_pracked_once_in_order(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    extra = ["-mp", str(free_port("udp")), "-d", "500"]
    server = sipp_server_factory(scenario("call_uas_prack"), extra=extra)
    async with running_device(tmp_path / "dut", door_line(**{"SIP1 PRACK": 1})) as dut:
        await dut.calls.dial(f"sip:service@127.0.0.1:{server.port}", line=1)
        await dut.call_state("Talking", timeout=10)
        await dut.call_state("Ended", timeout=10)
        result = await asyncio.to_thread(server.wait, 10)
    assert_sipp_ok(result)
    pracks = result.received("PRACK")
    assert [header(m, "RAck") for m in pracks] == [["77 1 INVITE"], ["78 1 INVITE"]], result.explain()
    assert [header(m, "CSeq") for m in pracks] == [["2 PRACK"], ["3 PRACK"]]
