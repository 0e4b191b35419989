"""SIP lines against a real Kamailio registrar with digest auth (issue: SIP lines, "Proven by")."""

from __future__ import annotations

from pathlib import Path

from portier.events import AddressChanged, LineStatusChanged
from portier.settings.records import FileKind, StoredFile

from .conftest import KamailioFactory
from .device import line_values, running_device
from .sipp import free_port


def contact_port(contacts: list[str]) -> list[str]:
    return [c for c in contacts if "127.0.0.1" in c]


async def test_line_registers_with_qop_over_udp(tmp_path: Path, kamailio_factory: KamailioFactory) -> None:
    kamailio = kamailio_factory(qop=True)
    values = line_values(1, "alice", "alice-secret", kamailio.udp_port)
    async with running_device(tmp_path, values) as dut:
        registered = await dut.events.line_status(1, "Registered")
        assert registered.server.startswith(f"127.0.0.1:{kamailio.udp_port}")
        contacts = kamailio.registered("alice")
        assert any(f"127.0.0.1:{dut.sip_port}" in c for c in contacts), contacts
        (state, _) = dut.sip.line_states()
        assert state.status == "Registered" and state.expires > 0
    assert kamailio.registered("alice") == []  # stopping the device unregistered the line


async def test_line_registers_without_qop_and_over_tcp(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    kamailio = kamailio_factory(qop=False)
    values = line_values(1, "bob", "bob-secret", kamailio.tcp_port, transport="TCP")
    async with running_device(tmp_path, values) as dut:
        await dut.events.line_status(1, "Registered")
        assert any("transport=tcp" in c for c in kamailio.registered("bob")), kamailio.registered("bob")


async def test_line_registers_over_tls_trusting_the_uploaded_certificate(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    kamailio = kamailio_factory()
    values = line_values(
        1,
        "alice",
        "alice-secret",
        kamailio.tls_port,
        transport="TLS",
        **{"security.trust_certificates.verify_server": 1},
    )
    async with running_device(tmp_path / "untrusted", values) as dut:
        failed = await dut.events.line_status(1, "Failed")
        assert "certificate" in failed.reason.lower(), failed.reason
    trusted = tmp_path / "trusted"
    from portier.storage import Storage

    Storage(trusted).add(
        StoredFile(kind=FileKind.TRUST_CERTIFICATE, name="kamailio.pem", content=kamailio.tls_cert_pem)
    )
    async with running_device(trusted, values) as dut:
        await dut.events.line_status(1, "Registered")
        assert any("transport=tls" in c for c in kamailio.registered("alice")), kamailio.registered("alice")


async def test_wrong_password_ends_failed_not_looping(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    kamailio = kamailio_factory()
    values = line_values(1, "alice", "wrong", kamailio.udp_port, **{"Reg Fail Interval": 30})
    async with running_device(tmp_path, values) as dut:
        failed = await dut.events.line_status(1, "Failed")
        assert "rejected" in failed.reason
        assert kamailio.registered("alice") == []


async def test_two_lines_on_two_registrars_and_a_change_re_registers_that_line_only(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    first = kamailio_factory()
    second = kamailio_factory()
    values = {
        **line_values(1, "alice", "alice-secret", first.udp_port),
        **line_values(2, "bob", "bob-secret", second.udp_port),
    }
    async with running_device(tmp_path, values) as dut:
        await dut.events.line_status(1, "Registered")
        await dut.events.line_status(2, "Registered")
        assert first.registered("alice") and second.registered("bob")
        assert first.registered("bob") == [] and second.registered("alice") == []
        before = len(dut.events.events)
        line1_before = len(dut.events.line(1))
        await dut.set({"SIP2 Display Name": "Back Door"})
        await dut.events.line_status(2, "Registered", after=before)
        assert len(dut.events.line(1)) == line1_before  # SIP1 untouched
        assert first.registered("alice")


async def test_registrar_killed_goes_timeout_and_comes_back_registered(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    kamailio = kamailio_factory(min_expires=30)
    values = line_values(1, "alice", "alice-secret", kamailio.udp_port, **{"SIP1 Register TTL": 30})
    async with running_device(tmp_path, values) as dut:
        await dut.events.line_status(1, "Registered")
        kamailio.kill()
        mark = len(dut.events.events)
        await dut.events.line_status(1, "Timeout", timeout=30, after=mark)  # refresh at 15 s + Timer F
        kamailio.restart()
        await dut.events.line_status(1, "Registered", timeout=15, after=mark)
        assert kamailio.registered("alice")


async def test_dead_server_1_fails_over_to_server_2_then_fails_back(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    primary = kamailio_factory()
    backup = kamailio_factory()
    primary.kill()
    values = line_values(
        1,
        "alice",
        "alice-secret",
        primary.tcp_port,
        transport="TCP",
        **{
            "SIP1 Backup Addr": "127.0.0.1",
            "SIP1 Backup Port": backup.tcp_port,
            "lines.sip1.server2.transport": "TCP",
            "SIP1 Signal Retry Counts": 1,
            "SIP1 Failback Interval": 30,
        },
    )
    async with running_device(tmp_path, values) as dut:
        on_backup = await dut.events.line_status(1, "Registered", timeout=15)
        assert on_backup.server.startswith(f"127.0.0.1:{backup.tcp_port}")
        assert backup.registered("alice")
        primary.restart()
        mark = len(dut.events.events)
        back = await dut.events.line_status(1, "Registered", timeout=45, after=mark)
        assert back.server.startswith(f"127.0.0.1:{primary.tcp_port}")
        assert primary.registered("alice")


async def test_outbound_proxy_and_a_line_on_its_own_local_port(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    kamailio = kamailio_factory()
    own_port = free_port("udp")
    values = line_values(
        2, "bob", "bob-secret", 5060,
        **{
            "SIP2 Register Addr": "portier.test",  # a domain with no DNS: only the proxy is ever contacted
            "SIP2 Proxy Addr": "127.0.0.1",
            "SIP2 Proxy Port": kamailio.udp_port,
            "SIP2 Signal Port": own_port,
        },
    )  # fmt: skip
    async with running_device(tmp_path, values) as dut:
        await dut.events.line_status(2, "Registered")
        contacts = kamailio.registered("bob")
        assert any(f"127.0.0.1:{own_port}" in c for c in contacts), contacts
        assert set(dut.sip.agents) == {dut.sip_port, own_port}


async def test_a_new_device_address_registers_the_line_again(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    """The network watcher's AddressChanged (a new DHCP lease) makes each line register again, so the
    registrar learns the new Contact: the line unregisters and registers once more, and Kamailio ends
    with one binding. Losing the address (new None) registers nothing. (The watcher itself is tested
    in a namespace where addresses really change: test_network_watch.py.)"""
    kamailio = kamailio_factory()
    values = line_values(1, "alice", "alice-secret", kamailio.udp_port, **{"SIP1 Register TTL": 3600})
    async with running_device(tmp_path, values) as dut:
        await dut.events.line_status(1, "Registered")
        assert len(kamailio.registered("alice")) == 1
        mark = len(dut.events.events)
        dut.device.bus.publish(AddressChanged("192.0.2.10", None))
        dut.device.bus.publish(AddressChanged(None, "127.0.0.1"))
        await dut.events.line_status(1, "Registered", after=mark)
        assert len(kamailio.registered("alice")) == 1, kamailio.registered("alice")
        renewal = [e.status for e in dut.events.events[mark:] if isinstance(e, LineStatusChanged)]
        assert renewal.count("Registered") == 1 and renewal[-1] == "Registered", renewal
