"""How a line writes its own addresses: URIs, display names and Contact (manual Table 15).

"Convert URI" escapes every character of the user part that is not a letter or digit as %hh;
"Enable user=phone" marks telephone numbers (RFC 3261 §19.1.1); "Use Tel Call" dials tel: URIs
(RFC 3966); "Use Quote in Display Name" quotes names that would be valid unquoted too;
"Enable GRUU" and "Enable Long Contact" add RFC 5627 / RFC 3840 Contact parameters.
"""

from __future__ import annotations

import re
import uuid

from portier.sip.headers import quote as quoted

PHONE_NUMBER = re.compile(r"^\+?[0-9*#()\-.]+$")
CONTACT_METHODS = "INVITE,ACK,CANCEL,BYE,OPTIONS,INFO,MESSAGE,NOTIFY,REFER,UPDATE"
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~ ]+$")


def escape_user(user: str, convert: bool) -> str:
    """The user part as written in a URI; characters a URI cannot carry are always escaped."""
    out = []
    for char in user:
        if (char.isascii() and char.isalnum()) or (not convert and char in "-_.!~*'()&=+$,;?/"):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode())
    return "".join(out)


def user_uri(
    user: str,
    host: str,
    *,
    port: int | None = None,
    scheme: str = "sip",
    convert: bool = True,
    user_is_phone: bool = False,
) -> str:
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    hostport = f"{host}:{port}" if port else host
    userinfo = f"{escape_user(user, convert)}@" if user else ""
    phone = ";user=phone" if user_is_phone and user and PHONE_NUMBER.match(user) else ""
    return f"{scheme}:{userinfo}{hostport}{phone}"


def tel_uri(number: str) -> str:
    """RFC 3966 tel: URI for "Use Tel Call"; local numbers need a phone-context, global ones a '+'."""
    digits = re.sub(r"[\s()\-.]", "", number)
    return f"tel:{digits}" if digits.startswith("+") else f"tel:{digits};phone-context=local"


def name_addr(uri: str, display_name: str = "", *, quote: bool = False) -> str:
    if not display_name:
        return f"<{uri}>"
    if quote or not _TOKEN_NAME.match(display_name):
        return f"{quoted(display_name)} <{uri}>"
    return f"{display_name} <{uri}>"


def instance_urn(seed: str) -> str:
    """A stable RFC 5626 instance id for this device and line (a name-based UUID, no MAC needed)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'portier:' + seed)}"


def contact(
    user: str,
    host: str,
    port: int,
    transport: str,
    *,
    convert: bool = True,
    gruu_instance: str = "",
    long_contact: bool = False,
) -> str:
    """The Contact a line registers: where requests for it must be sent."""
    host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    scheme = "sips" if transport == "TLS" else "sip"
    params = "" if transport == "UDP" else f";transport={transport.lower()}"
    value = f"<{scheme}:{escape_user(user, convert)}@{host}:{port}{params}>"
    if gruu_instance:
        value += f';+sip.instance="<{gruu_instance}>"'
    if long_contact:
        value += f';audio;methods="{CONTACT_METHODS}"'
    return value
