"""Call button types DTMF, Key Event and Action URL (manual 9.25, Table 23) pressed on virtual pins.

Each button's press in the call state under test is mapped to its own call button in the
programmable key table (``buttons.programmable.buttonN.<state>: CALL_BUTTONn``), so what happens is
the button type's doing and not the table's default (a press in a call is END, in ringing ANSWER).

- DTMF: in a call SIPp placed, the press sends the button's digits; the test's own RTP socket (the
  media address of SIPp's offer, ``rtp_capture.py``) receives exactly those RFC 4733 events, each
  with its end packet, and the call goes on.
- Key Event, subtype Release: the press hangs up; SIPp gets the BYE. Subtype Handfree while an
  incoming call rings (auto answer off): the press answers it; SIPp gets the 200.
- Action URL: the press sends an HTTP GET for the configured URL, as a small HTTP server in the
  test's loop on 127.0.0.1 (``HttpRecorder`` of the Action URL tests) records it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from .device import running_device
from .rtp_capture import RtpCapture
from .sipp import free_port, run_sipp, scenario
from .test_action_url import HttpRecorder
from .test_buttons_calls import click, wait_until
from .test_calls_sipp import assert_sipp_ok, received_at, sipp_call

DIGITS = "4*#7"


async def test_a_dtmf_button_in_a_call_sends_its_digits_as_rfc4733_events(tmp_path: Path) -> None:
    values = {
        "buttons.button2.type": "DTMF",
        "buttons.button2.value": DIGITS,
        "buttons.programmable.button2.talking": "CALL_BUTTON2",
    }
    async with RtpCapture() as rtp, running_device(tmp_path / "dut", values, audio_in="tone:440") as dut:
        caller = asyncio.create_task(
            asyncio.to_thread(
                run_sipp,
                scenario("intercom_uac_rtp"),
                remote=f"127.0.0.1:{dut.sip_port}",
                extra=["-mp", str(free_port("udp")), "-d", "4000"],
                keys={"intercom_header": "Subject: a visitor", "rtp_port": str(rtp.port)},
                timeout=20,
                workdir=tmp_path / "sipp",
            )
        )
        talking = await dut.call_state("Talking")
        await asyncio.sleep(0.3)  # audio flows before the first digit
        await click(dut, 2)
        await wait_until(lambda: sum(e.ended for e in rtp.events()) >= len(DIGITS), "every digit's end")
        await asyncio.sleep(0.3)  # anything more would have come by now
        assert dut.calls.calls[talking.call_id].state.value == "Talking", "a DTMF button does not hang up"
        result = await caller
        assert_sipp_ok(result)
        ended = await dut.call_state("Ended")
        assert ended.reason == "remote hangup"
    events = rtp.events()
    assert "".join(e.digit for e in events) == DIGITS, events
    assert all(e.ended and e.packets >= 3 and e.duration > 0 for e in events), events
    assert rtp.of(0), "the call's audio was PCMU on the same stream"


async def test_a_release_key_event_button_hangs_up_the_call(tmp_path: Path) -> None:
    values = {
        "buttons.button2.type": "KEY_EVENT",
        "buttons.button2.subtype": "RELEASE",
        "buttons.programmable.button2.talking": "CALL_BUTTON2",
    }
    async with running_device(tmp_path / "dut", values) as dut:
        caller = asyncio.create_task(sipp_call(dut, tmp_path, "call_uac_wait_bye", timeout=15))
        talking = await dut.call_state("Talking")
        await asyncio.sleep(0.3)
        await click(dut, 2)
        ended = await dut.call_state("Ended")
        result = await caller
    assert_sipp_ok(result)
    assert len(result.received("BYE")) >= 1, result.explain()
    assert (ended.call_id, ended.reason) == (talking.call_id, "local hangup")


async def test_a_key_event_button_answers_a_ringing_call(tmp_path: Path) -> None:
    values = {
        "P2P Auto Answer": 0,
        "P1 Call Timeout": 15,
        "buttons.button2.type": "KEY_EVENT",
        "buttons.button2.subtype": "HANDFREE",
        "buttons.programmable.button2.ringing": "CALL_BUTTON2",
    }
    async with running_device(tmp_path / "dut", values) as dut:
        caller = asyncio.create_task(sipp_call(dut, tmp_path, "call_uac_bye", hold_ms=500, timeout=25))
        ringing = await dut.call_state("Ringing")
        await asyncio.sleep(1.0)
        assert dut.calls.calls[ringing.call_id].state.value == "Ringing", "nothing answers but the button"
        await click(dut, 2)
        talking = await dut.call_state("Talking")
        result = await caller
        ended = await dut.call_state("Ended")
    assert_sipp_ok(result)
    assert talking.call_id == ringing.call_id == ended.call_id
    assert ended.reason == "remote hangup"
    wire = received_at(result)
    rang = next(t for t, line in wire if line.startswith("SIP/2.0 180"))
    answered = next(t for t, line in wire if line.startswith("SIP/2.0 200"))
    assert answered - rang >= 1.0, "answered by the press, after the ringing the test waited through"


async def test_an_action_url_button_requests_its_url(tmp_path: Path) -> None:
    target = "door/button2?event=pressed&who=visitor%20at%20gate"
    async with HttpRecorder() as http:
        values = {
            "buttons.button2.type": "ACTION_URL",
            "buttons.button2.value": f"http://127.0.0.1:{http.port}/{target}",
        }
        async with running_device(tmp_path / "dut", values) as dut:
            await click(dut, 2)
            await http.wait_for(lambda requests: len(requests) >= 1, "the action URL's GET")
            await asyncio.sleep(0.5)  # a second request would come by now
            assert [(r.method, r.target) for r in http.requests] == [("GET", f"/{target}")]
            assert not [c for c in dut.calls.calls.values()], "an action URL button places no call"
            await click(dut, 2)
            await http.wait_for(lambda requests: len(requests) >= 2, "the second press's GET")
            assert [r.target for r in http.requests] == [f"/{target}"] * 2
