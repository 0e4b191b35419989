"""Forms are protected against cross-site requests, and the session cookie is locked down (over HTTP).

Plain HTTP clients, not a browser: a forged request is exactly what a browser would never send.
"""

from __future__ import annotations

from .conftest import http_client, http_login, token_in
from .web_device import WebDevice

TIMEOUT_KEY = "network.ports.web_login_timeout"


def test_a_post_without_the_form_token_is_refused(web_device: WebDevice) -> None:
    with http_client(web_device) as client:
        assert http_login(client).status_code == 303
        page = client.get("/network/service-port")
        token = token_in(page.text)
        missing = client.post("/network/service-port", data={TIMEOUT_KEY: "20"})
        wrong = client.post("/network/service-port", data={TIMEOUT_KEY: "21", "csrf_token": "x" + token})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert "security token is missing or stale" in missing.text
        assert web_device.get("Logon Timeout") == 15
        reboot = client.post("/reboot")
        assert reboot.status_code == 403
        assert web_device.device.services, "the device must still run"
        saved = client.post("/network/service-port", data={TIMEOUT_KEY: "20", "csrf_token": token})
        assert saved.status_code == 303
        assert web_device.get("Logon Timeout") == 20
    web_device.set({TIMEOUT_KEY: "15"})


def test_the_login_form_needs_its_own_token(web_device: WebDevice) -> None:
    with http_client(web_device) as client:
        forged = client.post("/login", data={"username": "admin", "password": "admin"})
        assert forged.status_code == 403
        assert "portier_session" not in forged.headers.get("set-cookie", "")
        assert http_login(client).status_code == 303


def test_a_post_without_a_session_changes_nothing(web_device: WebDevice) -> None:
    with http_client(web_device) as client:
        refused = client.post("/network/service-port", data={TIMEOUT_KEY: "30", "csrf_token": "anything"})
        assert refused.status_code == 403
        assert client.get("/network/service-port").status_code == 303  # pages send you to the login
    assert web_device.get("Logon Timeout") == 15


def test_session_cookie_is_httponly_and_samesite_strict(web_device: WebDevice) -> None:
    with http_client(web_device) as client:
        login_page = client.get("/login")
        answer = http_login(client)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("portier_session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "secure" not in attributes  # plain HTTP: a Secure cookie would never come back
    login_cookie = login_page.headers["set-cookie"].lower()
    assert "httponly" in login_cookie and "samesite=strict" in login_cookie
    for header in ("x-frame-options", "content-security-policy", "x-content-type-options"):
        assert header in answer.headers, header
