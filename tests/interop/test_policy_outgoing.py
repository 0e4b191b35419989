"""Outgoing call policy on the wire (manual 9.15, Table 17; 9.12 Send Anonymous), against SIPp.

A dial that policy refuses (Ban Outgoing, the restricted outgoing list) raises with the reason and
sends nothing; the Call Number Filter and the country/area code change the number that goes out
(SIPp checks the Request-URI user); Send Anonymous hides the caller (SIPp checks From, Privacy and
P-Preferred-Identity). Refused dials leave no call-log row; placed calls are "outgoing" rows.

The line that dials numbers is SIP1 as alice, registered through Kamailio as its outbound proxy
(digest, 407 for every INVITE) while its domain is a SIPp "PBX": Kamailio relays the INVITE for
``number@PBX`` to SIPp and Record-Routes, so the call goes the way a line's calls go.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from portier.phone.call import Call
from portier.settings.records import Direction, RestrictedOutgoing

from .conftest import KamailioFactory, SippServerFactory
from .device import RunningDevice, line_values, running_device
from .kamailio import Kamailio
from .sipp import SippServer, free_port
from .test_calls_prack import door_line
from .test_calls_sipp import assert_sipp_ok
from .test_policy_incoming import call_log, uas_expect


def kamailio_and_pbx(
    tmp_path: Path,
    kamailio_factory: KamailioFactory,
    sipp_server_factory: SippServerFactory,
    user: str,
    calls: int,
) -> tuple[Kamailio, SippServer]:
    """Kamailio, and a SIPp PBX behind it taking ``calls`` calls whose Request-URI user matches the
    ERE ``user`` (any other fails SIPp)."""
    kamailio = kamailio_factory()
    port = free_port("udp")
    request_line = rf"^INVITE sip:({user})@127\.0\.0\.1:{port} SIP/2\.0"
    pbx = sipp_server_factory(uas_expect(tmp_path, [("", request_line)]), port=port, calls=calls, timeout=30)
    return kamailio, pbx


def pbx_line(kamailio: Kamailio, pbx: SippServer, **extra: Any) -> dict[str, Any]:
    """SIP1 alice whose domain is the SIPp ``pbx`` and whose outbound proxy is ``kamailio``."""
    return line_values(
        1, "alice", "alice-secret", pbx.port,
        **{"SIP1 Proxy Addr": "127.0.0.1", "SIP1 Proxy Port": kamailio.udp_port, **extra},
    )  # fmt: skip


async def talk_and_hang_up(dut: RunningDevice, call: Call) -> None:
    """The call is answered, then the device ends it."""
    for _ in range(100):
        if call.state.value == "Talking" or call.ended.is_set():
            break
        await asyncio.sleep(0.05)
    assert call.state.value == "Talking", f"the call to {call.remote} ended: {call.reason}"
    assert await dut.calls.hangup(call.call_id)
    await asyncio.wait_for(call.ended.wait(), 10)


async def test_refused_dials_say_why_and_the_number_is_filtered_and_prefixed(
    tmp_path: Path, kamailio_factory: KamailioFactory, sipp_server_factory: SippServerFactory
) -> None:
    kamailio, pbx = kamailio_and_pbx(tmp_path, kamailio_factory, sipp_server_factory, "789|49301234", 2)
    port = pbx.port
    async with running_device(tmp_path / "dut", pbx_line(kamailio, pbx)) as dut:
        await dut.events.line_status(1, "Registered")
        dut.device.storage.add(RestrictedOutgoing(name="premium", number="0900", prefix=True))
        with pytest.raises(ValueError, match=re.escape("0900123 is on the restricted outgoing list (0900)")):
            await dut.calls.dial("0900123", line=1)
        with pytest.raises(ValueError, match=re.escape("0900123 is on the restricted outgoing list (0900)")):
            await dut.calls.dial(f"sip:0900123@127.0.0.1:{port}", line=1)  # a URI's user is a number too
        await dut.set({"P1 Ban Dial Out": 1})
        with pytest.raises(ValueError, match=re.escape("outgoing calls are banned (Ban Outgoing)")):
            await dut.calls.dial("789", line=1)
        await dut.set({"P1 Ban Dial Out": 0, "P1 Call Number Filter": "-"})
        await talk_and_hang_up(dut, await dut.calls.dial("78-9", line=1))
        await dut.set({"P1 Call Number Filter": "", "P1 Enable Country Code": 1, "P1 Country Code": "49",
                       "P1 Call Area Code": "30"})  # fmt: skip
        await talk_and_hang_up(dut, await dut.calls.dial("1234", line=1))
        log = await call_log(dut)
    result = await asyncio.to_thread(pbx.wait, 10)
    assert_sipp_ok(result)
    invites = [message.splitlines()[0] for message in result.received("INVITE")]
    assert invites == [
        f"INVITE sip:789@127.0.0.1:{port} SIP/2.0",
        f"INVITE sip:49301234@127.0.0.1:{port} SIP/2.0",
    ]
    proxied = f"Via: SIP/2.0/UDP 127.0.0.1:{kamailio.udp_port};branch="
    assert all(proxied in message for message in result.received("INVITE")), "the calls went through Kamailio"
    assert log == [
        (Direction.OUTGOING, "SIP1", f"sip:49301234@127.0.0.1:{port}"),
        (Direction.OUTGOING, "SIP1", f"sip:789@127.0.0.1:{port}"),
    ], "refused dials are not logged"


@pytest.mark.parametrize(
    ("standard", "privacy", "identity"),
    [(0, None, False), (1, "header", False), (2, "id", True)],
    ids=["none", "rfc3323", "rfc3325"],
)
async def test_send_anonymous_hides_who_calls(
    tmp_path: Path, sipp_server_factory: SippServerFactory, standard: int, privacy: str | None, identity: bool
) -> None:
    """Send Anonymous: the From is anonymous whatever the Anonymous Call Standard; RFC 3323 adds
    Privacy: header, RFC 3325 Privacy: id with the real identity in P-Preferred-Identity, None nothing."""
    checks = [("From", r'^ *"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=[^;]+$')]
    if privacy is not None:
        checks.append(("Privacy", rf"^ *{privacy} *$"))
    if identity:
        checks.append(("P-Preferred-Identity", r"^ *<sip:door@127\.0\.0\.1:[0-9]+> *$"))
    callee = sipp_server_factory(uas_expect(tmp_path, checks), timeout=20)
    values = door_line(**{"SIP1 CLIR": 1, "SIP1 Anonymous Standard": standard})
    async with running_device(tmp_path / "dut", values) as dut:
        call = await dut.calls.dial(f"sip:400@127.0.0.1:{callee.port}", line=1)
        await talk_and_hang_up(dut, call)
        log = await call_log(dut)
    result = await asyncio.to_thread(callee.wait, 10)
    assert_sipp_ok(result)
    (invite,) = result.received("INVITE")
    names = {line.split(":", 1)[0].strip().lower() for line in invite.splitlines()[1:] if ":" in line}
    assert ("privacy" in names) == (privacy is not None), invite
    assert ("p-preferred-identity" in names) == identity, invite
    contact = next(line for line in invite.splitlines() if line.lower().startswith(("contact:", "m:")))
    assert "door@" not in contact, f"the Contact names the caller: {contact}"
    assert log == [(Direction.OUTGOING, "SIP1", f"sip:400@127.0.0.1:{callee.port}")]
