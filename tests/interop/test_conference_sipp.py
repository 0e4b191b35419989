"""The 3-way conference's signalling against SIPp: LOCAL resumes a held party and wires both streams
through the mixer, and a party that leaves gives the other its own audio back; SERVER dials the
line's conference room and transfers both parties there. (What the parties hear in a LOCAL
conference is proven with baresip and FFT in ``test_conference_baresip.py``.)

After each the persistent call log is read back: both parties called in and were answered
(incoming, never missed); the room the SERVER conference dialled is an outgoing call. Each SIPp
party calls from a port of its own, so the log's remote tells them apart."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

from portier.media.mixer import PartySource
from portier.phone.call import Call
from portier.settings.records import Direction

from .conftest import SippServerFactory
from .device import RunningDevice, running_device
from .sipp import SippResult, free_port, scenario
from .test_call_waiting import door_call, sipp_at
from .test_calls_prack import door_line
from .test_calls_sipp import assert_sipp_ok
from .test_policy_incoming import call_log
from .test_transfer_sipp import SUCCESS, header, state_of, states, transfers

TRANSFEREE = "transfer_transferee"


async def party(
    dut: RunningDevice, tmp_path: Path, name: str, port: int, *, keys: Mapping[str, str] | None = None,
    hold_ms: int = 500,
) -> SippResult:
    """A conference party: SIPp scenario ``name`` calls ``door`` from ``port``."""
    return await door_call(dut, tmp_path, name, hold_ms=hold_ms, local_port=port, keys=keys)


async def ring_second_and_answer(dut: RunningDevice, first: str) -> str:
    """The second call rings as a waiting call; answering it puts the first on hold."""
    waiting = await dut.events.wait_for(
        lambda e: getattr(e, "state", "") == "Ringing" and getattr(e, "call_id", first) != first,
        15,
        "the second call ringing",
    )
    second: str = waiting.call_id  # type: ignore[attr-defined]
    assert dut.calls.answer(second)
    await state_of(dut, second, "Talking")
    await state_of(dut, first, "Held")
    return second


def mixed(call: Call) -> bool:
    return call.stream is not None and isinstance(call.stream.source, PartySource)


async def test_local_conference_resumes_the_held_call_and_survives_one_leaving(tmp_path: Path) -> None:
    values = door_line(**{"SIP1 Respond 182": 1, "P1 Auto Resume Current": 0})
    a_port, b_port = free_port("udp"), free_port("udp")
    async with running_device(tmp_path / "dut", values, audio_in="tone:440") as dut:
        first = asyncio.create_task(party(dut, tmp_path, "call_waiting_first", a_port, hold_ms=2500))
        a = (await dut.call_state("Talking", timeout=15)).call_id
        second = asyncio.create_task(party(dut, tmp_path, "call_waiting_second", b_port))
        b = await ring_second_and_answer(dut, a)
        await dut.calls.conference(a, b)
        call_a, call_b = dut.calls.calls[a], dut.calls.calls[b]
        assert call_a.state == "Talking" and mixed(call_a) and mixed(call_b)
        assert_sipp_ok(await first)  # resumed by a sendrecv re-INVITE, then hung up after 2.5 s
        await state_of(dut, a, "Ended")
        assert call_b.state == "Talking" and not mixed(call_b), "b talks to the device alone again"
        assert call_b.stream is not None and call_b.stream.source.read(160).any(), "b hears the microphone"
        assert await dut.calls.hangup(b)
        assert_sipp_ok(await second)
        await dut.device.bus.drain()
        assert states(dut, a) == [
            ("Ringing", ""), ("Talking", ""), ("Held", ""), ("Talking", ""), ("Ended", "remote hangup")
        ]  # fmt: skip
        await state_of(dut, b, "Ended")
        # newest first: b (hung up by the device) after a (who left the conference)
        assert await call_log(dut) == [
            (Direction.INCOMING, "SIP1", sipp_at(b_port)),
            (Direction.INCOMING, "SIP1", sipp_at(a_port)),
        ]


async def test_server_conference_dials_the_room_and_transfers_both_parties_there(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    room = sipp_server_factory(scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", "4000"])
    room_uri = f"sip:room@127.0.0.1:{room.port}"
    values = door_line(**{"SIP1 Respond 182": 0, "SIP1 Use SRV Mixer": 1, "SIP1 SRV Mixer Uri": room_uri})
    a_port, b_port = free_port("udp"), free_port("udp")
    async with running_device(tmp_path / "dut", values) as dut:
        # each party is held once (call waiting for the first, the blind transfer for the second)
        first = asyncio.create_task(party(dut, tmp_path, TRANSFEREE, a_port, keys=SUCCESS))
        a = (await dut.call_state("Talking", timeout=15)).call_id
        second = asyncio.create_task(party(dut, tmp_path, TRANSFEREE, b_port, keys=SUCCESS))
        b = await ring_second_and_answer(dut, a)
        joined = await dut.calls.conference(a, b)
        assert isinstance(joined, Call) and joined.remote == room_uri and joined.state == "Talking"
        for transferee in (await first, await second):
            assert_sipp_ok(transferee)
            assert header(transferee.received("REFER")[0], "Refer-To") == f"<{room_uri}>"
        assert [(t.call_id, t.target, t.result) for t in transfers(dut)] == [
            (a, room_uri, "succeeded"), (b, room_uri, "succeeded")
        ]  # fmt: skip
        assert_sipp_ok(await asyncio.to_thread(room.wait, 15))  # the device stayed in the room
        await state_of(dut, joined.call_id, "Ended")
        # both parties were answered here, then transferred in turn; the room is the device's own call
        assert await call_log(dut) == [
            (Direction.OUTGOING, "SIP1", room_uri),
            (Direction.INCOMING, "SIP1", sipp_at(b_port)),
            (Direction.INCOMING, "SIP1", sipp_at(a_port)),
        ]
