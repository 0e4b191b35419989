"""The REGISTER a line sends (RFC 3261 §10.2) and the expiry it was granted (§10.2.4).

The machine in ``registration.py`` decides *when* and with which Call-ID, CSeq, Expires and
credentials; this module writes the message, given the addresses the edge knows (Via, Contact).
"""

from __future__ import annotations

from portier.phone.addressing import contact, instance_urn, name_addr, user_uri
from portier.phone.registration import Purpose, SendRegister
from portier.phone.registration_config import RegistrationConfig
from portier.sip.errors import SipParseError
from portier.sip.message import Header, SipRequest, SipResponse
from portier.sip.uri import SipUri, parse_uri
from portier.sip.via import Via

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, MESSAGE, NOTIFY, REFER, UPDATE"


def aor(config: RegistrationConfig, server: int) -> str:
    """The address-of-record: the line's user at its domain."""
    scheme = "sips" if config.servers[server].transport == "TLS" else "sip"
    return user_uri(
        config.user,
        config.domain(server),
        scheme=scheme,
        convert=config.convert_uri,
        user_is_phone=config.user_is_phone,
    )


def line_contact(config: RegistrationConfig, host: str, port: int, transport: str) -> str:
    instance = instance_urn(f"line{config.line}:{config.user}") if config.gruu else ""
    return contact(
        config.user,
        host,
        port,
        transport,
        convert=config.convert_uri,
        gruu_instance=instance,
        long_contact=config.long_contact,
    )


def route_for(config: RegistrationConfig, proxy: int | None) -> str | None:
    """Route to the outbound proxy (loose routing) when one is configured."""
    if proxy is None or not config.proxies:
        return None
    target = config.proxies[min(proxy, len(config.proxies) - 1)]
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"<sip:{host}:{target.port};lr>"


def build_register(
    config: RegistrationConfig,
    action: SendRegister,
    *,
    via: Via,
    contact_value: str,
    route: str | None = None,
) -> SipRequest:
    to = name_addr(aor(config, action.server), config.display_name, quote=config.quote_display_name)
    headers = [Header("Via", str(via)), Header("Max-Forwards", "70")]
    if route:
        headers.append(Header("Route", route))
    headers += [
        Header("From", f"{to};tag={action.from_tag}"),
        Header("To", to),
        Header("Call-ID", action.call_id),
        Header("CSeq", f"{action.cseq} REGISTER"),
        Header("Contact", "*" if action.purpose is Purpose.CLEAR else contact_value),
        Header("Expires", str(action.expires)),
        Header("Allow", ALLOW),
    ]
    if config.gruu:
        headers.append(Header("Supported", "gruu, path"))
    headers.append(Header("User-Agent", config.user_agent))
    if config.mac:
        headers.append(Header("X-MAC", config.mac))
    headers += [Header(name, value) for name, value in action.credentials]
    headers.append(Header("Content-Length", "0"))
    return SipRequest(method="REGISTER", uri=parse_uri(config.register_uri(action.server)), headers=headers)


def granted_expiry(response: SipResponse, contact_value: str) -> int | None:
    """Our binding's lifetime from a 2xx: its Contact ``expires`` param, else None (the caller
    falls back to the Expires header, then to what was asked)."""
    try:
        ours = parse_uri(contact_value.split(">", 1)[0].lstrip("<"))
        for bound in response.contacts():
            if isinstance(ours, SipUri) and bound.uri == ours:
                raw = bound.param("expires")
                if raw is not None and raw.strip().isdigit():
                    return int(raw)
    except SipParseError:
        return None
    return None
