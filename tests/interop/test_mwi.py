"""Voice-message waiting (RFC 3842, "Subscribe For Voice Message") against Kamailio and SIPp.

Kamailio's registrar config has no presence module, so it cannot be the notifier; it relays
SUBSCRIBE and NOTIFY like any proxy. The line (alice) registers through Kamailio as its outbound
proxy while its domain is a SIPp voicemail server: the SUBSCRIBE to alice's address goes through
Kamailio (407, digest) to SIPp (401, digest again, then 200 and NOTIFYs in the dialog, which
Kamailio Record-Routes back). SIPp checks the event package, the credentials, the refresh inside
the dialog before the granted time runs out, and the Expires: 0 when the line stops. A voicemail
server that sends NOTIFYs without a subscription is heard too.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from portier.events import Event, VoiceMessages

from .conftest import KamailioFactory, SippServerFactory
from .device import line_values, running_device
from .sipp import run_sipp, scenario
from .test_calls_sipp import assert_sipp_ok
from .test_policy_outgoing import pbx_line


async def test_line_subscribes_through_its_proxy_with_digest_refreshes_and_unsubscribes(
    tmp_path: Path, kamailio_factory: KamailioFactory, sipp_server_factory: SippServerFactory
) -> None:
    kamailio = kamailio_factory()
    voicemail = sipp_server_factory(
        scenario("mwi_notifier"),
        keys={"user": "alice", "password": "alice-secret", "expires": "4"},
        timeout=30,
    )
    values = pbx_line(kamailio, voicemail, **{"SIP1 Subscribe": 1, "SIP1 Sub Expire": 120})
    async with running_device(tmp_path / "dut", values) as dut:
        await dut.events.line_status(1, "Registered")

        def heard(event: Event) -> bool:
            return isinstance(event, VoiceMessages)

        first = await dut.events.wait_for(heard, 10, "the first NOTIFY")
        assert first == VoiceMessages(1, True, 2, 8, 1, 0, "sip:voicemail@127.0.0.1")
        after = dut.events.events.index(first) + 1
        second = await dut.events.wait_for(heard, 10, "the NOTIFY after the refresh", after=after)
        assert second == VoiceMessages(1, False, 0, 10, 0, 0, "sip:voicemail@127.0.0.1")
        assert dut.sip.voicemail.latest[1] == second
    result = await asyncio.to_thread(voicemail.wait, 10)
    assert_sipp_ok(result)
    subscribes = result.received("SUBSCRIBE")
    assert len(subscribes) == 4, "challenged, authorised, refreshed, ended"
    assert re.search(r"^Expires: 120\r?$", subscribes[1], re.M), "the subscription asks for the period"
    assert re.search(rf"^SUBSCRIBE sip:alice@127\.0\.0\.1:{voicemail.port} SIP/2\.0", subscribes[0])
    assert result.digest_ok("alice", "alice-secret")
    log = kamailio.log
    assert "portier-kam: proxy auth failed for alice" in log, "Kamailio should have challenged the SUBSCRIBE"
    assert len(re.findall(r"portier-kam: request SUBSCRIBE ", log)) == 5, kamailio.tail()


async def test_a_notify_without_subscription_is_heard(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    kamailio = kamailio_factory()
    async with running_device(tmp_path, line_values(1, "alice", "alice-secret", kamailio.udp_port)) as dut:
        await dut.events.line_status(1, "Registered")
        result = await asyncio.to_thread(
            run_sipp,
            scenario("mwi_unsolicited_uac"),
            remote=kamailio.address(),
            keys={"user": "bob", "to_user": "alice", "new": "3", "old": "5"},
            auth=("bob", "bob-secret"),
            timeout=10,
            workdir=tmp_path / "sipp",
        )
        assert_sipp_ok(result)
        found = await dut.events.wait_for(lambda e: isinstance(e, VoiceMessages), 5, "the NOTIFY")
    assert found == VoiceMessages(1, True, 3, 5, 0, 0, "sip:bob@127.0.0.1")
