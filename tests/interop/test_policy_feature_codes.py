"""Feature codes and the hotline on the wire (manual 9.12: "Use Feature Code", "Enable Hotline").

With "Use Feature Code" on, switching DND (or a forward, with its target after the code) dials the
line's code through its outbound proxy (Kamailio, digest) to the PBX (SIPp), which receives the code
as the Request-URI user and answers; the device hangs up after the confirmation and reports the
change, while its own DND setting stays as it was (the server handles DND now). With it off, the
same switch changes the setting. The hotline dials its number after the delay when the device goes
off hook, and not when it goes back on hook first. These short calls are calls on the wire, so the
call log lists them as outgoing. The DND and forward Action URLs (manual 9.19) are requested for a
switch done by code just as for one done by setting, with the line they are about.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from portier.events import CallStateChanged, DndChanged, Event, ForwardChanged
from portier.phone.feature_codes import Feature, FeatureCodes
from portier.settings.records import Direction

from .conftest import KamailioFactory, SippServerFactory
from .device import running_device
from .test_action_url import HttpRecorder
from .test_calls_sipp import assert_sipp_ok
from .test_policy_incoming import call_log
from .test_policy_outgoing import kamailio_and_pbx, pbx_line, talk_and_hang_up

CODES = {"SIP1 SvcCode Mode": 1, "SIP1 DNDOn SvcCode": "*78", "SIP1 DNDOff SvcCode": "*79",
         "SIP1 CFUOn SvcCode": "*72"}


def switch_urls(http: HttpRecorder) -> dict[str, str]:
    """The DND and forward-always Action URLs, each naming the line's user."""
    return {f"intercom.action_url.{event}": http.url(event, "user=$active_user")
            for event in ("dnd_on", "dnd_off", "always_fwd_on")}  # fmt: skip


async def test_dnd_by_feature_code_dials_the_code_to_the_pbx(
    tmp_path: Path, kamailio_factory: KamailioFactory, sipp_server_factory: SippServerFactory
) -> None:
    kamailio, pbx = kamailio_and_pbx(tmp_path, kamailio_factory, sipp_server_factory, r"\*78|\*79|\*72301", 3)
    port = pbx.port
    async with (
        HttpRecorder() as http,
        running_device(tmp_path / "dut", {**pbx_line(kamailio, pbx, **CODES), **switch_urls(http)}) as dut,
    ):
        await dut.events.line_status(1, "Registered")
        features: FeatureCodes = dut.sip.features
        features.CONFIRM_WAIT = 0.3  # the SIPp PBX confirms nothing: hang up soon after the answer
        on = await features.set(1, Feature.DND, True)
        assert (on.via, on.done, on.detail) == ("code", True, "answered")
        await dut.events.wait_for(lambda e: e == DndChanged(1, True, via="code"), 5, "DND on by code")
        off = await features.set(1, Feature.DND, False)
        assert (off.via, off.done) == ("code", True)
        assert not dut.device.settings.current.lines.sip1.dnd, "the server has DND; the setting is untouched"
        forward = await features.set(1, Feature.FORWARD_UNCONDITIONAL, True, "301")
        assert (forward.via, forward.done) == ("code", True)
        await dut.events.wait_for(
            lambda e: e == ForwardChanged(1, "unconditional", True, "301", via="code"), 5, "forward by code"
        )

        await dut.set({"SIP1 SvcCode Mode": 0})
        local = await features.set(1, Feature.DND, True)
        assert (local.via, local.done) == ("setting", True)
        assert dut.device.settings.current.lines.sip1.dnd
        await dut.events.wait_for(lambda e: e == DndChanged(1, True), 5, "DND on by setting")
        await http.wait_for(lambda rs: len(rs) >= 4, "four Action URL requests")
        log = await call_log(dut)
    assert [(r.event, r.query) for r in http.requests] == [
        ("dnd_on", {"user": "alice"}), ("dnd_off", {"user": "alice"}), ("always_fwd_on", {"user": "alice"}),
        ("dnd_on", {"user": "alice"}),  # the last one by setting, once the feature codes were off
    ]
    result = await asyncio.to_thread(pbx.wait, 10)
    assert_sipp_ok(result)
    invites = [message.splitlines()[0] for message in result.received("INVITE")]
    assert invites == [f"INVITE sip:{code}@127.0.0.1:{port} SIP/2.0" for code in ("*78", "*79", "*72301")]
    assert [direction for direction, _, _ in log] == [Direction.OUTGOING] * 3


async def test_hotline_dials_after_the_delay_unless_back_on_hook(
    tmp_path: Path, kamailio_factory: KamailioFactory, sipp_server_factory: SippServerFactory
) -> None:
    kamailio, pbx = kamailio_and_pbx(tmp_path, kamailio_factory, sipp_server_factory, "100", 1)
    port = pbx.port
    hotline = {"SIP1 Enable Hotline": 1, "SIP1 Hotline Num": "100", "SIP1 WarmLine Time": 1}
    async with running_device(tmp_path / "dut", pbx_line(kamailio, pbx, **hotline)) as dut:
        await dut.events.line_status(1, "Registered")
        loop = asyncio.get_running_loop()

        def calling(event: Event) -> bool:
            return isinstance(event, CallStateChanged) and event.state == "Calling"

        target = dut.sip.hotline.off_hook()
        assert target is not None and (target.line, target.number, target.delay) == (1, "100", 1.0)
        assert dut.sip.hotline.on_hook(), "back on hook within the delay"
        await asyncio.sleep(1.5)
        assert not [e for e in dut.events.events if calling(e)], "the hotline must not dial once on hook"

        mark, start = len(dut.events.events), loop.time()
        dut.sip.hotline.off_hook()
        found = await dut.events.wait_for(calling, 5, "the hotline call", after=mark)
        assert loop.time() - start >= 0.9, "the hotline waits for Hotline Delay"
        assert isinstance(found, CallStateChanged) and found.remote == f"sip:100@127.0.0.1:{port}"
        await talk_and_hang_up(dut, dut.calls.calls[found.call_id])
        assert await call_log(dut) == [(Direction.OUTGOING, "SIP1", f"sip:100@127.0.0.1:{port}")]
    assert_sipp_ok(await asyncio.to_thread(pbx.wait, 10))
