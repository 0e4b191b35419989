"""SIP over TLS on loopback: self-signed device certificates, verification, PEM errors, openssl."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from portier.certificates import make_self_signed
from portier.sip.message import SipResponse
from portier.sip.tls import TlsSettings, TlsSettingsError, client_context, server_context
from portier.sip.transport import Endpoint, SipTransport, TransportConfig, TransportError
from tests.edge.test_transport import WAIT, make_peer, ok, options
from tests.interop.peers import require

__all__ = ["make_peer"]  # the fixture, shared with test_transport

CERT, KEY = make_self_signed("portier test", hosts=["127.0.0.1", "door.example.test"])


def server_settings(cert: bytes = CERT, key: bytes = KEY) -> TlsSettings:
    return TlsSettings(certificate_pem=cert, key_pem=key)


def test_self_signed_certificate_names_its_hosts() -> None:
    cert = x509.load_pem_x509_certificate(CERT)
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert alt.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert alt.get_values_for_type(x509.DNSName) == ["door.example.test"]
    assert cert.subject == cert.issuer
    assert b"PRIVATE KEY" in KEY and b"ENCRYPTED" not in KEY


async def test_tls_round_trip_with_a_trusted_self_signed_certificate(make_peer: Callable[..., Any]) -> None:
    b = await make_peer(tls_port=0, tls=server_settings())
    a = await make_peer(tls=TlsSettings(trust_pems=(CERT,)))
    server = b.transport.local("TLS")
    local = await a.transport.send(options(via="TLS 127.0.0.1:5061"), server)
    assert local.transport == "TLS"
    request = await b.next_inbound()
    assert request.source == Endpoint("TLS", "127.0.0.1", local.port) and request.local == server
    await b.transport.send(ok(), request.source)
    response = await a.next_inbound()
    assert isinstance(response.message, SipResponse) and response.source == server
    assert b.transport.connections() == [(server, request.source)]


async def test_untrusted_server_certificate_is_refused(make_peer: Callable[..., Any]) -> None:
    b = await make_peer(tls_port=0, tls=server_settings())
    other, _ = make_self_signed("someone else", hosts=["127.0.0.1"])
    a = await make_peer(tls=TlsSettings(trust_pems=(other,)))
    with pytest.raises(TransportError, match="certificate verification failed: self-signed certificate"):
        await a.transport.send(options(), b.transport.local("TLS"))
    assert a.transport.connections() == []


async def test_server_name_is_checked_and_can_be_given(make_peer: Callable[..., Any]) -> None:
    cert, key = make_self_signed("door", hosts=["door.example.test"])
    b = await make_peer(tls_port=0, tls=server_settings(cert, key))
    a = await make_peer(tls=TlsSettings(trust_pems=(cert,)))
    server = b.transport.local("TLS")
    with pytest.raises(TransportError, match="certificate verification failed: IP address mismatch"):
        await a.transport.send(options(), server)
    await a.transport.send(options("named"), server, server_name="door.example.test")
    assert (await b.next_inbound()).message.call_id() == "named"


async def test_verification_can_be_switched_off(make_peer: Callable[..., Any]) -> None:
    b = await make_peer(tls_port=0, tls=server_settings())
    a = await make_peer(tls=TlsSettings(verify_peer=False))
    await a.transport.send(options("unverified"), b.transport.local("TLS"))
    assert (await b.next_inbound()).message.call_id() == "unverified"


def test_pem_errors_say_what_is_wrong() -> None:
    junk_key = b"-----BEGIN PRIVATE KEY-----\nbm9uc2Vuc2U=\n-----END PRIVATE KEY-----\n"
    with pytest.raises(TlsSettingsError, match="device certificate: cannot load key: Could not deserialize"):
        server_context(server_settings(key=junk_key))
    with pytest.raises(TlsSettingsError, match="device certificate: cannot load key: no -----BEGIN"):
        server_context(server_settings(key=b"x"))
    with pytest.raises(TlsSettingsError, match="device certificate: cannot load certificate: "):
        server_context(server_settings(cert=b"not a certificate"))
    _, other_key = make_self_signed("other")
    with pytest.raises(TlsSettingsError, match="the key does not belong to the certificate"):
        server_context(server_settings(key=other_key))
    with pytest.raises(TlsSettingsError, match="certificate and its key are both needed"):
        server_context(TlsSettings())
    with pytest.raises(TlsSettingsError, match="trusted certificate 2: cannot load"):
        client_context(TlsSettings(trust_pems=(CERT, b"garbage")))
    with pytest.raises(TlsSettingsError, match=r"must be one of 1\.0, 1\.1, 1\.2, 1\.3; got '1\.4'"):
        client_context(TlsSettings(min_version="1.4"))


def test_context_options() -> None:
    ctx = client_context(TlsSettings(trust_pems=(CERT,), min_version="1.3"))
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3
    assert ctx.cert_store_stats()["x509"] == 1  # only what was given, no system CAs
    loose = client_context(TlsSettings(verify_peer=False))
    assert loose.verify_mode == ssl.CERT_NONE and not loose.check_hostname
    assert server_context(server_settings()).verify_mode == ssl.CERT_NONE
    mutual = server_context(TlsSettings(CERT, KEY, trust_pems=(CERT,), require_client_certificate=True))
    assert mutual.verify_mode == ssl.CERT_REQUIRED


async def test_listener_with_a_bad_key_does_not_start() -> None:
    transport = SipTransport(
        TransportConfig(host="127.0.0.1", udp_port=0, tcp_port=0, tls_port=0, tls=server_settings(key=b"x")),
        lambda _: None,
    )
    bad_key = r"cannot listen on TLS 127\.0\.0\.1:0: device certificate: cannot load key"
    with pytest.raises(TransportError, match=bad_key):
        await transport.start()
    with pytest.raises(TransportError, match="no UDP listener"):  # nothing was left bound
        transport.local("UDP")


async def openssl_client(port: int, ca: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        require("openssl"), "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(ca),
        "-verify_return_error", "-quiet", *extra,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), WAIT)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_openssl_client_talks_sip_over_our_tls(make_peer: Callable[..., Any], tmp_path: Path) -> None:
    b = await make_peer(tls_port=0, tls=server_settings())
    ca = tmp_path / "ca.pem"
    ca.write_bytes(CERT)
    proc = await openssl_client(b.transport.local("TLS").port, ca)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(options("from-openssl"))
        await proc.stdin.drain()
        request = await b.next_inbound()
        assert request.message.call_id() == "from-openssl" and request.source.transport == "TLS"
        await b.transport.send(ok("from-openssl"), request.source)
        assert await asyncio.wait_for(proc.stdout.readline(), WAIT) == b"SIP/2.0 200 OK\r\n"
    finally:
        await stop_process(proc)


async def test_minimum_version_is_enforced(make_peer: Callable[..., Any], tmp_path: Path) -> None:
    b = await make_peer(tls_port=0, tls=TlsSettings(CERT, KEY, min_version="1.3"))
    ca = tmp_path / "ca.pem"
    ca.write_bytes(CERT)
    port = b.transport.local("TLS").port
    old = await openssl_client(port, ca, "-tls1_2")
    try:
        await asyncio.wait_for(old.communicate(options("over-1.2")), WAIT)
        assert old.returncode != 0
    finally:
        await stop_process(old)
    new = await openssl_client(port, ca, "-tls1_3")
    try:
        assert new.stdin is not None
        new.stdin.write(options("over-1.3"))
        await new.stdin.drain()
        assert (await b.next_inbound()).message.call_id() == "over-1.3"  # not the 1.2 one
    finally:
        await stop_process(new)
