"""Action URL (manual 9.19) against a real HTTP server on 127.0.0.1 that records every request.

The device runs with a URL per event that carries every variable; Kamailio registers line 1 (and
refuses line 2's password), SIPp calls in (answered, then cancelled before an answer), takes a call
the device places, is held and resumed by the device (SIPp checks the sendonly and the sendrecv
re-INVITE) and sends the door code as SIP INFO digits, which close and reopen relay 1. The alarm
input, the tamper switch and a call button move on the door's virtual pins; DND and the call
forwards are switched as a user switches them, and line 1's registration is switched off at the
end. Each request's path names the event and its query is checked variable by variable.

Every Action URL setting is requested on the wire by a test of this file or another (``ELSEWHERE``),
except Mute On/Off: portier has no mute event yet (``UNREPORTED``).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from portier import MODEL, __version__
from portier.certificates import make_self_signed
from portier.device import Device, RuntimeOptions
from portier.door.service import DoorService
from portier.events import ButtonChanged, CallStateChanged, DtmfReceived, InputChanged, RelayChanged
from portier.phone.feature_codes import Feature
from portier.phone.sip_service import device_mac
from portier.services.action_url import URL_FIELDS, ActionUrlService
from portier.services.action_url_vars import VARIABLES
from portier.sip.tls import TlsSettings, server_context

from .conftest import KamailioFactory, SippServerFactory
from .device import RunningDevice, line_values, running_device
from .sipp import SippResult, free_port, run_sipp, scenario
from .test_calls_sipp import assert_sipp_ok
from .test_transfer_sipp import SUCCESS, sipp_client

HOST = "127.0.0.1"
EVERY = "&".join(f"{name}=${name}" for name in VARIABLES)
EVENTS = (
    "boot_completed", "reg_on", "reg_off", "reg_failed", "incoming_call", "outgoing_call", "call_active",
    "call_stop", "missed_call", "offhook", "onhook", "idle", "ringing", "talking", "hold_on", "hold_off",
    "dtmf_received", "output_triggered", "output_reset", "input_triggered", "tamper_alarm",
    "button_pressed", "sip_message", "dnd_on", "dnd_off", "always_fwd_on", "always_fwd_off",
    "busy_fwd_on", "busy_fwd_off", "no_answer_fwd_on", "no_answer_fwd_off",
)  # fmt: skip
"""The settings ``test_every_event_and_variable`` drives on the wire, each with every variable."""
ELSEWHERE = {
    "transfer": "test_a_blind_transfer_requests_the_transfer_url_about_its_call",
    "start_reboot": "test_urls_apply_live_and_only_http_is_requested",
    "reset": "test_urls_apply_live_and_only_http_is_requested",
    "ip_change": "test_network_watch.py",
}
UNREPORTED = {"mute_on", "mute_off"}
"""No event says the microphone was muted (see ``action_url_events``): these URLs are never requested."""
FORWARDS = {
    "always_fwd": Feature.FORWARD_UNCONDITIONAL,
    "busy_fwd": Feature.FORWARD_BUSY,
    "no_answer_fwd": Feature.FORWARD_NO_ANSWER,
}
DISPLAY = "Tür & Tor"


@dataclass
class HttpRequest:
    method: str
    target: str
    headers: dict[str, str]

    @property
    def event(self) -> str:
        return urlsplit(self.target).path.strip("/")

    @property
    def query(self) -> dict[str, str]:
        parsed = parse_qs(urlsplit(self.target).query, keep_blank_values=True)
        return {name: values[0] for name, values in parsed.items()}


@dataclass
class HttpRecorder:
    """A small HTTP/1.1 server in the test's loop: answers 200 to everything and keeps each request.
    With ``answer=False`` it reads requests and never answers (a server that hangs)."""

    answer: bool = True
    tls: ssl.SSLContext | None = None
    requests: list[HttpRequest] = field(default_factory=list)
    open_connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> HttpRecorder:
        self._server = await asyncio.start_server(self._serve, HOST, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    def url(self, path: str, query: str = EVERY) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}/{path}?{query}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            while True:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                line, *fields = head.decode("latin-1").split("\r\n")
                method, target, _ = line.split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields if f)
                }
                self.requests.append(HttpRequest(method, target, headers))
                self._changed.set()
                if not self.answer:
                    await reader.read()  # until the client gives up and closes
                    return
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, OSError, TimeoutError):  # OSError: resets, TLS aborts
            pass
        finally:
            self.open_connections -= 1
            writer.close()

    def of(self, event: str) -> list[HttpRequest]:
        return [r for r in self.requests if r.event == event]

    async def wait_for(
        self, test: Callable[[list[HttpRequest]], bool], what: str, timeout: float = 10
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not test(self.requests):
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "\n".join(r.target for r in self.requests)
                raise AssertionError(f"no {what} within {timeout} s; requests so far:\n{seen}")
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_event(self, event: str, count: int = 1, timeout: float = 10) -> HttpRequest:
        await self.wait_for(
            lambda rs: sum(r.event == event for r in rs) >= count, f"{count}x {event}", timeout
        )
        return self.of(event)[count - 1]


async def sipp_uac(
    dut: RunningDevice,
    tmp_path: Path,
    name: str,
    user: str,
    hold_ms: int,
    keys: Mapping[str, str] | None = None,
) -> tuple[SippResult, int]:
    """Run UAC scenario ``name`` calling ``user`` at the device (in a thread); SIPp's port comes back
    too, since it is in the From URI the device reports as ``$remote``."""
    port = free_port("udp")
    result = await asyncio.to_thread(
        run_sipp,
        scenario(name),
        remote=f"{HOST}:{dut.sip_port}",
        local_port=port,
        extra=["-s", user, "-mp", str(free_port("udp")), "-d", str(hold_ms)],
        keys=keys,
        timeout=15,
        workdir=tmp_path / "sipp",
    )
    return result, port


async def answered_call(
    dut: RunningDevice,
    tmp_path: Path,
    name: str,
    keys: Mapping[str, str] | None = None,
    *,
    while_talking: Callable[[str], Awaitable[None]] | None = None,
) -> tuple[str, dict[str, str]]:
    """SIPp runs UAC scenario ``name`` to ``alice`` (line 1), the device answers it by hand (Auto
    Answer is off) and runs ``while_talking`` on it; the call's id and its call variables come back."""
    mark = len(dut.events.events)
    client = asyncio.create_task(sipp_uac(dut, tmp_path, name, "alice", 300, keys))
    ringing = await dut.call_state("Ringing", after=mark)
    assert ringing.line == 1
    assert dut.calls.answer(ringing.call_id)
    if while_talking is not None:
        await dut.call_state("Talking", after=mark)
        await while_talking(ringing.call_id)
    result, sipp_port = await client
    assert result.ok, result.explain()
    return ringing.call_id, {
        "remote": f"sip:sipp@{HOST}:{sipp_port}",
        "display_remote": "SIPp",  # the From display name (the user part is "sipp")
        "call_id": ringing.call_id,
    }


