"""Where a request goes: Request-URI, Route headers and next hop from a route set (RFC 3261 §12.2.1.1).

Why one function for in-dialog and out-of-dialog requests: a pre-loaded route set (outbound proxy,
Service-Route) follows the same rules as a dialog's, with the desired Request-URI as the "remote
target" (§8.1.1.1). Why strict routing is still here: RFC 2543 proxies (no ``;lr``) want the next
hop in the Request-URI and the real target as the last Route, and some door-phone PBXs still are.
The next hop is returned as a URI because turning it into an address is RFC 3263's job (the edge's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portier.sip.nameaddr import NameAddr
from portier.sip.uri import SipUri, Uri

# §19.1.1 table: ``method`` and URI headers are not allowed in a Request-URI.
_NOT_IN_REQUEST_URI = "method"


@dataclass(frozen=True)
class RoutePlan:
    """The Request-URI and Route values to put in a request, and the URI to resolve and send it to."""

    request_uri: Uri
    route: tuple[NameAddr, ...]
    next_hop: Uri


def is_loose(route: NameAddr) -> bool:
    """A route entry naming an RFC 3261 (loose) router: its URI carries ``;lr``."""
    return isinstance(route.uri, SipUri) and route.uri.has_param("lr")


def request_uri_form(uri: Uri) -> Uri:
    """``uri`` without what a Request-URI must not carry (the ``method`` parameter and headers)."""
    if not isinstance(uri, SipUri):
        return uri
    params = tuple((n, v) for n, v in uri.params if n.lower() != _NOT_IN_REQUEST_URI)
    if params == uri.params and not uri.headers:
        return uri
    return SipUri(uri.host, uri.scheme, uri.user, uri.password, uri.port, params, ())


def plan_route(route_set: Sequence[NameAddr], remote_target: Uri) -> RoutePlan:
    """Apply §12.2.1.1: loose routing when the first route has ``;lr``, strict routing otherwise.

    The next hop follows §8.1.2: the first Route's URI for loose routing, the Request-URI for
    strict routing or when there is no route set.
    """
    target = request_uri_form(remote_target)
    if not route_set:
        return RoutePlan(target, (), target)
    first = route_set[0]
    if is_loose(first):
        return RoutePlan(target, tuple(route_set), first.uri)
    request_uri = request_uri_form(first.uri)
    return RoutePlan(request_uri, (*route_set[1:], NameAddr(remote_target)), request_uri)
