"""Every /api route over real HTTP against a real device: its answer, and its main refusal.

Calls go to a real SIPp (a UAS that answers, a UAC that waits for our BYE); relays and inputs are
the door service's virtual pins; the event log is read back through subscribe/pull.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portier.events import DeviceStarted, RelayChanged

from ..interop.sipp import SippServer, free_port, run_sipp, scenario
from .api_rig import VIEWER, ApiRig, api_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[ApiRig]:
    async with api_rig(tmp_path) as rig:
        yield rig


def result(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True, body
    return body["result"]


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == status, body
    detail: dict[str, Any] = body["error"]
    return detail


# --- system -------------------------------------------------------------------------------------------


async def test_system_info_and_status(rig: ApiRig) -> None:
    async with rig.client() as client:
        info = result(await client.get("/api/system/info"))
        status = result(await client.get("/api/system/status"))
    assert info["model"] == "portier-A12"
    assert info["software_version"] and info["python_version"]
    assert len(info["mac"]) == 12 and int(info["mac"], 16) >= 0
    assert 0 <= info["uptime"] < 600
    assert {"sip", "door"} <= set(status["services"])
    assert status["settings_problems"] == []


async def test_without_credentials_is_401_with_challenges(rig: ApiRig) -> None:
    async with rig.client(auth=None) as client:
        response = await client.get("/api/system/info")
    error(response, 401)
    challenges = response.headers.get_list("www-authenticate")
    assert [c.split()[0] for c in challenges] == ["Digest", "Digest", "Basic"], challenges
    assert "algorithm=SHA-256" in challenges[0] and "algorithm=MD5" in challenges[1]


async def test_restart_answers_then_restarts_every_service(rig: ApiRig) -> None:
    """The answer comes first; long polls are answered as the device stops; then all is back."""
    events = rig.dut.events
    seen = len(events.events)
    async with rig.client() as client:
        channel = result(await client.get("/api/log/subscribe", params={"filter": "MessageReceived"}))["id"]
        waiting = asyncio.create_task(client.get("/api/log/pull", params={"id": channel, "timeout": 60}))
        await asyncio.sleep(0.2)
        assert result(await client.post("/api/system/restart")) == {"restarting": True}
        # the long poll is answered when the device stops, not after its 60 s
        assert result(await asyncio.wait_for(waiting, 10))["events"] == []
        await events.wait_for(lambda e: isinstance(e, DeviceStarted), 20, "the restart", after=seen)
        status = result(await client.get("/api/system/status"))
        async with rig.client(VIEWER) as viewer:
            error(await viewer.get("/api/system/restart"), 403)
    assert "sip" in status["services"]
    assert status["uptime"] < 20


# --- config -------------------------------------------------------------------------------------------


async def test_config_export_then_import_changes_one_value(rig: ApiRig) -> None:
    async with rig.client() as client:
        exported = await client.get("/api/config")
        assert exported.status_code == 200
        text = exported.text
        assert text.startswith("<<VOIP CONFIG FILE>>") and "\r\n" in text
        assert "Alarm Ring Duration" in text
        changed = text.replace(_line(text, "Alarm Ring Duration"), "Alarm Ring Duration :42")
        imported = result(await client.put("/api/config", content=changed.encode()))
    assert imported["changed"] == ["Alarm Ring Duration"]
    assert rig.dut.device.settings.current.door.basic.ringtone_duration == 42


async def test_config_import_with_a_bad_line_changes_nothing(rig: ApiRig) -> None:
    text = (
        "<<VOIP CONFIG FILE>>Version:2.0000000000\r\n<ALARM CONFIG MODULE>\r\n"
        "Alarm Ring Duration :42\r\nOutput1 Duration   :70000\r\n<<END OF FILE>>\r\n"
    )
    async with rig.client() as client:
        detail = error(await client.put("/api/config", content=text), 400)
    assert any(p.startswith("line 4:") and "Output1 Duration" in p for p in detail["problems"]), detail
    assert rig.dut.device.settings.current.door.basic.ringtone_duration == 5


async def test_config_needs_an_administrator(rig: ApiRig) -> None:
    async with rig.client(VIEWER) as viewer:
        error(await viewer.get("/api/config"), 403)
        error(await viewer.put("/api/config", content="<<VOIP CONFIG FILE>>\r\n<<END OF FILE>>\r\n"), 403)


def _line(text: str, key: str) -> str:
    return next(line for line in text.split("\r\n") if line.startswith(key))


# --- switches and io ----------------------------------------------------------------------------------


async def test_switch_on_off_and_status(rig: ApiRig) -> None:
    async with rig.client(VIEWER) as client:
        caps = result(await client.get("/api/switch/caps"))
        assert [s["switch"] for s in caps["switches"]] == [1, 2]
        assert caps["switches"][0]["duration"] == 5 and caps["switches"][0]["standard_status"] == "NO"
        on = result(await client.get("/api/switch/ctrl", params={"switch": 1, "action": "on"}))
        assert on["switches"] == [{"switch": 1, "active": True, "name": "Output1"}]
        status = result(await client.post("/api/switch/status"))
        assert [s["active"] for s in status["switches"]] == [True, False]
        off = result(await client.post("/api/switch/ctrl", params={"switch": 1, "action": "off"}))
        assert off["switches"][0]["active"] is False
    await rig.dut.device.bus.drain()
    relays = [e for e in rig.dut.events.events if isinstance(e, RelayChanged)]
    assert [(e.relay, e.active, e.cause) for e in relays] == [(1, True, "http"), (1, False, "http")]


async def test_switch_refuses_unknown_switch_and_action(rig: ApiRig) -> None:
    async with rig.client() as client:
        bad_switch = error(await client.get("/api/switch/ctrl", params={"switch": 3, "action": "on"}), 400)
        bad_action = error(await client.get("/api/switch/ctrl", params={"switch": 1, "action": "open"}), 400)
    assert bad_switch["param"] == "switch"
    assert bad_action["param"] == "action"


async def test_io_ports_follow_the_pins(rig: ApiRig) -> None:
    door = rig.dut.device.service("door")
    async with rig.client() as client:
        caps = result(await client.get("/api/io/caps"))
        assert {p["port"] for p in caps["ports"]} == {"input1", "input2", "tamper", "relay1", "relay2"}
        before = result(await client.get("/api/io/status", params={"port": "input1"}))["ports"][0]
        door.set_input(1, before["level"] != "high")
        after = result(await client.get("/api/io/status", params={"port": "input1"}))["ports"][0]
        assert after["level"] != before["level"]
        relay = result(await client.get("/api/io/ctrl", params={"port": "relay2", "action": "on"}))
        assert relay["ports"] == [{"port": "relay2", "type": "output", "state": 1, "level": None}]
        assert door.relays()[1].active
        detail = error(await client.get("/api/io/ctrl", params={"port": "input1", "action": "on"}), 400)
        assert "read only" in detail["description"]
        error(await client.get("/api/io/status", params={"port": "relay9"}), 400)


async def test_door_routes_answer_503_without_a_door_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portier.device

    without_door = [f for f in portier.device.SERVICES if "door" not in getattr(f, "__name__", "")]
    monkeypatch.setattr(portier.device, "SERVICES", without_door)
    async with api_rig(tmp_path) as rig, rig.client() as client:
        detail = error(await client.get("/api/switch/status"), 503)
        assert "door service" in detail["description"]
        error(await client.get("/api/io/status"), 503)


# --- calls and lines ----------------------------------------------------------------------------------


async def test_dial_to_sipp_status_and_hangup(rig: ApiRig, tmp_path: Path) -> None:
    """The dialled call is really established (SIPp gets our ACK), listed, and ended by SIPp's BYE."""
    extra = ["-mp", str(free_port("udp")), "-d", "1500"]
    with SippServer(scenario("call_uas"), extra=extra, workdir=tmp_path / "sipp") as server:
        async with rig.client(VIEWER) as client:
            target = f"sip:service@127.0.0.1:{server.port}"
            dialled = result(await client.post("/api/call/dial", params={"number": target}))
            session = dialled["session"]
            talking = await rig.dut.call_state("Talking")
            assert talking.call_id == session
            calls = result(await client.get("/api/call/status"))["sessions"]
            assert [(c["session"], c["direction"], c["state"]) for c in calls] == [
                (session, "outgoing", "Talking")
            ]
            ended = await rig.dut.call_state("Ended", after=rig.dut.events.events.index(talking))
            assert ended.reason == "remote hangup"
            assert result(await client.get("/api/call/status"))["sessions"] == []
        sipp = await asyncio.to_thread(server.wait, 10)
    assert sipp.ok and sipp.received("ACK"), sipp.explain()


