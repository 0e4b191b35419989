"""Action URL variables (Fanvil's ``$mac``, ``$remote``...) and the URLs they are written into.

Every ``$name`` of ``VARIABLES`` in a configured URL is replaced by its value percent-encoded
(RFC 3986: everything but unreserved characters), wherever it stands: the query
(``?caller=$remote``) or the path (``/$mac.xml``). Names are matched longest first, so ``$local``
never eats the start of a longer name; a ``$`` that names no variable stays as written. Values that
do not apply to an event (``$call_id`` at boot) are empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from .action_url_events import CallContext

VARIABLES = (
    "mac",
    "ip",
    "model",
    "firmware",
    "active_url",
    "active_user",
    "active_host",
    "local",
    "remote",
    "display_local",
    "display_remote",
    "call_id",
)
_PATTERN = re.compile(r"\$(" + "|".join(sorted(VARIABLES, key=len, reverse=True)) + ")")
_USER = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:([^@;?]+)@")
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class DeviceInfo:
    mac: str
    ip: str
    """The device's address as the Action URL server sees it."""
    model: str
    firmware: str


@dataclass(frozen=True)
class Account:
    """A SIP line's identity: its address of record, user, host and display name."""

    url: str
    user: str
    host: str
    display: str = ""


def remote_user(uri: str) -> str:
    """The user part of a SIP or tel URI ("sip:102@pbx" -> "102"), what a phone shows without a name."""
    match = _USER.match(uri)
    if match:
        return match.group(1)
    scheme, sep, rest = uri.partition(":")
    return rest.split(";", 1)[0] if sep and scheme.lower() == "tel" else ""


def remote_display(call: CallContext) -> str:
    """``$display_remote``: the far end's display name ("Front Desk" of ``"Front Desk" <sip:102@pbx>``),
    else its user part, which is what a phone shows for a caller who gives no name."""
    return call.remote_display or remote_user(call.remote)


def variables(device: DeviceInfo, account: Account | None, call: CallContext | None) -> dict[str, str]:
    """The value of every variable for one event (unencoded)."""
    active = account if account is not None else Account("", "", "")
    local = active.url
    if call is not None and not local and device.ip:
        local = f"sip:{device.ip}"  # a direct IP call: the device itself, not an account
    return {
        "mac": device.mac,
        "ip": device.ip,
        "model": device.model,
        "firmware": device.firmware,
        "active_url": active.url,
        "active_user": active.user,
        "active_host": active.host,
        "local": local,
        "remote": call.remote if call is not None else "",
        "display_local": active.display,
        "display_remote": remote_display(call) if call is not None else "",
        "call_id": call.call_id if call is not None else "",
    }


def expand(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``$variable`` replaced by its percent-encoded value (empty if absent)."""
    return _PATTERN.sub(lambda match: quote(values.get(match.group(1), ""), safe=""), template)


def check_url(url: str) -> str | None:
    """Why ``url`` will not be requested, or None when it is a usable http or https URL."""
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        return "it contains a space or control character"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        return f"it is not a URL ({exc})"
    if parts.scheme.lower() not in SCHEMES:
        shown = f"{parts.scheme}:" if parts.scheme else "no scheme"
        return f"only http and https URLs are requested, not {shown}"
    if not parts.hostname:
        return "it names no host"
    return None


def redact(url: str) -> str:
    """``url`` fit for the log: a password in it is replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
