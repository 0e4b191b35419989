"""Limit Talking Duration (manual 9.15, Table 17) on the wire: a door call cannot be left open for ever.

"Talking Duration" accepts 20-600 s, so the tests use 20 s, its minimum: there is no shorter setting
and the timer is the event loop's own, so the test waits it out for real. SIPp calls in and stays in
the call; with the limit on, the device ends the call with a BYE 20 s after it answered (measured
between SIPp's own trace timestamps of the 200 and of the BYE), and reports why. With the limit off
the same call outlasts the 20 s and SIPp ends it; a BYE from the device would fail SIPp's scenario.
"""

from __future__ import annotations

from pathlib import Path

from portier.settings.document import find

from .device import running_device
from .test_calls_sipp import assert_sipp_ok, received_at, sipp_call

TALKING_DURATION = 20
LATE_S = 1.0
"""How long after the limit the BYE may come (the setting counts whole seconds)."""


async def test_a_call_is_hung_up_with_bye_when_it_reaches_the_talking_duration(tmp_path: Path) -> None:
    assert find("P1 Talk Duration").bound("ge") == TALKING_DURATION, "the shortest limit the schema allows"
    values = {"P1 Limit Talk Duration": 1, "P1 Talk Duration": TALKING_DURATION}
    async with running_device(tmp_path / "dut", values) as dut:
        result = await sipp_call(dut, tmp_path, "call_uac_wait_bye", timeout=TALKING_DURATION + 15)
        assert_sipp_ok(result)
        ended = await dut.call_state("Ended")
        talking = await dut.call_state("Talking")
    assert (ended.call_id, ended.reason) == (talking.call_id, "talking duration limit")
    (bye,) = result.received("BYE")
    assert bye.startswith("BYE sip:"), result.explain()
    wire = received_at(result)
    answered = next(t for t, line in wire if line.startswith("SIP/2.0 200"))
    hung_up = next(t for t, line in wire if line.startswith("BYE "))
    lasted = hung_up - answered
    assert TALKING_DURATION - 0.2 <= lasted <= TALKING_DURATION + LATE_S, (
        f"the device hung up {lasted:.2f} s after answering, not after {TALKING_DURATION} s"
    )


async def test_with_the_limit_off_the_call_outlasts_the_talking_duration(tmp_path: Path) -> None:
    values = {"P1 Limit Talk Duration": 0, "P1 Talk Duration": TALKING_DURATION}
    hold_ms = (TALKING_DURATION + 2) * 1000
    async with running_device(tmp_path / "dut", values) as dut:
        result = await sipp_call(
            dut, tmp_path, "call_uac_bye", hold_ms=hold_ms, timeout=TALKING_DURATION + 15
        )
        assert_sipp_ok(result)
        ended = await dut.call_state("Ended")
    assert ended.reason == "remote hangup"
    assert result.received("BYE") == [], "the device hung up although the limit is off"
    wire = received_at(result)
    answered = next(t for t, line in wire if line.startswith("SIP/2.0 200"))
    last = wire[-1][0]  # the 200 for SIPp's own BYE
    assert last - answered >= TALKING_DURATION + 1.5, f"the call lasted only {last - answered:.2f} s"
