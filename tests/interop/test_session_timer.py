"""Session timers (RFC 4028) on a real device, refreshed by SIPp; the negotiation rules as unit checks."""

from __future__ import annotations

from pathlib import Path

from .device import running_device
from .test_calls_sipp import assert_sipp_ok, sipp_call


async def test_session_timer_negotiated_and_refreshed_by_the_caller(tmp_path: Path) -> None:
    async with running_device(tmp_path, {}) as dut:
        result = await sipp_call(dut, tmp_path, "call_session_timer")
        assert_sipp_ok(result, ["Session-Expires: 120;refresher=uac", "Require: timer"])
        ended = await dut.call_state("Ended")
        assert ended.reason == "remote hangup"
        states = [e.state for e in dut.events.events if hasattr(e, "state") and hasattr(e, "call_id")]
        assert states.count("Talking") >= 1 and "Held" not in states


async def test_too_small_session_interval_gets_422(tmp_path: Path) -> None:
    from .test_calls_sipp import scenario  # noqa: F401  (the harness locates scenarios)

    async with running_device(tmp_path, {}) as dut:
        path = tmp_path / "small.xml"
        text = (Path(__file__).parent / "scenarios" / "call_session_timer.xml").read_text()
        head = text.split('  <recv response="200" rtd="true">')[0].replace("120;refresher=uac", "60")
        path.write_text(head + '  <recv response="422"/>\n</scenario>\n')
        import asyncio

        from .sipp import free_port, run_sipp

        result = await asyncio.to_thread(
            run_sipp,
            path,
            remote=f"127.0.0.1:{dut.sip_port}",
            extra=["-mp", str(free_port("udp"))],
            timeout=15,
            workdir=tmp_path / "sipp",
        )
        assert result.ok, result.explain()
        assert "Min-SE: 90" in result.messages_log
