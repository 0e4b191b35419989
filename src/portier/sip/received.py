"""Where a request really came from, and where its responses go (RFC 3261 §18.2, RFC 3581).

A UA behind NAT writes its private address in Via; the server notes the packet's source as
``received`` (when it differs) and, if the client asked with a bare ``rport``, the source port too.
Responses then follow the packet's path back instead of the address the client believed it had.
"""

from __future__ import annotations

from dataclasses import replace

from portier.sip.headers import find_param
from portier.sip.message import Header, SipRequest
from portier.sip.uri import Param
from portier.sip.via import Via, parse_via_list


def _set_param(params: tuple[Param, ...], name: str, value: str) -> tuple[Param, ...]:
    if find_param(params, name)[0]:
        return tuple((n, value) if n.lower() == name else (n, v) for n, v in params)
    return (*params, (name, value))


def stamp_via(via: Via, source_host: str, source_port: int) -> Via:
    """§18.2.1 and RFC 3581 §4: add ``received`` and fill a bare ``rport``."""
    params = via.params
    wants_rport = via.has_param("rport")
    if via.host.strip("[]").lower() != source_host.lower() or wants_rport:
        params = _set_param(params, "received", source_host)
    if wants_rport:
        params = _set_param(params, "rport", str(source_port))
    return via if params == via.params else replace(via, params=params)


def stamp_request(request: SipRequest, source_host: str, source_port: int) -> SipRequest:
    """The request with its top Via stamped; the other Vias and headers are left as received."""
    for index, header in enumerate(request.headers):
        if header.name != "Via":
            continue
        vias = parse_via_list(header.value)
        stamped = stamp_via(vias[0], source_host, source_port)
        if stamped is vias[0]:
            return request
        value = ", ".join(str(v) for v in (stamped, *vias[1:]))
        headers = [*request.headers[:index], Header("Via", value), *request.headers[index + 1 :]]
        return replace(request, headers=headers)
    return request


def reply_address(via: Via, source_host: str, source_port: int, *, to_source: bool) -> tuple[str, int]:
    """§18.2.2 for unreliable transports, RFC 3581 §4 for rport; ``to_source`` always uses the source.

    ``to_source`` is the Fanvil "Enable Strict Proxy" behaviour: answer the packet's source address
    rather than the address in Via, which is what gets replies through a NAT that rewrote nothing.
    """
    if to_source or via.has_param("rport"):
        return source_host, source_port
    host = via.received or via.host.strip("[]")
    maddr = via.param("maddr")
    if maddr:
        host = maddr
    return host, via.port or 5060
