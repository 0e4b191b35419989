"""Uploads and table rows on their pages in real Chromium: a ringtone (System >> Upgrade), a device
certificate (Security >> Device Certificates), a restricted number (Call List); each wrong file or
row is refused with its reason and nothing is stored."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from portier.certificates import make_self_signed
from portier.settings.records import FileKind, RestrictedIncoming, StoredFile

from .conftest import login
from .web_device import WebDevice

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.web]


def stored(web_device: WebDevice, kind: FileKind) -> dict[str, bytes]:
    rows = web_device.call(lambda: web_device.device.storage.rows(StoredFile))
    return {f.name: f.content for _, f in rows if f.kind == kind}


def wav_bytes(frequency: float = 440.0) -> bytes:
    """0.1 s of a tone (frequency 0: silence) as a 16-bit mono WAV."""
    samples = [round(8000 * math.sin(2 * math.pi * frequency * n / 8000)) for n in range(800)]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()


async def upload(page: Page, kind: FileKind, path: Path) -> None:
    await page.set_input_files(f"#upload-{kind.value}", str(path))
    await page.click(f"#files-{kind.value} form[enctype] button")


async def test_ringtone_upload_checks_the_file(page: Page, web_device: WebDevice, tmp_path: Path) -> None:
    (tmp_path / "door.wav").write_bytes(wav_bytes())
    (tmp_path / "fake.wav").write_text("not audio")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.wav").write_bytes(wav_bytes()[:12] + b"\x17" * 400)
    (tmp_path / "quiet.wav").write_bytes(wav_bytes(0.0))
    await login(page)
    await page.goto("/system/upgrade")
    await upload(page, FileKind.RINGTONE, tmp_path / "notes.txt")
    await expect(page.locator(".problems")).to_contain_text("'notes.txt' must end in .wav or .mp3")
    await upload(page, FileKind.RINGTONE, tmp_path / "fake.wav")
    await expect(page.locator(".problems")).to_contain_text("a ringtone must be a WAV or MP3 file")
    await upload(page, FileKind.RINGTONE, tmp_path / "broken.wav")  # a WAV header, then nonsense
    await expect(page.locator(".problems")).to_contain_text("not WAV or MP3 audio that can be decoded")
    await upload(page, FileKind.RINGTONE, tmp_path / "quiet.wav")
    await expect(page.locator(".problems")).to_contain_text("the file holds only silence")
    assert stored(web_device, FileKind.RINGTONE) == {}
    await upload(page, FileKind.RINGTONE, tmp_path / "door.wav")
    await expect(page.locator(".message")).to_have_text("The file was uploaded.")
    await expect(page.locator("#files-ringtone")).to_contain_text("door.wav")
    assert stored(web_device, FileKind.RINGTONE) == {"door.wav": wav_bytes()}
    await page.goto("/intercom/media")  # the ring type fields offer the uploaded ringtone
    choices = page.locator("#f-intercom-media-volume-default_ring_type-choices option")
    assert "door.wav" in await choices.evaluate_all("options => options.map(o => o.value)")
    await page.goto("/system/upgrade")
    await page.click("#files-ringtone button.delete")
    await expect(page.locator(".message")).to_have_text("The file was deleted.")
    assert stored(web_device, FileKind.RINGTONE) == {}


async def test_device_certificate_needs_its_key(page: Page, web_device: WebDevice, tmp_path: Path) -> None:
    cert, key = make_self_signed("door.example")
    (tmp_path / "only-cert.pem").write_bytes(cert)
    (tmp_path / "mine.pem").write_bytes(cert + key)
    await login(page)
    await page.goto("/security/device-certificates")
    await upload(page, FileKind.DEVICE_CERTIFICATE, tmp_path / "only-cert.pem")
    await expect(page.locator(".problems")).to_contain_text("a certificate and its key are both needed")
    await upload(page, FileKind.DEVICE_CERTIFICATE, tmp_path / "mine.pem")
    await expect(page.locator("#files-device_certificate")).to_contain_text("mine.pem")
    assert stored(web_device, FileKind.DEVICE_CERTIFICATE)["mine.pem"] == cert + key
    await page.select_option("#f-security-device_certificates-mode", "CUSTOM")
    await page.fill("#f-security-device_certificates-custom_file", "mine.pem")
    await page.click("#save")
    await expect(page.locator(".message")).to_contain_text("Saved: 2 settings changed.")
    await expect(page.locator("#facts")).to_contain_text("CN=door.example")
    row = page.locator("#files-device_certificate tr", has_text="mine.pem")
    await row.locator("button.delete").click()
    await expect(page.locator(".problems")).to_contain_text("is the device certificate in use")
    web_device.set({"Device Cert Mode": "DEFAULT", "Device Cert File": ""})


async def test_restricted_number_rows(page: Page, web_device: WebDevice) -> None:
    await login(page)
    await page.goto("/call-list/call-list")
    table = page.locator("#table-restricted_incoming")
    await table.locator("#t-restricted_incoming-number").fill("")
    await table.locator("form.add-row button").click()
    await expect(table.locator(".error")).to_contain_text("Number")
    await table.locator("#t-restricted_incoming-name").fill("Sales")
    await table.locator("#t-restricted_incoming-number").fill("0900")
    await table.locator("#t-restricted_incoming-prefix").check()
    await table.locator("form.add-row button").click()
    await expect(page.locator(".message")).to_have_text("The row was added.")
    rows = web_device.call(lambda: [r for _, r in web_device.device.storage.rows(RestrictedIncoming)])
    assert rows == [RestrictedIncoming(name="Sales", number="0900", prefix=True, line="AUTO")]
    await page.locator("#table-restricted_incoming button.delete").click()
    await expect(page.locator(".message")).to_have_text("The row was deleted.")
