"""Fanvil Active URI (/cgi-bin/ConfigManApp.com) against a real device, SIPp peers and the door pins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portier.events import RelayChanged

from ..interop.sipp import SippServer, free_port, run_sipp, scenario
from .api_rig import VIEWER, ApiRig, api_rig

URI = "/cgi-bin/ConfigManApp.com"


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[ApiRig]:
    async with api_rig(tmp_path, {"Active Uri IP": "127.0.0.1"}) as rig:
        yield rig


def done(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    result: list[str] = response.json()["result"]["done"]
    return result


async def test_only_the_allowed_source_may_press_keys(rig: ApiRig) -> None:
    """Checked before the credentials: a host that is not allowed never learns whether they were right."""
    async with rig.client(VIEWER) as client, rig.client(auth=None) as anonymous:
        assert done(await client.get(URI, params={"key": "SPEAKER"})) == ["off hook"]
        assert (await anonymous.get(URI, params={"key": "SPEAKER"})).status_code == 401
        await rig.dut.set({"Active Uri IP": "127.0.0.2"})
        other = await client.get(URI, params={"key": "SPEAKER"})
        assert other.status_code == 403 and "127.0.0.1" in other.json()["error"]["description"]
        assert (await anonymous.get(URI, params={"key": "SPEAKER"})).status_code == 403
        await rig.dut.set({"Active Uri IP": ""})
        off = await client.get(URI, params={"key": "SPEAKER"})
        assert (
            off.status_code == 403 and "Restrict Active URI Source IP" in off.json()["error"]["description"]
        )
        await rig.dut.set({"Active Uri IP": "10.0.0.9, 127.0.0.0/8"})
        assert done(await client.get(URI, params={"key": "RELEASE"})) == ["on hook"]


async def test_speaker_number_enter_places_a_call_to_sipp(rig: ApiRig, tmp_path: Path) -> None:
    extra = ["-mp", str(free_port("udp")), "-d", "1500"]
    with SippServer(scenario("call_uas"), extra=extra, workdir=tmp_path / "sipp") as server:
        target = f"sip:service@127.0.0.1:{server.port}"
        async with rig.client(VIEWER) as client:
            steps = done(await client.get(URI, params={"key": f"SPEAKER;{target};ENTER"}))
        assert steps[:2] == ["off hook", f"typed {target}"] and steps[2].startswith(f"dialing {target} as ")
        talking = await rig.dut.call_state("Talking")
        assert steps[2].endswith(talking.call_id)
        ended = await rig.dut.call_state("Ended", after=rig.dut.events.events.index(talking))
        assert ended.reason == "remote hangup"
        sipp = await asyncio.to_thread(server.wait, 10)
    assert sipp.ok and sipp.received("ACK"), sipp.explain()


async def test_ok_answers_digits_go_as_dtmf_and_release_hangs_up(rig: ApiRig, tmp_path: Path) -> None:
    await rig.dut.set({"P2P Auto Answer": 0})
    caller = asyncio.create_task(asyncio.to_thread(
        run_sipp, scenario("call_uac_wait_bye"), remote=f"127.0.0.1:{rig.dut.sip_port}",
        extra=["-mp", str(free_port("udp"))], timeout=15, workdir=tmp_path / "sipp",
    ))  # fmt: skip
    async with rig.client(VIEWER) as client:
        ringing = await rig.dut.call_state("Ringing")
        assert done(await client.get(URI, params={"key": "OK"})) == [f"answered {ringing.call_id}"]
        await rig.dut.call_state("Talking")
        assert done(await client.get(URI, params={"key": "1;POUND"})) == ["sent DTMF 1", "sent DTMF #"]
        assert done(await client.get(URI, params={"key": "RELEASE"})) == [f"hung up {ringing.call_id}"]
        ended = await rig.dut.call_state("Ended")
    assert ended.reason == "local hangup"
    sipp = await caller
    assert sipp.ok and sipp.received("BYE"), sipp.explain()


async def test_typed_digits_are_dialled_by_ok(rig: ApiRig) -> None:
    """Digits typed over several requests make one number; with no line registered, 1001 cannot go
    anywhere, and the answer says so."""
    async with rig.client(VIEWER) as client:
        assert done(await client.get(URI, params={"key": "1;0"})) == ["typed 1", "typed 0"]
        assert done(await client.get(URI, params={"key": "0;1"})) == ["typed 0", "typed 1"]
        refused = await client.get(URI, params={"key": "OK"})
        assert refused.status_code == 400 and "'1001'" in refused.json()["error"]["description"], refused.text
        assert done(await client.get(URI, params={"key": "ENTER"})) == ["nothing to dial"]


async def test_f_lock_opens_the_outputs_whose_code_matches(rig: ApiRig) -> None:
    await rig.dut.set({"Output2 DTMF Trigger Code": "9999"})
    async with rig.client(VIEWER) as client:
        wrong = await client.get(URI, params={"key": "F_LOCK", "code": "0000"})
        missing = await client.get(URI, params={"key": "F_LOCK"})
        assert done(await client.get(URI, params={"key": "F_LOCK", "code": "1234"})) == ["opened relay 1"]
    assert wrong.status_code == 403 and missing.status_code == 400
    await rig.dut.device.bus.drain()
    relays = [(e.relay, e.active, e.cause) for e in rig.dut.events.events if isinstance(e, RelayChanged)]
    assert relays == [(1, True, "uri")]
    assert [r.active for r in rig.dut.device.service("door").relays()] == [True, False]


@pytest.mark.parametrize("key", ["SPEAKER;VOLUME_UP", "", "1;<script>"])
async def test_unknown_keys_refuse_the_whole_request(rig: ApiRig, key: str) -> None:
    async with rig.client(VIEWER) as client:
        response = await client.get(URI, params={"key": key})
        assert response.status_code == 400, response.text
        body: dict[str, Any] = response.json()
        assert body["error"]["param"] == "key"
        # nothing was typed: a later OK has nothing to dial
        assert done(await client.get(URI, params={"key": "OK"})) == ["nothing to dial"]
