"""The virtual panel in real Chromium: a click on call button 1 calls a real SIPp UAS, and the call state
and the SIP LED change on the page as they happen (server-sent events, no reload); input 1 toggled on the
page triggers it and, through "Trigger by Input", relay 1; a held button is a long press. The call then
shows in the Call List's log, newest first. On real GPIO the panel only watches.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from portier.door.service import DoorService
from portier.events import ButtonChanged
from portier.media.audio import AudioSpec
from portier.settings.records import CallRecord, Direction
from portier.web.api_calls import dial

from ..interop.sipp import SippServer, free_port, scenario
from .conftest import http_client, http_login, login, screenshot, token_in
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web, pytest.mark.interop]

PANEL = "/virtual-panel"
CALL_SECONDS = 1.5
ANY = re.compile(r".+")


def door(web_device: WebDevice) -> DoorService:
    service = web_device.device.service("door")
    assert isinstance(service, DoorService)
    return service


@pytest.fixture
def presses(web_device: WebDevice) -> Iterator[list[ButtonChanged]]:
    """Every ButtonChanged the device publishes during the test."""
    seen: list[ButtonChanged] = []
    unsubscribe = web_device.call(lambda: web_device.device.bus.subscribe(ButtonChanged, seen.append))
    try:
        yield seen
    finally:
        web_device.call(unsubscribe)


async def test_a_panel_click_calls_sipp_and_the_page_follows_live(
    page: Page, web_device: WebDevice, tmp_path: Path
) -> None:
    uas = SippServer(
        scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", str(int(CALL_SECONDS * 1000))],
        timeout=15, workdir=tmp_path / "sipp",
    )  # fmt: skip
    earlier = CallRecord(started=time.time() - 3600, direction=Direction.MISSED, line="SIP1", remote="1001")
    web_device.call(lambda: web_device.device.storage.add(earlier))
    with uas:
        uri = f"sip:service@127.0.0.1:{uas.port}"
        web_device.set({"buttons.button1.value": uri})
        try:
            await login(page)
            await page.goto(PANEL)
            await expect(page.locator("#panel-live")).to_have_text("connected")
            await expect(page.locator("#call-state")).to_have_text("Idle")
            await expect(page.locator("#led-sip")).to_have_attribute("data-pattern", "off")
            await page.click("#button-1")
            await expect(page.locator("#call-state")).to_have_text("Talking")
            await expect(page.locator("#call-remote")).to_have_text(uri)
            await expect(page.locator("#led-sip")).to_have_attribute("data-pattern", "slow")
            await expect(page.locator("#led-sip-pattern")).to_have_text("slow")
            await screenshot(page, "virtual-panel-talking")
            result = await asyncio.to_thread(uas.wait, 15)  # SIPp hangs up after CALL_SECONDS
            await expect(page.locator("#call-state")).to_have_text("Idle")
            await expect(page.locator("#led-sip")).to_have_attribute("data-pattern", "off")
        finally:
            web_device.set({"buttons.button1.value": ""})
    assert result.ok, result.explain()

    await page.goto("/call-list/call-list")
    rows = page.locator("#call-log tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0).locator("td")).to_have_text(["outgoing", uri, "P2P", ANY, ANY])
    await expect(rows.nth(1).locator("td").nth(0)).to_have_text("missed")
    duration = await rows.nth(0).locator("td").nth(4).inner_text()
    minutes, seconds = duration.split(":")
    assert minutes == "0" and 1 <= int(seconds) <= 5, f"a {CALL_SECONDS} s call, logged as {duration}"


async def test_the_audio_meter_shows_the_call_levels_live(
    page: Page, web_device: WebDevice, tmp_path: Path
) -> None:
    """The device's microphone is a 440 Hz tone at -10 dBFS peak (-13 dBFS RMS); a SIPp UAS echoes the
    RTP back, so the speaker plays the same tone through PCMU both ways: both meters read about
    -13 dBFS while talking, and "no audio" once the call is over."""
    manager = web_device.device.service("sip").calls
    before = manager.audio_in
    uas = SippServer(
        scenario("call_uas"), extra=["-rtp_echo", "-mp", str(free_port("udp")), "-d", "4000"],
        timeout=15, workdir=tmp_path / "sipp",
    )  # fmt: skip
    web_device.call(lambda: setattr(manager, "audio_in", AudioSpec.parse("tone:440")))
    try:
        await login(page)
        await page.goto(PANEL)
        await expect(page.locator("#panel-live")).to_have_text("connected")
        await expect(page.locator("#level-sent-db")).to_have_text("no audio")
        with uas:
            web_device.run(dial(web_device.device, f"sip:service@127.0.0.1:{uas.port}", None))
            await expect(page.locator("#call-state")).to_have_text("Talking")
            await expect(page.locator("#audio-level")).to_have_attribute("data-live", "yes")
            await expect(page.locator("#level-played-db")).not_to_have_text("no audio")
            await page.wait_for_timeout(600)  # the echo has come back: a few meter messages more
            shown = await page.evaluate("[document.getElementById('level-sent').value,"
                                        " document.getElementById('level-played').value]")
            await screenshot(page, "virtual-panel-audio-level")
            result = await asyncio.to_thread(uas.wait, 15)
        assert result.ok, result.explain()
        await expect(page.locator("#call-state")).to_have_text("Idle")
        await expect(page.locator("#level-sent-db")).to_have_text("no audio")
        await expect(page.locator("#audio-level")).to_have_attribute("data-live", "no")
    finally:
        web_device.call(lambda: setattr(manager, "audio_in", before))
    assert abs(shown[0] - (-13.0)) <= 1.5, f"microphone level {shown[0]} dBFS, a -13 dBFS RMS tone was sent"
    assert abs(shown[1] - (-13.0)) <= 3.0, f"speaker level {shown[1]} dBFS for the echoed tone"


async def test_toggling_input_1_triggers_it_and_its_relay_live(page: Page, web_device: WebDevice) -> None:
    web_device.set({"Input1 Detect": 1, "Output1 Input Trigger": "INPUT1", "Output1 Duration": 1})
    try:
        await login(page)
        await page.goto(PANEL)
        await expect(page.locator("#panel-live")).to_have_text("connected")
        await expect(page.locator("#input-1-state")).to_have_text("at rest")
        await page.click("#input-1")
        await expect(page.locator("#input-1-state")).to_have_text("triggered")
        await expect(page.locator("#input-1-level")).to_have_text("low")  # LOW_LEVEL: the contact closed
        await expect(page.locator("#relay-1")).to_have_attribute("data-active", "yes")
        await expect(page.locator("#led-output")).to_have_attribute("data-pattern", "on")
        await screenshot(page, "virtual-panel-input-relay")
        await expect(page.locator("#relay-1")).to_have_attribute("data-active", "no")  # Output Duration 1 s
        await page.click("#input-1")
        await expect(page.locator("#input-1-state")).to_have_text("at rest")
        assert [i.triggered for i in door(web_device).inputs() if i.number == 1] == [False]
    finally:
        web_device.set({"Input1 Detect": 0, "Output1 Input Trigger": "NONE", "Output1 Duration": 5})


async def test_holding_a_button_is_a_long_press(
    page: Page, web_device: WebDevice, presses: list[ButtonChanged]
) -> None:
    """Pointer down presses, pointer up releases: held past Command Mode Long Press Time, the door
    service reports a long press (the same holding is push-to-talk on a PTT button)."""
    web_device.set({"Command Mode Press Time": 1})
    try:
        await login(page)
        await page.goto(PANEL)
        await expect(page.locator("#panel-live")).to_have_text("connected")
        await page.hover("#button-5")
        await page.mouse.down()
        await expect(page.locator("#button-5")).to_have_attribute("data-pressed", "yes")
        await asyncio.sleep(1.4)
        await page.mouse.up()
        await expect(page.locator("#button-5")).to_have_attribute("data-pressed", "no")
    finally:
        web_device.set({"Command Mode Press Time": 3})
    mine = [(e.pressed, e.long) for e in presses if e.button == 5]
    assert mine == [(True, False), (True, True), (False, False)], mine


async def test_real_pins_are_watched_not_driven(page: Page, web_device: WebDevice) -> None:
    hardware = door(web_device).hardware
    assert hardware is not None and hardware.virtual

    def real(on: bool) -> None:
        hardware.virtual = not on

    web_device.call(lambda: real(True))
    try:
        await login(page)
        await page.goto(PANEL)
        await expect(page.locator("#panel-real")).to_contain_text("cannot be driven")
        await expect(page.locator("#button-1")).to_be_disabled()
        await expect(page.locator("#input-1")).to_be_disabled()
        with http_client(web_device, "127.0.0.21") as client:
            http_login(client)
            token = token_in(client.get(PANEL).text)
            press = {"csrf_token": token, "button": "1", "action": "press"}
            refused = client.post(f"{PANEL}/button", data=press)
            forged = client.post(f"{PANEL}/input", data={"input": "1"})
    finally:
        web_device.call(lambda: real(False))
    assert refused.status_code == 409 and "real" in refused.json()["error"], refused.text
    assert forged.status_code == 403, "a POST without the CSRF token is refused"
