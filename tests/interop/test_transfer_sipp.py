"""Call transfer on the wire against SIPp (RFC 3515, RFC 3891, RFC 5589): the device as transferor
(blind, attended), as transferee, and as the target of an INVITE with Replaces.

SIPp plays the other parties; its scenarios (``scenarios/transfer_*.xml``) decide the order and the
status of every message, and the test reads the exact header values from SIPp's message log. The
device's events (CallStateChanged, CallTransferred) and its call log decide the rest.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from portier.events import CallStateChanged, CallTransferred, Event
from portier.phone.call_log import CallLog
from portier.settings.records import CallRecord, Direction
from portier.sip.refer import Replaces, parse_refer_to
from portier.sip.refer import refer_to as refer_to_value

from .conftest import SippServerFactory
from .device import RunningDevice, running_device
from .sipp import SippResult, free_port, run_sipp, scenario
from .test_calls_prack import door_line
from .test_calls_sipp import assert_sipp_ok

TARGET = "sip:carol@127.0.0.1:5999"
SUCCESS = {"final": "200 OK"}


async def sipp_client(
    dut: RunningDevice,
    tmp_path: Path,
    name: str,
    *,
    keys: Mapping[str, str] | None = None,
    hold_ms: int = 500,
    timeout: float = 20,
    service: str = "door",
) -> SippResult:
    """Run the UAC scenario ``name`` against the device in a thread, so the device keeps serving."""
    return await asyncio.to_thread(
        run_sipp,
        scenario(name),
        remote=f"127.0.0.1:{dut.sip_port}",
        extra=["-s", service, "-mp", str(free_port("udp")), "-d", str(hold_ms)],
        keys=keys,
        timeout=timeout,
        workdir=tmp_path / "sipp",
    )


def header(message: str, name: str) -> str:
    """The value of header ``name`` in one logged SIP message."""
    found = re.search(rf"^{re.escape(name)}:\s*(.*?)\r?$", message, re.MULTILINE | re.IGNORECASE)
    assert found is not None, f"no {name} in\n{message}"
    return found.group(1).strip()


def transfers(dut: RunningDevice) -> list[CallTransferred]:
    return [e for e in dut.events.events if isinstance(e, CallTransferred)]


def states(dut: RunningDevice, call_id: str) -> list[tuple[str, str]]:
    return [
        (e.state, e.reason)
        for e in dut.events.events
        if isinstance(e, CallStateChanged) and e.call_id == call_id
    ]


async def transferred(dut: RunningDevice, timeout: float = 15) -> CallTransferred:
    found = await dut.events.wait_for(lambda e: isinstance(e, CallTransferred), timeout, "CallTransferred")
    assert isinstance(found, CallTransferred)
    return found


async def state_of(dut: RunningDevice, call_id: str, state: str, timeout: float = 15) -> None:
    def match(event: Event) -> bool:
        return isinstance(event, CallStateChanged) and event.call_id == call_id and event.state == state

    await dut.events.wait_for(match, timeout, f"call {call_id} {state}")


async def talking_call(dut: RunningDevice, after: int = 0) -> str:
    return (await dut.call_state("Talking", timeout=15, after=after)).call_id


def call_log(dut: RunningDevice) -> list[CallRecord]:
    log = next(s for s in dut.device.services if isinstance(s, CallLog))
    return [record for _, record in log.records()]


# --- the device transfers (transferor) --------------------------------------------------------------


async def test_blind_transfer_holds_refers_and_hangs_up_on_the_200_report(tmp_path: Path) -> None:
    async with running_device(tmp_path / "dut", {}) as dut:
        client = asyncio.create_task(
            sipp_client(dut, tmp_path, "transfer_transferee", keys={"final": "200 OK"})
        )
        call_id = await talking_call(dut)
        outcome = await dut.calls.transfer(call_id, TARGET)
        result = await client
        assert_sipp_ok(result)
        assert (outcome.kind, outcome.result, outcome.role, outcome.target) == (
            "blind", "succeeded", "transferor", TARGET
        )  # fmt: skip
        refer = result.received("REFER")[0]
        assert header(refer, "Refer-To") == f"<{TARGET}>"
        assert header(refer, "Referred-By").startswith("<sip:")
        assert header(refer, "Contact").startswith("<sip:")
        await dut.call_state("Ended")
        await dut.device.bus.drain()
        assert states(dut, call_id) == [
            ("Ringing", ""), ("Talking", ""), ("Held", ""), ("Ended", f"transferred to {TARGET}")
        ]  # fmt: skip
        assert transfers(dut) == [outcome]
        rows = call_log(dut)
        assert [(r.direction, r.remote) for r in rows] == [(Direction.INCOMING, rows[0].remote)]
        assert rows[0].remote.startswith("sip:sipp@")


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        (
            {"final": "486 Busy Here", "subscription_state": "terminated;reason=noresource"},
            "the transfer target answered 486 Busy Here",
        ),
        (
            {"final": "180 Ringing", "subscription_state": "active;expires=60"},
            "no final report within 2 s (Transfer Timeout)",
        ),
    ],
    ids=["busy", "transfer-timeout"],
)
async def test_failed_blind_transfer_resumes_the_call(
    tmp_path: Path, keys: dict[str, str], reason: str
) -> None:
    """A target that is busy, or a transferee that never reports a final status within the line's
    Transfer Timeout (2 s here): the transfer fails, the call comes off hold and goes on."""
    async with running_device(tmp_path / "dut", door_line(**{"SIP1 XFER Expire": 2})) as dut:
        client = asyncio.create_task(sipp_client(dut, tmp_path, "transfer_transferee_fails", keys=keys))
        call_id = await talking_call(dut)
        outcome = await dut.calls.transfer(call_id, TARGET)
        assert (outcome.result, outcome.reason) == ("failed", reason)
        assert dut.calls.calls[call_id].state == "Talking", "a failed transfer keeps the call"
        assert_sipp_ok(await client)
        await dut.call_state("Ended")
        await dut.device.bus.drain()
        assert states(dut, call_id) == [
            ("Ringing", ""), ("Talking", ""), ("Held", ""), ("Talking", ""), ("Ended", "remote hangup")
        ]  # fmt: skip
        assert transfers(dut) == [outcome]


# --- the device is transferred (transferee) ----------------------------------------------------------


async def test_refer_makes_the_device_call_the_target_and_report_it(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    target = sipp_server_factory(scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", "1500"])
    target_uri = f"sip:carol@127.0.0.1:{target.port}"
    async with running_device(tmp_path / "dut", {}) as dut:
        result = await sipp_client(dut, tmp_path, "transfer_transferor", keys={"target": target_uri})
        assert_sipp_ok(result)
        outcome = await transferred(dut)
        assert (outcome.kind, outcome.result, outcome.role, outcome.target) == (
            "blind", "succeeded", "transferee", target_uri
        )  # fmt: skip
        assert_sipp_ok(await asyncio.to_thread(target.wait, 10))
        await dut.device.bus.drain()
        assert states(dut, outcome.call_id) == [
            ("Ringing", ""), ("Talking", ""), ("Ended", f"transferred to {target_uri}")
        ]  # fmt: skip
        assert [s for s, _ in states(dut, outcome.new_call_id)] == [
            "Calling", "Alerting", "Alerting", "Talking", "Ended"
        ]  # fmt: skip
        invite = target.wait().received("INVITE")[0]
        assert invite.startswith(f"INVITE {target_uri} SIP/2.0")
        rows = call_log(dut)
        assert sorted((r.direction, r.remote) for r in rows) == sorted(
            [(Direction.INCOMING, rows[-1].remote), (Direction.OUTGOING, target_uri)]
        )


# --- the device is the target of an attended transfer (INVITE with Replaces) ---------------------------


async def test_invite_with_replaces_takes_the_place_of_the_named_call(tmp_path: Path) -> None:
    """The auto-answer delay is 5 s, yet the replacing INVITE is answered at once; the call it names
    gets the BYE, and a Replaces naming nothing gets 481."""
    values = {"P2P Auto Answer": 1, "P2P Auto Answer Delay": 5}
    async with running_device(tmp_path / "dut", values) as dut:
        consultation = asyncio.create_task(sipp_client(dut, tmp_path, "call_uac_wait_bye", timeout=30))
        old_id = await talking_call(dut)
        dialog = dut.calls.calls[old_id].dialog
        assert dialog is not None
        keys = {
            "replaces_call_id": dialog.call_id,
            "replaces_to_tag": dialog.local_tag,
            "replaces_from_tag": dialog.remote_tag,
        }
        unknown = dict(keys, replaces_to_tag="no-such-tag")
        assert_sipp_ok(
            await sipp_client(dut, tmp_path, "transfer_replaces_unknown", keys=unknown, timeout=10)
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        mark = len(dut.events.events)
        replacing = asyncio.create_task(
            sipp_client(dut, tmp_path, "transfer_replaces", keys=keys, hold_ms=800)
        )
        new_id = await talking_call(dut, after=mark)
        assert loop.time() - started < 3, "an INVITE with Replaces must not wait for the auto-answer delay"
        assert_sipp_ok(await consultation)
        assert_sipp_ok(await replacing)
        outcome = await transferred(dut)
        assert (outcome.call_id, outcome.new_call_id, outcome.role, outcome.result) == (
            old_id, new_id, "target", "succeeded"
        )  # fmt: skip
        await state_of(dut, new_id, "Ended")
        await dut.device.bus.drain()
        assert states(dut, old_id)[-1] == ("Ended", f"replaced by call {new_id}")
        assert [s for s, _ in states(dut, new_id)] == ["Ringing", "Talking", "Ended"]
        assert [r.direction for r in call_log(dut)] == [Direction.INCOMING, Direction.INCOMING]


async def test_attended_transfer_refers_with_replaces_of_the_consultation_call(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    """A calls the device, which holds A and consults C; the REFER to A names C with Replaces, as C's
    tags are seen from C. A reports 200, the device hangs up A, and C ends the consultation call
    (the BYE the target sends once the replacing INVITE arrived)."""
    carol = sipp_server_factory(scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", "3000"])
    async with running_device(tmp_path / "dut", {}) as dut:
        client = asyncio.create_task(
            sipp_client(dut, tmp_path, "transfer_transferee", keys={"final": "200 OK"})
        )
        a_id = await talking_call(dut)
        await dut.calls.hold(a_id)
        consultation = await dut.calls.dial(f"sip:carol@127.0.0.1:{carol.port}", agent=dut.sip.agent())
        await state_of(dut, consultation.call_id, "Talking")
        outcome = await dut.calls.transfer(a_id, consultation.call_id)
        assert (outcome.kind, outcome.result, outcome.new_call_id) == (
            "attended", "succeeded", consultation.call_id
        )  # fmt: skip
        result = await client
        assert_sipp_ok(result)
        assert_sipp_ok(await asyncio.to_thread(carol.wait, 10))
        dialog = consultation.dialog
        assert dialog is not None
        refer_to = parse_refer_to(header(result.received("REFER")[0], "Refer-To"))
        assert refer_to.replaces == Replaces(consultation.call_id, dialog.remote_tag, dialog.local_tag)
        assert str(refer_to.uri) == f"sip:127.0.0.1:{carol.port};transport=UDP"  # C's Contact
        await state_of(dut, consultation.call_id, "Ended")
        await dut.device.bus.drain()
        assert states(dut, a_id)[-2:] == [("Held", ""), ("Ended", f"transferred to {consultation.remote}")]
        assert states(dut, consultation.call_id)[-1] == ("Ended", "remote hangup")
        assert sorted(r.direction for r in call_log(dut)) == [Direction.INCOMING, Direction.OUTGOING]


async def test_refer_with_replaces_sends_the_invite_with_replaces_and_referred_by(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    """Attended transfer with the device as transferee: the Refer-To carries an escaped Replaces; the
    device's INVITE to the target must carry it as a header, with the REFER's Referred-By."""
    target = sipp_server_factory(scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", "1000"])
    replaces = Replaces("consult-1@127.0.0.1", to_tag="carol-tag", from_tag="bob-tag")
    refer_to = refer_to_value(f"sip:carol@127.0.0.1:{target.port}", replaces)
    async with running_device(tmp_path / "dut", {}) as dut:
        result = await sipp_client(dut, tmp_path, "transfer_transferor", keys={"target": refer_to[1:-1]})
        assert_sipp_ok(result)
        outcome = await transferred(dut)
        assert (outcome.kind, outcome.result, outcome.role) == ("attended", "succeeded", "transferee")
        invite = (await asyncio.to_thread(target.wait, 10)).received("INVITE")[0]
        assert header(invite, "Replaces") == str(replaces)
        assert header(invite, "Referred-By").startswith("<sip:sipp@127.0.0.1:")
        assert invite.startswith(f"INVITE sip:carol@127.0.0.1:{target.port} SIP/2.0")


async def test_refer_sub_false_is_granted_and_no_notify_is_sent(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    target = sipp_server_factory(scenario("call_uas"), extra=["-mp", str(free_port("udp")), "-d", "500"])
    target_uri = f"sip:carol@127.0.0.1:{target.port}"
    async with running_device(tmp_path / "dut", {}) as dut:
        result = await sipp_client(
            dut, tmp_path, "transfer_transferor_norefersub", keys={"target": target_uri}
        )
        assert_sipp_ok(result)  # a NOTIFY would have been an unexpected message
        assert not result.received("NOTIFY")
        outcome = await transferred(dut)
        assert (outcome.result, outcome.role) == ("succeeded", "transferee")
        assert_sipp_ok(await asyncio.to_thread(target.wait, 10))
