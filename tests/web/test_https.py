"""Web server type HTTPS (manual 9.9): the device certificate on the HTTPS port, the HTTP port sending
browsers there, Secure cookies; and a port that cannot be bound leaves the device running."""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509

from portier.certificates import make_self_signed
from portier.settings.records import FileKind, StoredFile
from portier.tls_material import DEFAULT_NAME, device_certificate

from ..interop.sipp import free_port
from .conftest import token_in
from .web_device import LOOPBACK, WebDevice


def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {LOOPBACK}:{port} after {timeout} s")


def wait_serving(web_device: WebDevice, urls: list[str], timeout: float = 10.0) -> None:
    """Wait until the web service has moved its listeners to exactly ``urls``."""
    deadline = time.monotonic() + timeout
    while web_device.web.moving or web_device.web.urls != urls:
        assert time.monotonic() < deadline, f"the web server serves {web_device.web.urls}, not {urls}"
        time.sleep(0.05)


@pytest.fixture
def https(web_device: WebDevice) -> Iterator[int]:
    """The device switched to HTTPS on a free port; back to HTTP afterwards."""
    port = free_port("tcp")
    web_device.set({"Https Web Port": port, "Web Server Type": "HTTPS"})
    wait_serving(web_device, [f"https://{LOOPBACK}:{port}", web_device.url])
    try:
        yield port
    finally:
        web_device.set({"Web Server Type": "HTTP"})
        wait_serving(web_device, [web_device.url])


def test_https_presents_the_device_certificate_and_secure_cookies(web_device: WebDevice, https: int) -> None:
    pem = ssl.get_server_certificate((LOOPBACK, https), timeout=5)
    presented = x509.load_pem_x509_certificate(pem.encode())
    stored = web_device.call(
        lambda: device_certificate(web_device.device.storage, web_device.device.settings.current.security)
    )
    assert presented == x509.load_pem_x509_certificate(stored[0])
    names = web_device.call(lambda: [f.name for _, f in web_device.device.storage.rows(StoredFile)
                                     if f.kind == FileKind.DEVICE_CERTIFICATE])  # fmt: skip
    assert DEFAULT_NAME in names, "the self-signed certificate is kept, so every start presents the same one"
    with httpx.Client(base_url=f"https://{LOOPBACK}:{https}", verify=False, timeout=15) as client:
        form = client.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()
        answer = client.post(
            "/login", data={"username": "admin", "password": "admin", "csrf_token": token_in(form.text)}
        )
        assert answer.status_code == 303
        session = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("portier_session="))
        assert "; secure" in session.lower() and "httponly" in session.lower()
        assert client.get("/system/information").status_code == 200


def test_the_http_port_redirects_to_https(web_device: WebDevice, https: int) -> None:
    with httpx.Client(timeout=15) as client:
        moved = client.get(f"{web_device.url}/network/basic?x=1")
    assert moved.status_code == 301
    assert moved.headers["location"] == f"https://{LOOPBACK}:{https}/network/basic?x=1"


def test_a_port_in_use_is_logged_and_the_device_runs_on(
    web_device: WebDevice, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as squatter:
        squatter.bind((LOOPBACK, 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        caplog.set_level(logging.ERROR, logger="portier.web")
        try:
            web_device.set({"Https Web Port": taken, "Web Server Type": "HTTPS"})
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and "cannot listen" not in caplog.text:
                time.sleep(0.05)
            assert f"cannot listen on https://{LOOPBACK}:{taken}" in caplog.text
            assert "serving HTTP on port" in caplog.text
            assert {"sip", "web"} <= {service.name for service in web_device.device.services}
            wait_serving(web_device, [web_device.url])
            with httpx.Client(timeout=15) as client:  # the pages stay reachable over HTTP, not redirected
                assert client.get(f"{web_device.url}/login").status_code == 200
        finally:
            web_device.set({"Web Server Type": "HTTP"})
    wait_serving(web_device, [web_device.url])


def test_an_uploaded_device_certificate_is_presented(web_device: WebDevice, https: int) -> None:
    cert, key = make_self_signed("door.example", hosts=[LOOPBACK])
    with httpx.Client(base_url=f"https://{LOOPBACK}:{https}", verify=False, timeout=15) as client:
        form = client.get("/login")
        login = {"username": "admin", "password": "admin", "csrf_token": token_in(form.text)}
        assert client.post("/login", data=login).status_code == 303
        page = client.get("/security/device-certificates")
        token = token_in(page.text)
        sent = client.post(
            "/files/device_certificate/upload",
            data={"csrf_token": token},
            files={"file": ("door.pem", cert + key, "application/x-pem-file")},
        )
        assert sent.status_code == 303, sent.text
        saved = client.post(
            "/security/device-certificates",
            data={
                "csrf_token": token,
                "security.device_certificates.mode": "CUSTOM",
                "security.device_certificates.custom_file": "door.pem",
            },
        )
        assert saved.status_code == 303, saved.text
    try:
        wait_serving(web_device, [f"https://{LOOPBACK}:{https}", web_device.url])
        pem = ssl.get_server_certificate((LOOPBACK, https), timeout=5)
        presented = x509.load_pem_x509_certificate(pem.encode())
        assert presented == x509.load_pem_x509_certificate(cert)
    finally:
        web_device.set({"Device Cert Mode": "DEFAULT", "Device Cert File": ""})
