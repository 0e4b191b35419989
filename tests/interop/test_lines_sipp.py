"""SIP lines against SIPp playing registrars that challenge, refuse and throttle (issue: SIP lines)."""

from __future__ import annotations

from pathlib import Path

from .conftest import SippServerFactory
from .device import line_values, running_device
from .sipp import scenario


async def test_401_challenge_is_answered_with_the_right_digest(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    server = sipp_server_factory(
        scenario("reg_401.xml"), keys={"user": "door", "password": "s3cret", "expires": "120"}
    )
    async with running_device(tmp_path, line_values(1, "door", "s3cret", server.port)) as dut:
        await dut.events.line_status(1, "Registered")
        (state, _) = dut.sip.line_states()
        assert state.expires == 120
    result = server.wait(10)
    assert result.ok, result.explain()
    assert result.digest_ok("door", "s3cret")


async def test_407_challenge_is_answered_with_proxy_authorization(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    server = sipp_server_factory(scenario("reg_407.xml"), keys={"expires": "300"})
    async with running_device(tmp_path, line_values(1, "door", "pw407", server.port)) as dut:
        await dut.events.line_status(1, "Registered")
    result = server.wait(10)
    assert result.ok, result.explain()
    assert result.digest_ok("door", "pw407", header="Proxy-Authorization")


async def test_423_interval_too_brief_is_honoured(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    server = sipp_server_factory(scenario("reg_423.xml"))
    values = line_values(1, "door", "pw", server.port, **{"SIP1 Register TTL": 60})
    async with running_device(tmp_path, values) as dut:
        await dut.events.line_status(1, "Registered")
    result = server.wait(10)
    assert result.ok, result.explain()
    registers = result.received("REGISTER")
    assert "Expires: 60" in registers[0] and "Expires: 3600" in registers[1]


async def test_403_goes_failed_and_does_not_loop(
    tmp_path: Path, sipp_server_factory: SippServerFactory
) -> None:
    server = sipp_server_factory(scenario("reg_403.xml"))
    values = line_values(1, "door", "pw", server.port, **{"Reg Fail Interval": 30})
    async with running_device(tmp_path, values) as dut:
        failed = await dut.events.line_status(1, "Failed")
        assert failed.reason == "403 Forbidden"
        result = server.wait(15)  # the scenario fails if a second REGISTER arrives within 4 s
    assert result.ok, result.explain()
    assert len(result.received("REGISTER")) == 1


async def test_503_retry_after_is_waited_for(tmp_path: Path, sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_503.xml"), keys={"expires": "600"})
    async with running_device(tmp_path, line_values(1, "door", "pw", server.port)) as dut:
        failed = await dut.events.line_status(1, "Failed")
        assert failed.reason.startswith("503")
        await dut.events.line_status(1, "Registered", timeout=15)
    result = server.wait(10)
    assert result.ok, result.explain()  # SIPp itself checks the second REGISTER came >= 4.8 s later
