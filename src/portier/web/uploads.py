"""Files uploaded on the web pages (ringtones, certificates, OpenVPN files) and what each must be.

Every upload is checked before it is stored, with a sentence naming what is wrong: a certificate
that does not parse, a device certificate without its key, a ringtone that is neither WAV nor MP3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509

from portier.settings.records import FileKind
from portier.sip.tls import TlsSettings, TlsSettingsError, server_context
from portier.tls_material import DEFAULT_NAME, split_pem

MAX_BYTES = 4 * 1024 * 1024


def _ringtone(content: bytes) -> str | None:
    wav = content[:4] == b"RIFF" and content[8:12] == b"WAVE"
    mp3 = content[:3] == b"ID3" or (len(content) > 1 and content[0] == 0xFF and content[1] & 0xE0 == 0xE0)
    return None if wav or mp3 else "a ringtone must be a WAV or MP3 file"


def _certificate(content: bytes) -> str | None:
    try:
        x509.load_pem_x509_certificates(content)
    except ValueError:
        return "not a PEM certificate (it must contain -----BEGIN CERTIFICATE-----)"
    return None


def _device_certificate(content: bytes) -> str | None:
    cert, key = split_pem(content)
    try:
        server_context(TlsSettings(certificate_pem=cert or None, key_pem=key or None))
    except TlsSettingsError as exc:
        return f"{exc}; upload one PEM file with the certificate and its unencrypted private key"
    return None


def _anything(content: bytes) -> str | None:
    return None


@dataclass(frozen=True)
class FileSpec:
    kind: FileKind
    title: str
    extensions: tuple[str, ...]
    check: Callable[[bytes], str | None]
    names: tuple[str, ...] = ()
    """Fixed names a file must have (OpenVPN's client.ovpn, ca.crt...); empty allows any name."""
    protected: tuple[str, ...] = ()
    """Files that cannot be deleted here."""

    def problem(self, name: str, content: bytes) -> str | None:
        if self.names and name not in self.names:
            return f"{name!r} is not one of the expected files: {', '.join(self.names)}"
        if not name.lower().endswith(self.extensions):
            return f"{name!r} must end in {' or '.join(self.extensions)}"
        if not content:
            return f"{name!r} is empty"
        if len(content) > MAX_BYTES:
            return f"{name!r} is larger than {MAX_BYTES // (1024 * 1024)} MB"
        if name in self.protected:
            return f"{name!r} is the built-in file and cannot be replaced; upload under another name"
        return self.check(content)


FILES: dict[FileKind, FileSpec] = {
    spec.kind: spec
    for spec in (
        FileSpec(FileKind.RINGTONE, "Ringtones", (".wav", ".mp3"), _ringtone),
        FileSpec(FileKind.TRUST_CERTIFICATE, "Trusted certificates", (".pem", ".crt", ".cer"), _certificate),
        FileSpec(FileKind.DEVICE_CERTIFICATE, "Device certificates", (".pem",), _device_certificate,
                 protected=(DEFAULT_NAME,)),
        FileSpec(FileKind.OPENVPN, "OpenVPN files", (".ovpn", ".crt", ".key"), _anything,
                 names=("client.ovpn", "ca.crt", "client.crt", "client.key")),
    )
}  # fmt: skip
