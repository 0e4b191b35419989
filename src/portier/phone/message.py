"""SIP MESSAGE (RFC 3428): text in, for the relay trigger texts; text out, for the alarm messages.

Receiving: a MESSAGE on any agent is answered 200 OK and published as ``MessageReceived`` with
the line it came over (the line whose user it names on that port, or the only line there when
it names none) or 0 for a direct (P2P) one. Only text bodies are taken (415 otherwise, §8.2.3).

Sending: over a line the MESSAGE goes where the line's REGISTER goes (its registrar or outbound
proxy, with a Route when a proxy is set), From the line's address-of-record, and a 401/407 is
answered with the line's credentials, as REGISTER does. Without a line in use, or to a bare IP
address, it goes straight to the target.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from portier.events import MessageReceived
from portier.phone.addressing import escape_user
from portier.phone.line import Line
from portier.phone.register_request import aor, route_for
from portier.sip.agent import IncomingRequest, RequestFailed, UserAgent
from portier.sip.auth import AuthAccount, DigestSession, Retry
from portier.sip.errors import SipParseError
from portier.sip.ids import new_call_id, new_tag
from portier.sip.message import SipRequest, SipResponse
from portier.sip.nameaddr import parse_name_addr
from portier.sip.request import make_uac_request
from portier.sip.resolve import ResolveError, locate
from portier.sip.transport import Endpoint
from portier.sip.uas import respond
from portier.sip.uri import SipUri, parse_uri

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain;charset=UTF-8"
MAX_CHALLENGES = 3


@dataclass(frozen=True)
class LineAddress:
    """What receiving needs of a line in use: its number, its user, the agent it listens on."""

    number: int
    user: str
    agent: UserAgent


# --- receiving -------------------------------------------------------------------------------------


def line_of(request: SipRequest, agent: UserAgent, lines: Iterable[LineAddress]) -> int:
    """The line a request came over (as calls decide it), or 0 for a direct one."""
    user = request.uri.user if isinstance(request.uri, SipUri) else None
    mine = [line for line in lines if line.agent is agent]
    for line in mine:
        if user == line.user:
            return line.number
    return mine[0].number if len(mine) == 1 and not user else 0


def message_text(request: SipRequest) -> str | None:
    """The body as text, or None when it is not text (no Content-Type with an empty body is "")."""
    content_type = request.get("Content-Type")
    if content_type is None:
        return "" if not request.body else None
    media, *params = (part.strip() for part in content_type.split(";"))
    if not media.lower().startswith("text/"):
        return None
    charset = "utf-8"
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return request.body.decode(charset, errors="replace")
    except LookupError:
        return request.body.decode("utf-8", errors="replace")


class MessageReceiver:
    """The MESSAGE handler of every agent of the SIP service."""

    def __init__(
        self,
        publish: Callable[[MessageReceived], None],
        lines: Callable[[], Iterable[LineAddress]],
        user_agent: str,
    ) -> None:
        self._publish = publish
        self._lines = lines
        self._user_agent = user_agent

    def handle(self, agent: UserAgent, incoming: IncomingRequest) -> SipResponse:
        request = incoming.request
        text = message_text(request)
        tag = request.to().tag or new_tag()
        if text is None:
            return respond(
                request, 415, "Unsupported Media Type", to_tag=tag, server=self._user_agent,
                extra=(("Accept", "text/plain"),),
            )  # fmt: skip
        line = line_of(request, agent, self._lines())
        sender = str(request.from_().uri)
        log.info("MESSAGE from %s on line %d: %r", sender, line, text[:200])
        self._publish(MessageReceived(line, sender, text))
        return respond(request, 200, "OK", to_tag=tag, server=self._user_agent)


# --- sending ---------------------------------------------------------------------------------------


def _ip_literal(text: str) -> bool:
    host = text.strip()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def message_uri(target: str, domain: str | None) -> str:
    """The Request-URI for ``target``: a ``sip:``/``sips:`` URI as given, ``user@host`` or an IP
    address as a sip: URI, a number at ``domain`` (a line's domain; a number needs one)."""
    text = target.strip()
    if not text:
        raise ValueError("the MESSAGE target is empty")
    if text.lower().startswith(("sip:", "sips:")):
        uri = text
    elif "@" in text or _ip_literal(text):
        uri = f"sip:{text}"
    elif domain:
        uri = f"sip:{escape_user(text, convert=False)}@{domain}"  # the domain may carry a port
    else:
        raise ValueError(f"{target!r} is a number, and no line is in use to send it through")
    try:
        parse_uri(uri)
    except SipParseError as exc:
        raise ValueError(f"MESSAGE target {target!r} is not a usable SIP address: {exc.message}") from None
    return uri


async def _direct(uri: str) -> Endpoint:
    """Where a MESSAGE to ``uri`` goes without a proxy (RFC 3263 on the URI's host)."""
    parsed = parse_uri(uri)
    if not isinstance(parsed, SipUri):
        raise ValueError(f"cannot send a MESSAGE straight to {uri!r}: not a sip: URI")
    transport = parsed.param("transport")
    secure = parsed.scheme == "sips"
    found = await locate(
        parsed.host.strip("[]"), parsed.port, str(transport).upper() if transport else None,
        secure=secure, supported=("TLS", "TCP", "UDP") if secure else ("UDP", "TCP"),
    )  # fmt: skip
    if not found:
        raise ResolveError(f"no address for {parsed.host}")
    return Endpoint(found[0].transport, found[0].host, found[0].port)


def _line_domain(line: Line) -> str:
    """The domain a number is dialled at on ``line``: what its calls use (Server Name, or the
    registrar with its port when "Request With Port" is on)."""
    config = line.config
    server = config.servers[line.machine.server]
    if config.server_name:
        return config.server_name
    return f"{server.host}:{server.port}" if config.request_with_port else server.host


async def send_text(
    target: str,
    text: str,
    line: Line | None,
    device_agent: UserAgent,
    *,
    user_agent: str,
) -> SipResponse | RequestFailed:
    """Send ``text`` to ``target`` over ``line`` (see the module docstring); the final response.

    Raises ValueError for a target that cannot be addressed (a number with no line in use).
    """
    route: str | None = None
    account: AuthAccount | None = None
    if line is not None and line.config.servers and not _ip_literal(target):
        config = line.config
        destination = line.destination()
        if destination is None:
            return RequestFailed(f"line {config.line} has no server to send through yet", timeout=False)
        uri = message_uri(target, _line_domain(line))
        from_uri = aor(config, line.machine.server)
        route = route_for(config, line.machine.server) if config.proxies else None
        account, agent, auto_tcp = config.account, line.agent, config.auto_tcp
    else:
        uri = message_uri(target, None)
        try:
            destination = await _direct(uri)
        except ResolveError as exc:
            return RequestFailed(f"cannot resolve the MESSAGE target: {exc}", timeout=False)
        agent, auto_tcp = device_agent, False
        from_uri = f"sip:portier@{agent.local_ip(destination.host)}"
    return await _send(agent, destination, uri, from_uri, text.encode(), route, account, user_agent, auto_tcp)


async def _send(
    agent: UserAgent,
    destination: Endpoint,
    uri: str,
    from_uri: str,
    body: bytes,
    route: str | None,
    account: AuthAccount | None,
    user_agent: str,
    auto_tcp: bool,
) -> SipResponse | RequestFailed:
    from_ = parse_name_addr(f"<{from_uri}>;tag={new_tag()}", "From")
    to = parse_name_addr(f"<{uri}>", "To")
    call_id = new_call_id()
    auth = DigestSession(account) if account is not None else None
    credentials: tuple[tuple[str, str], ...] = ()
    for cseq in range(1, MAX_CHALLENGES + 2):
        request = make_uac_request(
            "MESSAGE", uri, from_=from_, to=to, call_id=call_id, cseq=cseq, via=agent.make_via(destination),
            route=[route] if route else [], headers=credentials, body=body, content_type=CONTENT_TYPE,
            user_agent=user_agent,
        )  # fmt: skip
        result = await agent.request(request, destination, auto_tcp=auto_tcp)
        if isinstance(result, RequestFailed) or result.status not in (401, 407) or auth is None:
            break
        header = "WWW-Authenticate" if result.status == 401 else "Proxy-Authenticate"
        answer = auth.on_challenge(result.status, result.get_all(header), "MESSAGE", uri, body)
        if not isinstance(answer, Retry):
            log.warning("MESSAGE to %s: %s", uri, answer.reason)
            break
        credentials = answer.headers
    if isinstance(result, SipResponse):
        log.info("MESSAGE to %s: %d %s", uri, result.status, result.reason)
    else:
        log.warning("MESSAGE to %s failed: %s", uri, result.reason)
    return result
