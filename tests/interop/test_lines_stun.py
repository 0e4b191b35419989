"""STUN on a SIP line (manual Table 16): the binding leaves from the SIP port and its answer is registered."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import cast

from portier.sip.stun import StunMessage, binding_success, is_stun

from .conftest import KamailioFactory
from .device import line_values, running_device


def stun_values(server_port: int) -> dict[str, object]:
    return {
        "SIP1 NAT Type": 1,
        "STUN Server": "127.0.0.1",
        "STUN Port": server_port,
        "SIP Wait Stun Time": 3000,
    }


async def test_line_learns_its_address_from_coturn_and_registers(
    tmp_path: Path, kamailio_factory: KamailioFactory, coturn: tuple[int, Path]
) -> None:
    port, _log = coturn
    kamailio = kamailio_factory()
    values = line_values(1, "alice", "alice-secret", kamailio.udp_port, **stun_values(port))
    async with running_device(tmp_path, values) as dut:
        await dut.events.line_status(1, "Registered", timeout=15)
        (state, _) = dut.sip.line_states()
        # On loopback there is no NAT: coturn must report exactly the SIP port the device listens on.
        assert state.public == f"127.0.0.1:{dut.sip_port}"


class NattedStun(asyncio.DatagramProtocol):
    """Answers Binding requests with a fixed mapping, the way a STUN server behind a NAT sees us."""

    def __init__(self, mapped: tuple[str, int]) -> None:
        self.mapped = mapped
        self.sources: list[tuple[str, int]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not is_stun(data) or self.transport is None:
            return
        request = StunMessage.decode(data)
        self.sources.append(addr)
        self.transport.sendto(binding_success(request.transaction_id, *self.mapped), addr)


async def test_mapped_address_goes_into_the_registered_contact(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    kamailio = kamailio_factory()
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        stun_port = probe.getsockname()[1]
    transport, server = await loop.create_datagram_endpoint(
        lambda: NattedStun(("127.0.0.1", 40123)), local_addr=("127.0.0.1", stun_port)
    )
    try:
        values = line_values(1, "alice", "alice-secret", kamailio.udp_port, **stun_values(stun_port))
        async with running_device(tmp_path, values) as dut:
            await dut.events.line_status(1, "Registered", timeout=15)
            assert server.sources and server.sources[0] == (
                "127.0.0.1",
                dut.sip_port,
            )  # sent from the SIP port
            assert any("127.0.0.1:40123" in c for c in kamailio.registered("alice")), kamailio.registered(
                "alice"
            )
    finally:
        transport.close()