async def test_answer_and_hangup_an_incoming_call(rig: ApiRig, tmp_path: Path) -> None:
    await rig.dut.set({"P2P Auto Answer": 0})
    caller = asyncio.create_task(asyncio.to_thread(
        run_sipp, scenario("call_uac_wait_bye"), remote=f"127.0.0.1:{rig.dut.sip_port}",
        extra=["-mp", str(free_port("udp"))], timeout=15, workdir=tmp_path / "sipp",
    ))  # fmt: skip
    async with rig.client() as client:
        ringing = await rig.dut.call_state("Ringing")
        error(await client.get("/api/call/answer", params={"session": "not-a-call"}), 404)
        answered = result(await client.get("/api/call/answer"))
        assert answered["session"] == ringing.call_id
        await rig.dut.call_state("Talking")
        hung_up = result(await client.get("/api/call/hangup", params={"session": ringing.call_id}))
        assert hung_up["session"] == ringing.call_id
        ended = await rig.dut.call_state("Ended")
        assert ended.reason == "local hangup"
        error(await client.get("/api/call/hangup"), 404)
    sipp = await caller
    assert sipp.ok and sipp.received("BYE"), sipp.explain()


async def test_dial_refusals(rig: ApiRig) -> None:
    async with rig.client() as client:
        number = error(await client.get("/api/call/dial", params={"number": "1001"}), 400)
        line = error(await client.get("/api/call/dial", params={"number": "1001", "line": 1}), 400)
        missing = error(await client.get("/api/call/dial"), 400)
    assert number["param"] == "number" and "1001" in number["description"]
    assert line["param"] == "line"
    assert missing["param"] == "number"


