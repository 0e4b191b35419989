"""TLS contexts for SIP over TLS (RFC 3261 §26.2, RFC 5922 server identity).

Why contexts are built from PEM bytes rather than file paths: certificates live in the settings
store and the web upload, not on disk; and why every load is checked separately: "cannot load key"
is something a person can fix, an OpenSSL "PEM lib" error is not.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


class TlsSettingsError(ValueError):
    """A certificate, key or option that cannot be used; the message names which and why."""


@dataclass(frozen=True)
class TlsSettings:
    """What both ends of a SIP TLS connection need; the caller maps portier settings onto it.

    ``verify_peer`` checks the server's chain when connecting out; ``check_hostname`` additionally
    checks that it names the host (or IP) dialled. A listener asks clients for a certificate only
    when ``require_client_certificate`` is set (mutual TLS), since most phones present none.
    """

    certificate_pem: bytes | None = None
    key_pem: bytes | None = None
    trust_pems: tuple[bytes, ...] = ()
    verify_peer: bool = True
    check_hostname: bool = True
    min_version: str = "1.2"
    require_client_certificate: bool = False


def _check_pems(cert_pem: bytes, key_pem: bytes) -> None:
    def fail(what: str, why: str) -> TlsSettingsError:
        return TlsSettingsError(f"device certificate: cannot load {what}: {why}")

    if b"-----BEGIN CERTIFICATE-----" not in cert_pem:
        raise fail("certificate", "no -----BEGIN CERTIFICATE----- line")
    try:
        x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise fail("certificate", "the data inside the PEM armour is not a certificate") from None
    if b"PRIVATE KEY-----" not in key_pem:
        raise fail("key", "no -----BEGIN PRIVATE KEY----- line")
    try:
        serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise fail("key", "it is encrypted; give it without a passphrase") from None
    except ValueError as exc:  # first sentence only: the rest is a link or an ASN.1 dump
        raise fail("key", str(exc).split(". ")[0].rstrip(".")) from None


def _load_identity(ctx: ssl.SSLContext, s: TlsSettings) -> None:
    if s.certificate_pem is None or s.key_pem is None:
        raise TlsSettingsError("device certificate: a certificate and its key are both needed")
    _check_pems(s.certificate_pem, s.key_pem)
    # ssl loads chains only from files: a private directory (mode 0700) that is removed at once.
    with tempfile.TemporaryDirectory(prefix="portier-tls-") as tmp:
        cert_path, key_path = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        with open(cert_path, "wb") as f:
            f.write(s.certificate_pem)
        with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(s.key_pem)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as exc:
            if "KEY_VALUES_MISMATCH" in str(exc) or "key values mismatch" in str(exc):
                why = "the key does not belong to the certificate"
                raise TlsSettingsError(f"device certificate: {why}") from None
            raise TlsSettingsError(f"device certificate: cannot load: {exc.reason or exc}") from None


def _load_trust(ctx: ssl.SSLContext, s: TlsSettings, *, defaults: bool) -> None:
    for number, pem in enumerate(s.trust_pems, start=1):
        try:
            ctx.load_verify_locations(cadata=pem.decode("ascii"))
        except (ssl.SSLError, UnicodeDecodeError, ValueError):
            why = "not a PEM certificate"
            raise TlsSettingsError(f"trusted certificate {number}: cannot load: {why}") from None
    if defaults and not s.trust_pems:
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)


def _base(s: TlsSettings, protocol: int) -> ssl.SSLContext:
    version = _VERSIONS.get(s.min_version)
    if version is None:
        choices = ", ".join(_VERSIONS)
        raise TlsSettingsError(f"TLS minimum version must be one of {choices}; got {s.min_version!r}")
    ctx = ssl.SSLContext(protocol)
    if version < ssl.TLSVersion.TLSv1_2:
        # OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; old phones need them.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = version
    return ctx


def server_context(s: TlsSettings) -> ssl.SSLContext:
    """Context for the TLS listener: presents the device certificate."""
    ctx = _base(s, ssl.PROTOCOL_TLS_SERVER)
    _load_identity(ctx, s)
    if s.require_client_certificate:
        ctx.verify_mode = ssl.CERT_REQUIRED
        _load_trust(ctx, s, defaults=False)
        if not s.trust_pems:
            raise TlsSettingsError("client certificates are required but no trusted certificate is given")
    return ctx


def client_context(s: TlsSettings) -> ssl.SSLContext:
    """Context for outbound TLS: trusts ``trust_pems`` (system CAs only when none are given)."""
    ctx = _base(s, ssl.PROTOCOL_TLS_CLIENT)
    if s.verify_peer:
        ctx.check_hostname = s.check_hostname
        _load_trust(ctx, s, defaults=True)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if s.certificate_pem is not None or s.key_pem is not None:
        _load_identity(ctx, s)
    return ctx