def door(dut: RunningDevice) -> DoorService:
    service: DoorService = dut.device.service("door")
    return service


def device_values() -> dict[str, str]:
    return {"mac": device_mac(), "ip": HOST, "model": MODEL, "firmware": __version__}


def account(user: str, registrar: int, display: str = "") -> dict[str, str]:
    url = f"sip:{user}@{HOST}:{registrar}"
    return {
        "active_url": url,
        "active_user": user,
        "active_host": HOST,
        "local": url,
        "display_local": display,
    }


NO_CALL = {"remote": "", "display_remote": "", "call_id": ""}


def expect(request: HttpRequest, *parts: Mapping[str, str]) -> None:
    expected = device_values()
    for part in parts:
        expected.update(part)
    assert request.query == expected, f"{request.event}: {request.target}"


def events_of_call(recorder: HttpRecorder, call_id: str) -> list[str]:
    return [r.event for r in recorder.requests if r.query.get("call_id") == call_id]


async def test_every_event_and_variable(
    tmp_path: Path, kamailio_factory: KamailioFactory, sipp_server_factory: SippServerFactory
) -> None:
    assert set(EVENTS) | set(ELSEWHERE) | UNREPORTED == set(URL_FIELDS), "an Action URL nobody requests"
    kamailio = kamailio_factory()
    registrar = kamailio.udp_port
    uas = sipp_server_factory(scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", "300"])
    async with HttpRecorder() as http:
        values: dict[str, Any] = {
            **line_values(1, "alice", "alice-secret", registrar),
            **line_values(2, "bob", "wrong-secret", registrar),
            "SIP1 Display Name": DISPLAY,
            "SIP1 Auto Answer": 0,
            "Output1 DTMF Trigger": 1,  # the default codes: 1234 closes relay 1, 4321 opens it
            "Input1 Detect": 1,  # LOW_LEVEL: the contact closing to ground triggers
            "Enable Tamper": 1,
            **{f"intercom.action_url.{event}": http.url(event) for event in (*EVENTS, *UNREPORTED)},
        }
        line1 = account("alice", registrar, DISPLAY)
        async with running_device(tmp_path / "dut", values) as dut:
            # setup completed, registered, registration failed
            expect(await http.wait_event("boot_completed"), line1, NO_CALL)
            expect(await http.wait_event("reg_on"), line1, NO_CALL)
            expect(await http.wait_event("reg_failed"), account("bob", registrar), NO_CALL)
            assert http.requests[0].headers["user-agent"] == f"{MODEL} {__version__}"

            # an incoming call on line 1, answered, then hung up by SIPp
            call_id, answered = await answered_call(dut, tmp_path, "call_uac_bye")
            await http.wait_event("idle")
            assert events_of_call(http, call_id) == [
                "offhook", "incoming_call", "ringing", "call_active", "talking",
                "call_stop", "onhook", "idle",
            ]  # fmt: skip
            for request in http.requests:
                if request.query["call_id"] == call_id:
                    expect(request, line1, answered)

            # a missed call: SIPp cancels before anyone answers
            mark = len(dut.events.events)
            result, sipp_port = await sipp_uac(dut, tmp_path, "call_cancel", "alice", 300)
            assert result.ok, result.explain()
            missed = await dut.call_state("Ended", after=mark)
            await http.wait_event("idle", 2)
            assert events_of_call(http, missed.call_id) == [
                "offhook", "incoming_call", "ringing", "call_stop", "missed_call", "onhook", "idle",
            ]  # fmt: skip
            expect(
                http.of("missed_call")[0],
                line1,
                {
                    "remote": f"sip:sipp@{HOST}:{sipp_port}",
                    "display_remote": "SIPp",
                    "call_id": missed.call_id,
                },
            )

            # an outgoing call on line 1 to a SIPp that answers and hangs up
            call = await dut.calls.dial(f"sip:service@{HOST}:{uas.port}", line=1)
            await http.wait_event("idle", 3)
            assert (await asyncio.to_thread(uas.wait, 10)).ok
            assert events_of_call(http, call.call_id) == [
                "offhook", "outgoing_call", "call_active", "talking", "call_stop", "onhook", "idle",
            ]  # fmt: skip
            outgoing = {"remote": f"sip:service@{HOST}:{uas.port}", "display_remote": "service"}
            expect(http.of("outgoing_call")[0], line1, outgoing, {"call_id": call.call_id})

            # the device holds the call and resumes it: SIPp's scenario fails unless the first
            # re-INVITE is sendonly/inactive and the second sendrecv; "Unhold" is not a second
            # "Call Established"
            async def hold_and_resume(held: str) -> None:
                await dut.calls.hold(held)
                await dut.calls.hold(held, resume=True)

            call_id, held = await answered_call(
                dut, tmp_path, "call_waiting_first", while_talking=hold_and_resume
            )
            await http.wait_event("idle", 4)
            assert events_of_call(http, call_id) == [
                "offhook", "incoming_call", "ringing", "call_active", "talking", "hold_on", "hold_off",
                "call_stop", "onhook", "idle",
            ]  # fmt: skip
            for request in http.requests:
                if request.query["call_id"] == call_id:
                    expect(request, line1, held)

            # the door code and the reset code as SIP INFO digits: one request per digit about the
            # call; relay 1 closes on the code and opens on the reset code ("door opened/closed")
            start = len(http.requests)
            code = dict(zip(["c1", "c2", "c3", "c4", "r1", "r2", "r3", "r4"], "12344321", strict=True))
            call_id, coded = await answered_call(dut, tmp_path, "call_info_code", code)
            await http.wait_event("idle", 5)
            assert events_of_call(http, call_id) == [
                "offhook", "incoming_call", "ringing", "call_active", "talking", *["dtmf_received"] * 8,
                "call_stop", "onhook", "idle",
            ]  # fmt: skip
            for request in http.requests:
                if request.query["call_id"] == call_id:
                    expect(request, line1, coded)
            door_and_digits = [
                r.event for r in http.requests[start:] if r.event.startswith(("dtmf", "output"))
            ]
            assert door_and_digits == [
                *["dtmf_received"] * 4, "output_triggered", *["dtmf_received"] * 4, "output_reset"
            ]  # fmt: skip
            digits = [e for e in dut.events.events if isinstance(e, DtmfReceived)]
            assert ["".join(e.digit for e in digits), {e.method for e in digits}] == ["12344321", {"info"}]
            relay = [e for e in dut.events.events if isinstance(e, RelayChanged)]
            assert relay == [RelayChanged(1, True, "dtmf"), RelayChanged(1, False, "dtmf")]
            expect(http.of("output_triggered")[0], line1, NO_CALL)
            expect(http.of("output_reset")[0], line1, NO_CALL)

            # the door's pins: input 1's contact closes and opens again (one alarm, at the start),
            # the tamper switch is pulled off the wall, call button 1 is pressed and let go
            start = len(http.requests)
            door(dut).set_input(1, False)
            await dut.events.wait_for(lambda e: e == InputChanged(1, True), 5, "input 1 triggered")
            door(dut).set_input(1, True)
            await dut.events.wait_for(lambda e: e == InputChanged(1, False), 5, "input 1 at rest")
            door(dut).set_input(0, True)
            await dut.events.wait_for(lambda e: e == InputChanged(0, True), 5, "the tamper alarm")
            door(dut).press(1)
            await dut.events.wait_for(lambda e: e == ButtonChanged(1, True), 5, "button 1 pressed")
            door(dut).release(1)
            await dut.events.wait_for(lambda e: e == ButtonChanged(1, False), 5, "button 1 released")
            await http.wait_event("button_pressed")
            await dut.device.bus.drain()
            pins = http.requests[start:]
            assert [r.event for r in pins] == ["input_triggered", "tamper_alarm", "button_pressed"]
            for request in pins:
                expect(request, line1, NO_CALL)

            # a SIP MESSAGE to line 1's user
            result, _ = await sipp_message(dut, tmp_path, "alice", "hello door")
            assert result.ok, result.explain()
            expect(await http.wait_event("sip_message"), line1, NO_CALL)

            # DND switched on and off, and each call forward on and off as a user switches them
            # (with its number): read per call, so the line stays registered
            line_events = len(dut.events.line(1))
            await dut.set({"SIP1 Enable DND": 1})
            expect(await http.wait_event("dnd_on"), line1, NO_CALL)
            await dut.set({"SIP1 Enable DND": 0})
            expect(await http.wait_event("dnd_off"), line1, NO_CALL)
            for name, feature in FORWARDS.items():
                switched_on = await dut.sip.features.set(1, feature, True, "7001")
                assert (switched_on.done, switched_on.via) == (True, "setting"), switched_on
                expect(await http.wait_event(f"{name}_on"), line1, NO_CALL)
                switched_off = await dut.sip.features.set(1, feature, False)
                assert (switched_off.done, switched_off.via) == (True, "setting"), switched_off
                expect(await http.wait_event(f"{name}_off"), line1, NO_CALL)
            await dut.device.bus.drain()
            toggles = [r.event for r in http.requests if r.event.endswith(("_fwd_on", "_fwd_off"))]
            assert toggles == [f"{name}_{state}" for name in FORWARDS for state in ("on", "off")]
            assert dut.events.line(1)[line_events:] == [], "a switched feature must not re-register"

            # line 1's registration switched off: unregistered, "Registration Disabled" once
            await dut.set({"SIP1 Enable Reg": 0})
            expect(await http.wait_event("reg_off"), line1, NO_CALL)
            await dut.events.line_status(1, "Unapplied")
            await dut.device.bus.drain()
            assert len(http.of("reg_off")) == 1
            assert not http.of("mute_on") and not http.of("mute_off"), "no mute event exists yet"
        assert all(r.method == "GET" for r in http.requests)


async def sipp_message(dut: RunningDevice, tmp_path: Path, to_user: str, text: str) -> tuple[SippResult, int]:
    """SIPp sends one MESSAGE with ``text`` to ``to_user`` at the device."""
    port = free_port("udp")
    result = await asyncio.to_thread(
        run_sipp,
        scenario("message_uac"),
        remote=f"{HOST}:{dut.sip_port}",
        local_port=port,
        keys={"user": "desk", "to_user": to_user, "text": text},
        timeout=10,
        workdir=tmp_path / "sipp",
    )
    return result, port


async def test_display_remote_is_the_name_in_the_callers_from(tmp_path: Path) -> None:
    """``$display_remote`` is the display name SIPp puts in From (quoted with UTF-8 and "&", or a bare
    token), percent-encoded; without a name it is the caller's user part, as a phone shows it."""
    query = "name=$display_remote&remote=$remote"
    async with HttpRecorder() as http:
        values = {"intercom.action_url.incoming_call": http.url("incoming", query)}
        async with running_device(tmp_path / "dut", values) as dut:
            for number, (display, expected) in enumerate(
                [('"Tür & Tor Nord"', "Tür & Tor Nord"), ("Hall", "Hall"), ("", "sipp")], start=1
            ):
                name = f"{display} " if display else ""
                text = scenario("call_uac_bye").read_text().replace('From: "SIPp" <', f"From: {name}<")
                path = tmp_path / f"call_uac_display_{number}.xml"
                path.write_bytes(text.encode())  # UTF-8 inside the CDATA, sent as it is
                port = free_port("udp")
                result = await asyncio.to_thread(
                    run_sipp,
                    path,
                    remote=f"{HOST}:{dut.sip_port}",
                    local_port=port,
                    extra=["-s", "door", "-mp", str(free_port("udp")), "-d", "100"],
                    timeout=15,
                    workdir=tmp_path / f"sipp-{number}",
                )
                assert result.ok, result.explain()
                request = await http.wait_event("incoming", number)
                assert request.query == {"name": expected, "remote": f"sip:sipp@{HOST}:{port}"}
            assert "name=T%C3%BCr%20%26%20Tor%20Nord&" in http.of("incoming")[0].target


async def test_a_blind_transfer_requests_the_transfer_url_about_its_call(tmp_path: Path) -> None:
    """The device transfers a call from SIPp (REFER, 202, NOTIFY 200): "Transfer" is requested once,
    with the transferred call's id and remote party."""
    query = "call_id=$call_id&remote=$remote&name=$display_remote"
    async with HttpRecorder() as http:
        values = {"intercom.action_url.transfer": http.url("transfer", query)}
        async with running_device(tmp_path / "dut", values) as dut:
            client = asyncio.create_task(sipp_client(dut, tmp_path, "transfer_transferee", keys=SUCCESS))
            talking = await dut.call_state("Talking", timeout=15)
            outcome = await dut.calls.transfer(talking.call_id, "sip:carol@127.0.0.1:5999")
            assert_sipp_ok(await client)
            assert outcome.result == "succeeded"
            request = await http.wait_event("transfer")
            assert request.query == {"call_id": talking.call_id, "remote": talking.remote, "name": "SIPp"}
            await dut.call_state("Ended")
            await dut.device.bus.drain()
            await asyncio.sleep(0.5)  # a second request would be on its way by now
            assert [r.event for r in http.requests] == ["transfer"], "one transfer, one request"


async def test_a_dead_or_hanging_server_never_holds_up_a_call(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The incoming-call URL hangs (the server never answers), the established URL points at a closed
    port: the call is answered and ends all the same, and both failures are logged, in order."""
    caplog.set_level(logging.INFO, logger="portier.services.action_url")
    dead = free_port("tcp")
    async with HttpRecorder(answer=False) as hanging:
        values = {
            "intercom.action_url.incoming_call": hanging.url("incoming"),
            "intercom.action_url.call_active": f"http://{HOST}:{dead}/established?id=$call_id",
        }
        async with running_device(tmp_path / "dut", values) as dut:
            result, _ = await sipp_uac(dut, tmp_path, "call_uac_bye", "door", 300)
            assert result.ok, result.explain()
            ended = await dut.call_state("Ended")
            assert "Talking" in [e.state for e in dut.events.events if isinstance(e, CallStateChanged)]
            assert hanging.open_connections == 1, "the hanging request should still be waiting"
            assert len(hanging.requests) == 1
            refused = f"/established?id={ended.call_id.replace('@', '%40')} failed: cannot connect"

            def logged(text: str) -> bool:
                return any(text in r.getMessage() for r in caplog.records)

            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while not logged(refused) and loop.time() < deadline:
                await asyncio.sleep(0.05)
            messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
            timeout = next(i for i, m in enumerate(messages) if "no answer within 3 s" in m)
            assert '"Incoming Call"' in messages[timeout]
            assert f"{HOST}:{hanging.port}/incoming?mac=" in messages[timeout]
            connect = next(i for i, m in enumerate(messages) if refused in m)
            assert '"Call Established"' in messages[connect] and f"{HOST}:{dead}" in messages[connect]
            assert timeout < connect
        assert hanging.open_connections == 0


async def test_urls_apply_live_and_only_http_is_requested(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="portier.services.action_url")
    async with HttpRecorder() as http, running_device(tmp_path / "dut", {}) as dut:
        bus = dut.device.bus
        bus.publish(RelayChanged(2, True, "http"))  # no URL set yet: nothing is requested
        await bus.drain()
        await dut.set({"Output Triggered Url": http.url("door", "mac=$mac&user=$active_user&x=$nothing")})
        bus.publish(RelayChanged(2, True, "http"))
        request = await http.wait_event("door")
        assert request.query == {"mac": device_mac(), "user": "", "x": "$nothing"}

        await dut.set({"Output Triggered Url": f"ftp://{HOST}:{http.port}/door"})
        assert any(
            "will not be requested: only http and https URLs are requested, not ftp:" in r.getMessage()
            and '"Output Triggered"' in r.getMessage()
            for r in caplog.records
        )
        bus.publish(RelayChanged(2, True, "http"))

        # a reboot reports itself before the services stop, and the setup again after
        await dut.set(
            {"Start Reboot Url": http.url("reboot", ""), "Boot Completed Url": http.url("boot", "")}
        )
        await dut.device.reboot()
        await http.wait_event("boot")
        assert [r.event for r in http.requests] == ["door", "reboot", "boot"]

        # a factory reset reports itself before the settings (and with them every URL) are gone
        await dut.set({"Reset Phone Url": http.url("reset", "mac=$mac")})
        await dut.device.factory_reset()
        assert (await http.wait_event("reset")).query == {"mac": device_mac()}
        await dut.device.bus.drain()
        assert [r.event for r in http.requests] == ["door", "reboot", "boot", "reset"]
        assert dut.device.settings.current.intercom.action_url.boot_completed == ""
    assert any(
        "ftp://" in r.getMessage() and "not requested: only http" in r.getMessage() for r in caplog.records
    )


async def test_ip_is_the_address_the_server_sees(tmp_path: Path) -> None:
    """Without a bound SIP address ``$ip`` is the address this host sends from toward the URL's host."""
    service = ActionUrlService(Device(tmp_path, RuntimeOptions()))
    assert await service._address(f"http://{HOST}:8080/x?ip=$ip") == HOST
    assert await service._address("http://localhost/x") == HOST  # a name, resolved off the loop
    assert await service._address("http://$ip/x") == ""
    bound = ActionUrlService(Device(tmp_path / "bound", RuntimeOptions(sip_host=HOST)))
    assert await bound._address("http://[::1]/x") == HOST


async def test_https_with_a_self_signed_server_unless_verification_is_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """ "Permission Certificate" (verify the server) off, the factory default: a self-signed HTTPS server
    is requested like any other; on, with nothing trusted, the request fails with the reason logged."""
    caplog.set_level(logging.INFO, logger="portier.services.action_url")
    cert, key = make_self_signed("action-url.test", hosts=[HOST])
    tls = server_context(TlsSettings(certificate_pem=cert, key_pem=key))
    async with HttpRecorder(tls=tls) as https, running_device(tmp_path / "dut", {}) as dut:
        await dut.set({"Output Triggered Url": https.url("door", "relay=on&mac=$mac")})
        dut.device.bus.publish(RelayChanged(1, True, "http"))
        assert (await https.wait_event("door")).query == {"relay": "on", "mac": device_mac()}
        await dut.set({"Permission CTF": 1})
        dut.device.bus.publish(RelayChanged(1, True, "http"))
        deadline = asyncio.get_running_loop().time() + 10
        while not any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records):
            assert asyncio.get_running_loop().time() < deadline, "the unverifiable server was not refused"
            await asyncio.sleep(0.05)
    assert len(https.requests) == 1
