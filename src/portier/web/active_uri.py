"""Fanvil Active URI: ``GET /cgi-bin/ConfigManApp.com?key=...`` presses keys on the device remotely.

``key`` is a ``;``-separated sequence of key presses, run in order:

- ``SPEAKER`` (or ``OFFHOOK``): answers a ringing call, else starts dialing (clears typed digits);
- digits ``0``-``9``, ``*``, ``#`` (``STAR``, ``POUND``) and whole numbers or addresses
  (``1001``, ``192.168.1.20``, ``sip:door@example.org``): typed into the dial buffer, or sent as
  DTMF while a call is talking;
- ``ENTER`` or ``OK``: answers a ringing call, else dials what was typed;
- ``RELEASE`` (or ``ONHOOK``): hangs up the call (or refuses a ringing one) and clears the buffer;
- ``F_LOCK`` with ``&code=<code>``: triggers each output whose DTMF Trigger Code is ``code`` and
  whose Output Response is on (Security Settings).

So ``key=SPEAKER;1001;ENTER`` dials 1001, and ``key=1;0;0;1`` then ``key=OK`` does too. Typed digits
are forgotten after 30 s without a key. Every sequence is read in full before any key acts: an
unknown key name refuses the whole request.

Only hosts named in "Restrict Active URI Source IP" (Intercom >> Action URL; addresses or networks,
comma separated) may send commands: empty means none may, anything else gets 403 before
credentials are even read. Credentials are the web user's, Basic (as Fanvil phones take them) or
Digest; the user level suffices.

No ``from __future__ import annotations`` here: FastAPI reads the route annotations at run time.
"""

import hmac
import ipaddress
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from portier.device import Device
from portier.phone.call import CallState

from .api_auth import Principal
from .api_calls import answer, call_manager, dial, hangup, live_calls
from .api_common import ERRORS, ApiError, Ok
from .api_door import SWITCHES, door

log = logging.getLogger(__name__)

PATH = "/cgi-bin/ConfigManApp.com"
BUFFER_IDLE = 30.0
_ALIASES = {"OFFHOOK": "SPEAKER", "ONHOOK": "RELEASE", "OK": "ENTER", "STAR": "*", "POUND": "#"}
_NAMED = {"SPEAKER", "ENTER", "RELEASE", "F_LOCK"}
_TEXT = re.compile(r"[A-Za-z0-9.:@*#+_\-\[\]]{1,256}")
_KEY_NAME = re.compile(r"[A-Z][A-Z0-9_]*")


@dataclass(frozen=True)
class Key:
    name: str
    """SPEAKER, ENTER, RELEASE, F_LOCK, or TEXT for digits, numbers and addresses."""
    text: str = ""


def parse_keys(value: str) -> list[Key]:
    """``SPEAKER;1001;ENTER`` -> keys; ValueError names the first key this device does not have."""
    keys = []
    for raw in value.split(";"):
        token = raw.strip()
        if not token:
            continue
        name = _ALIASES.get(token.upper(), token.upper())
        if name in _NAMED:
            keys.append(Key(name))
        elif name in ("*", "#") or (
            (_TEXT.fullmatch(token) and not _KEY_NAME.fullmatch(token)) or token.isdigit()
        ):
            keys.append(Key("TEXT", name if name in ("*", "#") else token))
        else:
            raise ValueError(
                f"unknown key {token!r}; keys are SPEAKER, ENTER, OK, RELEASE, F_LOCK, digits, * and #, "
                "or a number or address to dial"
            )
    if not keys:
        raise ValueError("key is empty; e.g. key=SPEAKER;1001;ENTER")
    return keys