async def test_phone_status_lists_both_lines(rig: ApiRig) -> None:
    async with rig.client(VIEWER) as client:
        lines = result(await client.get("/api/phone/status"))["lines"]
    assert [(line["line"], line["status"]) for line in lines] == [(1, "Unapplied"), (2, "Unapplied")]


# --- event log ----------------------------------------------------------------------------------------


async def test_log_subscribe_and_pull_filtered_events(rig: ApiRig) -> None:
    async with rig.client() as client:
        caps = result(await client.get("/api/log/caps"))
        assert {"RelayChanged", "CallStateChanged"} <= set(caps["events"])
        channel = result(await client.get("/api/log/subscribe", params={"filter": "RelayChanged"}))["id"]
        assert result(await client.get("/api/log/pull", params={"id": channel}))["events"] == []
        result(await client.get("/api/switch/ctrl", params={"switch": 2, "action": "on"}))
        result(await client.get("/api/phone/status"))
        pulled = result(await client.get("/api/log/pull", params={"id": channel, "timeout": 5}))
        assert [(e["event"], e["params"]) for e in pulled["events"]] == [
            ("RelayChanged", {"relay": 2, "active": True, "cause": "http"})
        ]
        assert pulled["lost"] == 0
        first = pulled["events"][0]["id"]
        # a long poll: it waits until the relay is switched off, then answers at once
        waiting = asyncio.create_task(client.get("/api/log/pull", params={"id": channel, "timeout": 20}))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await rig.dut.device.service("door").switch(2, "off", "test")
        events = result(await asyncio.wait_for(waiting, 10))["events"]
        assert [(e["params"]["active"], e["params"]["cause"]) for e in events] == [(False, "test")]
        assert events[0]["id"] > first
        assert result(await client.get("/api/log/unsubscribe", params={"id": channel})) == {"closed": True}
        error(await client.get("/api/log/pull", params={"id": channel}), 404)


async def test_log_refusals(rig: ApiRig) -> None:
    async with rig.client() as client:
        detail = error(await client.get("/api/log/subscribe", params={"filter": "DoorBell"}), 400)
        assert "DoorBell" in detail["description"] and "RelayChanged" in detail["description"]
        error(await client.get("/api/log/subscribe", params={"include": "yesterday"}), 400)
        error(await client.get("/api/log/pull", params={"id": 12345}), 404)


async def test_unknown_routes_are_json_404_and_wrong_methods_405(rig: ApiRig) -> None:
    async with rig.client() as client:
        missing = error(await client.get("/api/door/open"), 404)
        assert "/api/door/open" in missing["description"]
        wrong = await client.delete("/api/system/info")
        error(wrong, 405)
        assert wrong.headers["allow"] == "GET"
