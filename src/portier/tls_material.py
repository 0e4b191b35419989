"""The device's TLS identity and trust store, from storage (manual 9.27, 9.28).

The default device certificate is made once, on first need, and kept in the files table so every
restart (and the web server, later) presents the same one; a CUSTOM certificate is an uploaded
PEM holding both the certificate and its key. Trust certificates are the uploaded PEMs.
"""

from __future__ import annotations

import logging

from portier import MODEL
from portier.certificates import make_self_signed
from portier.settings.records import FileKind, StoredFile
from portier.settings.security import DeviceCertMode, SecuritySettings
from portier.storage import Storage

log = logging.getLogger(__name__)

DEFAULT_NAME = "default-device.pem"


def split_pem(content: bytes) -> tuple[bytes, bytes]:
    """(certificate chain, private key) from one PEM file holding both."""
    cert: list[bytes] = []
    key: list[bytes] = []
    block: list[bytes] = []
    for line in content.splitlines(keepends=True):
        block.append(line)
        if line.startswith(b"-----END "):
            (key if b"PRIVATE KEY" in line else cert).append(b"".join(block))
            block = []
    return b"".join(cert), b"".join(key)


def device_certificate(storage: Storage, security: SecuritySettings) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM) the device presents."""
    files = [f for _, f in storage.rows(StoredFile) if f.kind == FileKind.DEVICE_CERTIFICATE]
    if security.device_certificates.mode == DeviceCertMode.CUSTOM:
        wanted = security.device_certificates.custom_file
        for stored in files:
            if stored.name == wanted:
                cert, key = split_pem(stored.content)
                if cert and key:
                    return cert, key
                log.warning(
                    "custom device certificate %r lacks a certificate or key; using the default", wanted
                )
                break
        else:
            log.warning("custom device certificate %r is not uploaded; using the default", wanted)
    for stored in files:
        if stored.name == DEFAULT_NAME:
            return split_pem(stored.content)
    cert, key = make_self_signed(MODEL)
    storage.add(StoredFile(kind=FileKind.DEVICE_CERTIFICATE, name=DEFAULT_NAME, content=cert + key))
    return cert, key


def trust_certificates(storage: Storage) -> tuple[bytes, ...]:
    return tuple(f.content for _, f in storage.rows(StoredFile) if f.kind == FileKind.TRUST_CERTIFICATE)