def allowed_sources(setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The addresses or networks of "Restrict Active URI Source IP"; unreadable items are skipped."""
    networks = []
    for item in re.split(r"[,;\s]+", setting.strip()):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            log.warning("Restrict Active URI Source IP: %r is not an address or network; ignored", item)
    return networks


def source_allowed(client: str | None, setting: str) -> bool:
    if client is None:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in allowed_sources(setting))


class Pressed(BaseModel):
    done: list[str] = Field(description="What each key did, in order.")


class ActiveUri:
    """The remote keypad: the dial buffer outlives a request, as on the device itself."""

    def __init__(self, device: Device, clock: Callable[[], float] = time.monotonic) -> None:
        self.device = device
        self._clock = clock
        self._buffer = ""
        self._typed_at = 0.0

    async def press(self, keys: list[Key], code: str | None) -> list[str]:
        if self._buffer and self._clock() - self._typed_at > BUFFER_IDLE:
            self._buffer = ""
        done = []
        for key in keys:
            done.append(await self._press(key, code))
        return done

    async def _press(self, key: Key, code: str | None) -> str:
        if key.name == "F_LOCK":
            return await self._open(code)
        manager = call_manager(self.device)
        calls = live_calls(manager)
        ringing = any(call.state is CallState.RINGING for call in calls)
        talking = [call for call in calls if call.state in (CallState.TALKING, CallState.HELD)]
        if key.name == "TEXT":
            if talking and re.fullmatch(r"[0-9*#A-Da-d]+", key.text):
                for digit in key.text:
                    await manager.send_dtmf(digit.upper(), talking[0].call_id)
                return f"sent DTMF {key.text}"
            self._buffer += key.text
            self._typed_at = self._clock()
            return f"typed {key.text}"
        if key.name in ("SPEAKER", "ENTER") and ringing:
            return f"answered {answer(self.device, None).call_id}"
        if key.name == "SPEAKER":
            self._buffer = ""
            return "off hook"
        if key.name == "ENTER":
            if not self._buffer:
                return "nothing to dial"
            number, self._buffer = self._buffer, ""
            call = await dial(self.device, number, None)
            return f"dialing {number} as {call.call_id}"
        if key.name == "RELEASE":
            self._buffer = ""
            if not calls:
                return "on hook"
            return f"hung up {(await hangup(self.device, None)).call_id}"
        raise AssertionError(f"parse_keys let an unknown key through: {key}")

    async def _open(self, code: str | None) -> str:
        if not code:
            raise ApiError(
                400, "F_LOCK needs the door code: key=F_LOCK&code=<DTMF Trigger Code>", param="code"
            )
        service = door(self.device)
        settings = self.device.settings.current.door
        outputs = [getattr(settings, f"output{n}") for n in SWITCHES]
        matching = [
            number for number, output in zip(SWITCHES, outputs, strict=True)
            if output.response and hmac.compare_digest(output.dtmf_trigger_code.encode(), code.encode())
        ]  # fmt: skip
        if not matching:
            raise ApiError(
                403, "the code matches no output's DTMF Trigger Code (with Output Response on)", param="code"
            )
        for number in matching:
            await service.switch(number, "trigger", "uri")
        return "opened " + ", ".join(f"relay {n}" for n in matching)


def active_uri_routes(router: APIRouter, device: Device, user: Any) -> None:
    """Add the Active URI route; ``user`` admits users and administrators."""
    keypad = ActiveUri(device)

    def source(request: Request) -> None:
        setting = device.settings.current.intercom.action_url.restrict_active_uri_ip
        client = request.client.host if request.client else None
        if not source_allowed(client, setting):
            why = (
                "Active URI is off: set Restrict Active URI Source IP to the controlling host"
                if not setting.strip()
                else f"{client} is not allowed by Restrict Active URI Source IP"
            )
            raise ApiError(403, why)

    @router.get(PATH, responses=ERRORS, summary="Fanvil Active URI: press keys remotely")
    async def active_uri(
        _source: Annotated[None, Depends(source)],
        _: Annotated[Principal, Depends(user)],
        key: Annotated[
            str, Query(max_length=1024, description="Keys separated by ;, e.g. SPEAKER;1001;ENTER")
        ],
        code: Annotated[str | None, Query(max_length=64, description="Door code for F_LOCK.")] = None,
    ) -> Ok[Pressed]:
        try:
            keys = parse_keys(key)
        except ValueError as exc:
            raise ApiError(400, str(exc), param="key") from None
        return Ok(result=Pressed(done=await keypad.press(keys, code)))
