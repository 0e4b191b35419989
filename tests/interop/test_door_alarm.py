"""Alarm inputs, tamper and LEDs against real peers (issue 5, "Proven by").

An input pin change sends Fanvil's alarm text as a SIP MESSAGE over line 1, through Kamailio
(which challenges it with 407), to a SIPp UAS that checks the exact body; the same text goes as
one UDP datagram to a socket of the test when the server address is ``IP:port``. A MESSAGE that
reaches the device over its registered line is reported with that line. A registrar that
refuses the line makes the red SIP/NET LED flash fast.
"""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import pytest

from portier import MODEL
from portier.door.alarm import alarm_text
from portier.door.service import DoorService
from portier.events import InputChanged, LedChanged, MessageReceived
from portier.phone.sip_service import device_mac

from .conftest import KamailioFactory, SippServerFactory
from .device import RunningDevice, line_values, running_device
from .kamailio import render
from .sipp import SCENARIOS, run_sipp, scenario

pytestmark = pytest.mark.interop


def door(dut: RunningDevice) -> DoorService:
    service: DoorService = dut.device.service("door")
    return service


def ere_literal(text: str) -> str:
    """``text`` as a POSIX extended regexp matching exactly it (SIPp's ereg)."""
    return "^" + re.sub(r"([\\.\[\](){}*+?|^$])", r"\\\1", text) + "$"


def checking_uas(tmp_path: Path, body: str) -> Path:
    """message_uas_check.xml with its regexp filled in for exactly ``body``."""
    template = (SCENARIOS / "message_uas_check.xml").read_text()
    path = tmp_path / "message_uas_check.xml"
    path.write_text(render(template, {"BODY_REGEXP": ere_literal(body)}))
    return path


async def test_input_alarm_goes_as_a_sip_message_through_kamailio_to_the_desk(
    tmp_path: Path, kamailio_factory: KamailioFactory, sipp_server_factory: SippServerFactory
) -> None:
    kamailio = kamailio_factory()  # challenges every MESSAGE with 407
    expected = alarm_text(model=MODEL, user="alice", mac=device_mac(), ip="127.0.0.1", port="Input1")
    desk = sipp_server_factory(checking_uas(tmp_path, expected), timeout=20)
    values = line_values(1, "alice", "alice-secret", kamailio.udp_port)
    desk_uri = f"sip:desk@127.0.0.1:{desk.port}"
    values |= {"Input1 Detect": 1, "Input1 Send SMS": 1, "Alarm Server Addr": desk_uri}
    async with running_device(tmp_path / "portier", values) as dut:
        await dut.events.line_status(1, "Registered")
        door(dut).set_input(1, False)  # the door contact closes: LOW_LEVEL triggers
        await dut.events.wait_for(lambda e: e == InputChanged(1, True), 5, "input 1 triggered")
        result = await asyncio.to_thread(desk.wait, 15)
    assert result.ok, f"{result.explain()}\n-- Kamailio --\n{kamailio.tail()}"
    (message,) = result.received("MESSAGE")
    assert re.split(r"\r?\n\r?\n", message, maxsplit=1)[1].strip("\r\n") == expected
    assert re.search(rf"^Via: SIP/2.0/UDP 127\.0\.0\.1:{kamailio.udp_port};branch=", message, re.M), (
        "the MESSAGE should have come through Kamailio"
    )
    assert re.search(r"^From: <sip:alice@127\.0\.0\.1[:>]", message, re.M), message
    log = kamailio.log
    sent = re.findall(r"portier-kam: request MESSAGE sip:desk@\S+ from 127\.0\.0\.1:(\d+)", log)
    assert len(sent) == 2, f"portier should have sent the MESSAGE twice (407 first):\n{kamailio.tail()}"
    assert "portier-kam: proxy auth failed for alice" in log, "the first MESSAGE should have been challenged"


async def test_a_message_to_the_line_through_kamailio_is_reported_on_line_1(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    kamailio = kamailio_factory()
    async with running_device(tmp_path, line_values(1, "alice", "alice-secret", kamailio.udp_port)) as dut:
        await dut.events.line_status(1, "Registered")
        result = await asyncio.to_thread(
            run_sipp,
            scenario("message_uac"),
            remote=kamailio.address(),
            keys={"user": "bob", "to_user": "alice", "text": "hello line 1"},
            auth=("bob", "bob-secret"),
            timeout=10,
            workdir=tmp_path / "sipp",
        )
        assert result.ok, f"{result.explain()}\n-- Kamailio --\n{kamailio.tail()}"
        found = await dut.events.wait_for(lambda e: isinstance(e, MessageReceived), 5, "the MESSAGE")
    assert isinstance(found, MessageReceived)
    assert found.line == 1 and found.text == "hello line 1" and found.sender.startswith("sip:bob@")


async def test_input_and_tamper_alarms_go_as_udp_datagrams(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:
        desk.bind(("127.0.0.1", 0))
        desk.setblocking(False)
        port = desk.getsockname()[1]
        values = {
            "SIP1 Phone Number": "door",  # the SIP User of the alarm, even with the line off
            "Input2 Detect": 1, "Input2 Send SMS": 1, "Input2 Trigger Mode": "HIGH_LEVEL",
            "Input1 Detect": 1,  # no Send SMS: no datagram for input 1
            "Enable Tamper": 1, "Alarm Server Addr": f"127.0.0.1:{port}",
        }  # fmt: skip
        loop = asyncio.get_running_loop()
        async with running_device(tmp_path, values) as dut:
            service = door(dut)
            service.set_input(1, False)
            # HIGH_LEVEL: the pull-up holds an open contact high, so input 2 starts triggered
            # (no alarm at start); closing it ends that, opening it again is the alarm.
            service.set_input(2, False)
            service.set_input(2, True)
            first = await asyncio.wait_for(loop.sock_recv(desk, 2048), 5)
            service.set_input(0, True)  # pulled off the wall
            second = await asyncio.wait_for(loop.sock_recv(desk, 2048), 5)
            changes = [e for e in dut.events.events if isinstance(e, InputChanged)]
        with pytest.raises(BlockingIOError):
            desk.recv(2048)  # nothing else was sent
    mac = device_mac()
    assert first.decode() == alarm_text(model=MODEL, user="door", mac=mac, ip="127.0.0.1", port="Input2")
    assert second.decode() == alarm_text(model=MODEL, user="door", mac=mac, ip="127.0.0.1", port="Tamper")
    assert changes == [
        InputChanged(1, True), InputChanged(2, False), InputChanged(2, True), InputChanged(0, True)
    ]  # fmt: skip


async def test_a_refused_registration_flashes_the_red_led_fast(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    registrar = sipp_server_factory(scenario("reg_403.xml"))
    async with running_device(tmp_path, line_values(1, "door", "secret", registrar.port)) as dut:
        await dut.events.line_status(1, "Failed")
        await dut.events.wait_for(lambda e: e == LedChanged("sip", "fast"), 5, "the red LED flashing fast")
        hardware = door(dut).hardware
        assert hardware is not None and hardware.led_blinking("sip")
        assert door(dut).leds()["sip"] == "fast"
