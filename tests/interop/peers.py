"""Where the real third-party peers live; a missing one fails the test with the install command."""

from __future__ import annotations

import shutil

PEERS = {
    "sipp": "sip-tester",
    "kamailio": "kamailio",
    "baresip": "baresip",
    "linphonec": "linphone-cli",
    "chromium": "chromium",
    "ip": "iproute2",
    "turnserver": "coturn",
    "openssl": "openssl",
    "kamcmd": "kamailio",
}


def require(binary: str) -> str:
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if path is None:
        package = PEERS.get(binary, binary)
        raise AssertionError(
            f"{binary} is not installed: run scripts/test as root or `apt-get install {package}`"
        )
    return path
