"""Incoming call policy on the wire (manual 7.5, 9.12, 9.23; Tables 15 and 17), against SIPp callers.

Each SIPp caller expects exactly one final response and checks its headers itself (the response
code, the Warning that says why, the 302's Contact and RFC 5806 Diversion reason), so a wrong
answer makes SIPp fail. After each call the persistent call log is read back. What it holds, as
decided for portier: calls the device rang or placed. A call refused before it rang (DND,
restricted list, anonymous, unconditional or busy forward) leaves no row (the device log has
the reason); a call that rang and was forwarded after the no-answer delay is a missed call (it rang
here and nobody answered).

The line is SIP1 as user ``door`` whose registrar never answers: calls to ``door`` on the device
port are line-1 calls, so the line's own settings (DND, forwards...) apply.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Sequence
from pathlib import Path

from portier.events import CallStateChanged, DndChanged
from portier.phone.feature_codes import Feature
from portier.settings.records import CallRecord, Direction, RestrictedIncoming

from .device import RunningDevice, running_device
from .kamailio import render
from .sipp import SCENARIOS, SippResult, free_port, run_sipp
from .test_calls_prack import door_line
from .test_calls_sipp import assert_sipp_ok, received_at

Check = tuple[str, str]
"""(header name, or "" for the whole message, ERE the value must match)."""


# --- helpers shared by the policy tests ------------------------------------------------------------


def checks_xml(checks: Sequence[Check]) -> str:
    """SIPp ereg actions that fail the call when a header does not match its regexp."""
    lines = []
    for header, regexp in [("CSeq", "[0-9]+ "), *checks]:
        where = f'search_in="hdr" header="{header}:"' if header else 'search_in="msg"'
        pattern = html.escape(regexp, quote=True)
        lines.append(f'      <ereg regexp="{pattern}" {where} check_it="true" assign_to="checked"/>')
    return "\n".join(lines)


def uac_expect(
    tmp_path: Path, status: int, checks: Sequence[Check], *, ringing: bool | None, hold_ms: int | None = None
) -> Path:
    """call_uac_expect.xml for one final ``status``; ``ringing`` True needs a 180 first, False
    forbids one, None allows it. An answered call is held ``hold_ms`` and hung up by SIPp."""
    ring = {
        True: '  <recv response="180" response_txn="invite"/>',
        None: '  <recv response="180" optional="true" response_txn="invite"/>',
        False: "",
    }[ringing]
    hang_up = ""
    if hold_ms is not None:
        hang_up = render((SCENARIOS / "call_uac_expect_bye.inc").read_text(), {"HOLD_MS": str(hold_ms)})
    text = render(
        (SCENARIOS / "call_uac_expect.xml").read_text(),
        {"STATUS": str(status), "CHECKS": checks_xml(checks), "RINGING": ring, "HANG_UP": hang_up},
    )
    path = tmp_path / f"call_uac_expect_{status}_{len(list(tmp_path.glob('call_uac_expect_*')))}.xml"
    path.write_text(text)
    return path


def uas_expect(tmp_path: Path, checks: Sequence[Check]) -> Path:
    """call_uas_expect.xml checking the INVITE it gets."""
    path = tmp_path / f"call_uas_expect_{len(list(tmp_path.glob('call_uas_expect_*')))}.xml"
    path.write_text(render((SCENARIOS / "call_uas_expect.xml").read_text(), {"CHECKS": checks_xml(checks)}))
    return path


async def caller(
    dut: RunningDevice,
    tmp_path: Path,
    scenario: Path,
    number: str,
    *,
    name: str = "Visitor",
    host: str = "127.0.0.1",
    timeout: float = 15,
) -> SippResult:
    """A SIPp caller ``number`` calling ``door`` on the device, run in a thread."""
    return await asyncio.to_thread(
        run_sipp,
        scenario,
        remote=f"127.0.0.1:{dut.sip_port}",
        extra=["-s", "door", "-mp", str(free_port("udp"))],
        keys={"caller": number, "caller_name": name, "caller_host": host},
        timeout=timeout,
        workdir=tmp_path / "sipp",
    )


async def call_log(dut: RunningDevice) -> list[tuple[Direction, str, str]]:
    """(direction, line, remote) of the call log, newest first, once every event was handled."""
    await dut.device.bus.drain()
    return [(r.direction, r.line, r.remote) for _, r in dut.device.service("call-log").records()]


def call_events(dut: RunningDevice) -> list[CallStateChanged]:
    return [e for e in dut.events.events if isinstance(e, CallStateChanged)]


def warning(why: str) -> Check:
    return ("Warning", "^ *399 portier " + re.escape(f'"{why}"') + " *$")


# --- tests --------------------------------------------------------------------------------------------


async def test_dnd_refuses_with_the_reject_code_and_switching_it_off_keeps_the_registration(
    tmp_path: Path,
) -> None:
    async with running_device(tmp_path / "dut", door_line(**{"SIP1 Enable DND": 1})) as dut:
        refused = uac_expect(tmp_path, 603, [warning("do not disturb")], ringing=False)
        assert_sipp_ok(await caller(dut, tmp_path, refused, "7000"))
        assert call_events(dut) == [], "a call refused by DND never rings"
        assert await call_log(dut) == [], "refused calls are not in the call log"

        await dut.events.line_status(1, "Timeout")  # the registrar never answers
        line_events = len(dut.events.line(1))
        outcome = await dut.sip.features.set(1, Feature.DND, False)
        assert outcome.done and outcome.via == "setting"
        await dut.events.wait_for(lambda e: e == DndChanged(1, False), 5, "DND off")
        answered = uac_expect(tmp_path, 200, [], ringing=None, hold_ms=200)
        assert_sipp_ok(await caller(dut, tmp_path, answered, "7000"))
        assert dut.events.line(1)[line_events:] == [], "DND is read per call: the line must not re-register"
        assert await call_log(dut) == [(Direction.INCOMING, "SIP1", "sip:7000@127.0.0.1")]


async def test_forward_unconditional_is_a_302_to_the_target_with_diversion(tmp_path: Path) -> None:
    values = door_line(**{"SIP1 Always FWD": 1, "SIP1 Always FWD Num": "7001"})
    async with running_device(tmp_path / "dut", values) as dut:
        diversion = rf"^ *<sip:door@127\.0\.0\.1:{dut.sip_port}>;reason=unconditional *$"
        checks = [("Contact", r"^ *<sip:7001@127\.0\.0\.1:[0-9]+> *$"), ("Diversion", diversion)]
        assert_sipp_ok(await caller(dut, tmp_path, uac_expect(tmp_path, 302, checks, ringing=False), "7000"))
        assert call_events(dut) == []
        assert await call_log(dut) == [], "a call forwarded before it rang is not in the call log"


async def test_forward_on_busy_sends_the_second_caller_on(tmp_path: Path) -> None:
    values = door_line(**{"SIP1 Busy FWD": 1, "SIP1 Busy FWD Num": "7002"})
    async with running_device(tmp_path / "dut", values) as dut:
        talks = uac_expect(tmp_path, 200, [], ringing=None, hold_ms=3000)
        first = asyncio.create_task(caller(dut, tmp_path, talks, "7000", timeout=20))
        talking = await dut.call_state("Talking")
        checks = [
            ("Contact", r"^ *<sip:7002@127\.0\.0\.1:[0-9]+> *$"),
            ("Diversion", rf"^ *<sip:door@127\.0\.0\.1:{dut.sip_port}>;reason=user-busy *$"),
        ]
        second = uac_expect(tmp_path, 302, checks, ringing=False)
        assert_sipp_ok(await caller(dut, tmp_path, second, "7009"))
        assert_sipp_ok(await first)
        await dut.call_state("Ended")
        assert {e.call_id for e in call_events(dut)} == {talking.call_id}, "the busy caller never rang"
        assert await call_log(dut) == [(Direction.INCOMING, "SIP1", "sip:7000@127.0.0.1")]


async def test_forward_on_no_answer_after_the_delay(tmp_path: Path) -> None:
    values = door_line(**{
        "SIP1 Auto Answer": 0, "SIP1 No Answer FWD": 1, "SIP1 NoAnswer FWD Num": "7003", "SIP1 FWD Timer": 1
    })  # fmt: skip
    async with running_device(tmp_path / "dut", values) as dut:
        checks = [
            ("Contact", r"^ *<sip:7003@127\.0\.0\.1:[0-9]+> *$"),
            ("Diversion", rf"^ *<sip:door@127\.0\.0\.1:{dut.sip_port}>;reason=no-answer *$"),
        ]
        result = await caller(dut, tmp_path, uac_expect(tmp_path, 302, checks, ringing=True), "7000")
        assert_sipp_ok(result)
        seen = {line.split()[1]: moment for moment, line in received_at(result) if line.startswith("SIP/2.0")}
        assert seen["302"] - seen["180"] >= 0.9, f"forwarded {seen['302'] - seen['180']:.2f} s after ringing"
        assert [(e.state, e.reason) for e in call_events(dut)] == [
            ("Ringing", ""), ("Ended", "forwarded to 7003 (call forward on no answer)")
        ]  # fmt: skip
        assert await call_log(dut) == [(Direction.MISSED, "SIP1", "sip:7000@127.0.0.1")], (
            "a call that rang until it was forwarded is a missed call"
        )


async def test_restricted_incoming_prefix_refuses_and_other_numbers_ring(tmp_path: Path) -> None:
    async with running_device(tmp_path / "dut", door_line(**{"SIP1 Auto Answer": 0})) as dut:
        dut.device.storage.add(RestrictedIncoming(name="pranks", number="66", prefix=True))
        why = warning("6612 is on the restricted incoming list (66)")
        assert_sipp_ok(await caller(dut, tmp_path, uac_expect(tmp_path, 603, [why], ringing=False), "6612"))
        assert call_events(dut) == []

        other = asyncio.create_task(
            caller(dut, tmp_path, uac_expect(tmp_path, 603, [], ringing=True), "7066")
        )
        ringing = await dut.call_state("Ringing")
        assert ringing.remote == "sip:7066@127.0.0.1"
        assert dut.calls.reject()  # the resident declines: the Reject Response Code
        assert_sipp_ok(await other)
        assert await call_log(dut) == [(Direction.MISSED, "SIP1", "sip:7066@127.0.0.1")]
        assert len(dut.device.storage.rows(CallRecord)) == 1


async def test_blocking_anonymous_calls_answers_433(tmp_path: Path) -> None:
    async with running_device(tmp_path / "dut", door_line(**{"SIP1 Ban Anonymous": 1})) as dut:
        why = warning("anonymous calls are blocked on this line")
        blocked = uac_expect(tmp_path, 433, [why], ringing=False)
        result = await caller(dut, tmp_path, blocked, "anonymous", name="Anonymous", host="anonymous.invalid")
        assert_sipp_ok(result, ["SIP/2.0 433 Anonymity Disallowed"])
        named = uac_expect(tmp_path, 200, [], ringing=None, hold_ms=200)
        assert_sipp_ok(await caller(dut, tmp_path, named, "7000"))
        assert await call_log(dut) == [(Direction.INCOMING, "SIP1", "sip:7000@127.0.0.1")]
