"""The SIP service inside a running device: what settings do to the listeners (no registrar needed)."""

from __future__ import annotations

import socket
from pathlib import Path

from .device import running_device


async def test_signal_dscp_marks_sip_packets_and_changes_apply_live(tmp_path: Path) -> None:
    async with running_device(tmp_path, {}) as dut:
        agent = dut.sip.agent()
        assert agent.transport.tos(agent.transport.local("UDP")) == 0  # QoS off by default
        await dut.set({"Enable diffServ": 1, "Singalling DSCP": 40})
        agent = dut.sip.agent()
        assert agent.transport.tos(agent.transport.local("UDP")) == 40 << 2
        assert agent.transport.tos(agent.transport.local("TCP")) == 40 << 2


async def test_device_listens_on_udp_tcp_and_tls_and_lines_start_unapplied(tmp_path: Path) -> None:
    async with running_device(tmp_path, {}) as dut:
        agent = dut.sip.agent()
        assert {agent.transport.local(t).port for t in ("UDP", "TCP")} == {dut.sip_port}
        assert agent.transport.local("TLS").port == dut.sip_port + 1
        with socket.create_connection(("127.0.0.1", dut.sip_port + 1), timeout=5):
            pass
        assert [s.status for s in dut.sip.line_states()] == ["Unapplied", "Unapplied"]


async def test_activating_a_line_without_a_server_reports_why(tmp_path: Path) -> None:
    async with running_device(tmp_path, {}) as dut:
        await dut.set({"SIP1 Enable Reg": 1, "SIP1 Phone Number": "100"})
        failed = await dut.events.line_status(1, "Failed")
        assert "no SIP server" in failed.reason
