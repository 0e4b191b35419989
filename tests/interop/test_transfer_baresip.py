"""Blind transfer both ways with baresip 1.0.0 as the other parties (RFC 3515).

portier transfers: baresip "alice" calls the device, the device REFERs her to baresip "bob"; alice
calls bob (baresip accepts a REFER and reports with NOTIFYs), the device's call ends once alice
reports 200, and alice and bob then talk. baresip transfers: alice calls the device and runs her
``transfer`` command; the device calls bob, reports to alice, and ends alice's call once bob talks.
The device's events, the call log and bob's received audio (portier's tone after a transfer to bob)
decide.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from portier.events import CallStateChanged, CallTransferred
from portier.settings.records import Direction

from .audio_check import assert_tone, make_tone_wav
from .baresip import Baresip
from .device import RunningDevice, running_device
from .test_calls_baresip import blocking
from .test_transfer_sipp import call_log, state_of, states, transferred

PORTIER_HZ = 440.0
ALICE_HZ = 1000.0


def baresip(tmp_path: Path, user: str, hz: float | None = None, record: bool = False) -> Baresip:
    source = make_tone_wav(tmp_path / f"{user}.wav", hz, 30.0) if hz is not None else None
    return Baresip(
        tmp_path / user,
        user=user,
        audio_source_wav=source,
        record_dir=tmp_path / user / "rec" if record else None,
        lifetime=40,
    )


async def talking(dut: RunningDevice) -> str:
    return (await dut.call_state("Talking", timeout=15)).call_id


async def test_portier_blind_transfers_baresip_to_baresip(tmp_path: Path) -> None:
    with baresip(tmp_path, "alice", ALICE_HZ) as alice, baresip(tmp_path, "bob", 700.0, record=True) as bob:
        async with running_device(tmp_path / "dut", {}, audio_in=f"tone:{PORTIER_HZ}") as dut:
            await blocking(alice.dial, f"sip:door@127.0.0.1:{dut.sip_port}")
            call_id = await talking(dut)
            await asyncio.sleep(0.5)
            outcome = await dut.calls.transfer(call_id, bob.direct_uri)
            assert (outcome.result, outcome.kind, outcome.role) == ("succeeded", "blind", "transferor"), (
                f"{outcome}\n--- alice ---\n{alice.tail(60)}"
            )
            await blocking(bob.wait_event, "CALL_ESTABLISHED", 10.0)
            await state_of(dut, call_id, "Ended")
            await dut.device.bus.drain()
            assert states(dut, call_id)[-2:] == [("Held", ""), ("Ended", f"transferred to {bob.direct_uri}")]
            assert [(r.direction, r.remote) for r in call_log(dut)] == [
                (Direction.INCOMING, remote(dut, call_id))
            ]
            await asyncio.sleep(2.0)  # alice and bob talk, without the device
            await blocking(bob.hangup)
            await blocking(bob.wait_event, "CALL_CLOSED", 10.0)
        trace = alice.log
        heard = bob.recordings("received")
    assert f"Refer-To: <{bob.direct_uri}>" in trace, trace[-3000:]
    assert heard, "bob recorded nothing"
    print("bob heard", assert_tone(heard[-1], ALICE_HZ, min_active=1.5))


def remote(dut: RunningDevice, call_id: str) -> str:
    return next(
        e.remote for e in dut.events.events if isinstance(e, CallStateChanged) and e.call_id == call_id
    )


async def test_baresip_blind_transfers_portier_to_baresip(tmp_path: Path) -> None:
    with baresip(tmp_path, "alice", ALICE_HZ) as alice, baresip(tmp_path, "bob", 700.0, record=True) as bob:
        async with running_device(tmp_path / "dut", {}, audio_in=f"tone:{PORTIER_HZ}") as dut:
            await blocking(alice.dial, f"sip:door@127.0.0.1:{dut.sip_port}")
            call_id = await talking(dut)
            await blocking(alice.wait_event, "CALL_ESTABLISHED", 10.0)
            await blocking(alice.command, "transfer", bob.direct_uri)
            outcome = await transferred(dut, timeout=20)
            assert (outcome.result, outcome.role, outcome.call_id) == ("succeeded", "transferee", call_id), (
                f"{outcome}\n--- alice ---\n{alice.tail(60)}"
            )
            await blocking(bob.wait_event, "CALL_ESTABLISHED", 10.0)
            await asyncio.sleep(2.0)
            await dut.calls.hangup(outcome.new_call_id)
            await state_of(dut, outcome.new_call_id, "Ended")
            await dut.device.bus.drain()
            # alice hangs up when she hears 200 (baresip does), else the device does once bob talks
            assert states(dut, call_id)[-1] in [
                ("Ended", "remote hangup"), ("Ended", f"transferred to {bob.direct_uri}")
            ]  # fmt: skip
            newest_first = [r.direction for r in call_log(dut)]
            assert newest_first == [Direction.OUTGOING, Direction.INCOMING]
            assert [e for e in dut.events.events if isinstance(e, CallTransferred)] == [outcome]
        heard = bob.recordings("received")
    assert heard, "bob recorded nothing"
    print("bob heard", assert_tone(heard[-1], PORTIER_HZ, min_active=1.5))
