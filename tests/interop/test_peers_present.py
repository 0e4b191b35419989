"""The test command installs every real peer the suite talks to; each one runs here."""

from __future__ import annotations

import subprocess

import pytest

from .peers import PEERS, require

VERSION_FLAGS = {
    "sipp": ["-v"],
    "kamailio": ["-v"],
    "baresip": ["-h"],
    "linphonec": ["--version"],
    "chromium": ["--version"],
    "ip": ["-V"],
    "turnserver": ["-h"],
    "openssl": ["version"],
    "kamcmd": ["-h"],
}


@pytest.mark.parametrize("binary", sorted(PEERS))
def test_peer_is_installed_and_runs(binary: str) -> None:
    path = require(binary)
    result = subprocess.run([path, *VERSION_FLAGS[binary]], capture_output=True, text=True, timeout=30)
    output = (result.stdout + result.stderr).lower()
    assert output.strip(), f"{binary} printed nothing"
    assert "not found" not in output
