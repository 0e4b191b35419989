"""Registration of one SIP line (RFC 3261 §10.2), with the failover and failback of manual 9.12.

Sans-IO: time comes in as ``now``, and the machine answers with actions (send a REGISTER described
by ``SendRegister``, send a keep-alive, report a status) and its next deadline. The edge builds the
actual request (addresses are its business), sends it, and feeds back the final response or the
failure. That keeps every rule here testable with a fake clock, in microseconds:

- refresh at half the granted expiry ("Server Expire" follows the server's grant);
- 401/407 answered through the line's ``DigestSession``; a rejected password ends as Failed;
- 423 Interval Too Brief: ask again at once with the server's Min-Expires;
- Retry-After (503 and friends) delays the next attempt by at least what the server asked;
- "Signal Retry Counts" failures in a row on one server move to the other ("SIP Server 2");
- while on server 2, "Enable Failback" probes server 1 every "Failback Interval" and moves back
  when it answers 2xx; a failed probe leaves the line registered where it was;
- "Unregister On Boot" removes every binding of the account (``Contact: *``) before registering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum

from portier.phone.registration_config import RegistrationConfig
from portier.sip.auth import DigestSession, Failed, Retry
from portier.sip.ids import new_call_id, new_tag
from portier.sip.message import SipResponse


class LineStatus(StrEnum):
    """The manual's line states (System >> Information, Line >> SIP)."""

    UNAPPLIED = "Unapplied"
    TRYING = "Trying"
    REGISTERED = "Registered"
    TIMEOUT = "Timeout"
    FAILED = "Failed"


class Purpose(Enum):
    REGISTER = "register"
    PROBE = "failback probe"
    CLEAR = "unregister all"
    UNREGISTER = "unregister"


@dataclass(frozen=True)
class SendRegister:
    """Send a REGISTER to ``server`` with these fields; the edge adds Via, Contact and addresses."""

    server: int
    purpose: Purpose
    expires: int
    call_id: str
    from_tag: str
    cseq: int
    credentials: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StatusChanged:
    status: LineStatus
    reason: str
    server: int


@dataclass(frozen=True)
class SendKeepAlive:
    server: int


Action = SendRegister | StatusChanged | SendKeepAlive


@dataclass
class _Leg:
    """What RFC 3261 §10.2 keeps per registrar: one Call-ID, rising CSeq, the learned Min-Expires."""

    call_id: str = field(default_factory=new_call_id)
    from_tag: str = field(default_factory=new_tag)
    cseq: int = 0
    min_expires: int = 0


@dataclass
class Registration:
    config: RegistrationConfig
    status: LineStatus = LineStatus.UNAPPLIED
    reason: str = ""
    server: int = 0
    """The server the line is registered on, or is trying."""
    granted: int = 0
    bound: bool = False
    _auth: DigestSession = field(init=False)
    _legs: list[_Leg] = field(init=False)
    _failures: int = 0
    _in_flight: SendRegister | None = None
    _refresh_at: float | None = None
    _retry_at: float | None = None
    _failback_at: float | None = None
    _keepalive_at: float | None = None
    _stopped: bool = True

    def __post_init__(self) -> None:
        self._auth = DigestSession(self.config.account, keep_authentication=self.config.keep_authentication)
        self._legs = [_Leg() for _ in self.config.servers]

    # --- inputs -----------------------------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        self._stopped = False
        if not self.config.servers:
            return self._set(LineStatus.FAILED, "no SIP server address is configured", 0)
        out = self._set(LineStatus.TRYING, "", self.server)
        purpose = Purpose.CLEAR if self.config.unregister_on_boot else Purpose.REGISTER
        return [*out, self._send(purpose, self.server, now)]

    def stop(self, now: float) -> list[Action]:
        """Unregister when bound (the edge waits for it only briefly) and go Unapplied."""
        out: list[Action] = []
        if self.bound and not self._stopped:
            out.append(self._send(Purpose.UNREGISTER, self.server, now))
        self._stopped = True
        self.bound = False
        self._refresh_at = self._retry_at = self._failback_at = self._keepalive_at = None
        return out + self._set(LineStatus.UNAPPLIED, "", self.server)

    def refresh_now(self, now: float) -> list[Action]:
        """Register again at once (the public address changed, or the user asked)."""
        if self._stopped or self._in_flight is not None:
            return []
        return [self._send(Purpose.REGISTER, self.server, now)]

    def on_response(
        self, response: SipResponse, now: float, contact_expires: int | None = None
    ) -> list[Action]:
        """A final response to the REGISTER in flight; ``contact_expires`` is our binding's grant."""
        request = self._in_flight
        if request is None or response.status < 200:
            return []
        self._in_flight = None
        status = response.status
        if status in (401, 407):
            return self._challenged(request, response, now)
        if request.purpose is Purpose.UNREGISTER:
            self._auth.request_done()
            return []
        if request.purpose is Purpose.CLEAR:
            self._auth.request_done()
            return [self._send(Purpose.REGISTER, request.server, now)]
        if 200 <= status < 300:
            return self._registered(request, response, now, contact_expires)
        if status == 423:
            return self._too_brief(request, response, now)
        self._auth.request_done()
        retry_after = _retry_after(response)
        reason = f"{status} {response.reason}".strip()
        return self._failed(request, LineStatus.FAILED, reason, now, retry_after)

    def on_failure(self, reason: str, timeout: bool, now: float) -> list[Action]:
        """The REGISTER in flight got no final response (Timer F) or could not be sent."""
        request = self._in_flight
        if request is None:
            return []
        self._in_flight = None
        self._auth.request_done()
        if request.purpose is Purpose.UNREGISTER:
            return []
        if request.purpose is Purpose.CLEAR:
            return [self._send(Purpose.REGISTER, request.server, now)]
        status = LineStatus.TIMEOUT if timeout else LineStatus.FAILED
        return self._failed(request, status, reason, now, None)

    def handle_timer(self, now: float) -> list[Action]:
        out: list[Action] = []
        if self._stopped:
            return out
        if self._keepalive_at is not None and self._keepalive_at <= now:
            self._keepalive_at = now + self.config.keepalive_interval
            out.append(SendKeepAlive(self.server))
        if self._in_flight is not None:
            return out
        if self._retry_at is not None and self._retry_at <= now:
            self._retry_at = None
            out += self._set(LineStatus.TRYING, self.reason, self.server) if not self.bound else []
            out.append(self._send(Purpose.REGISTER, self.server, now))
        elif self._refresh_at is not None and self._refresh_at <= now:
            self._refresh_at = None
            out.append(self._send(Purpose.REGISTER, self.server, now))
        elif self._failback_at is not None and self._failback_at <= now:
            self._failback_at = None
            out.append(self._send(Purpose.PROBE, 0, now))
        return out

    def next_deadline(self) -> float | None:
        if self._stopped:
            return None
        times = [self._keepalive_at]
        if self._in_flight is None:
            times += [self._retry_at, self._refresh_at, self._failback_at]
        return min((t for t in times if t is not None), default=None)

    @property
    def in_flight(self) -> SendRegister | None:
        return self._in_flight

    # --- outcomes ---------------------------------------------------------------------------------

    def _registered(
        self, request: SendRegister, response: SipResponse, now: float, contact_expires: int | None
    ) -> list[Action]:
        self._auth.request_done()
        granted = contact_expires if contact_expires is not None else _header_expires(response)
        if granted is None or not self.config.server_expire:
            granted = request.expires
        if granted <= 0:
            return self._failed(request, LineStatus.FAILED, "the registrar granted no expiry", now, None)
        self.granted = granted
        self.bound = True
        self._failures = 0
        self._retry_at = None
        self._refresh_at = now + max(granted / 2, 1.0)
        if self.config.keepalive_interval > 0 and self._keepalive_at is None:
            self._keepalive_at = now + self.config.keepalive_interval
        if request.server != 0 and self.config.enable_failback:
            if request.purpose is not Purpose.PROBE and self._failback_at is None:
                self._failback_at = now + self.config.failback_interval
        else:
            self._failback_at = None
        return self._set(LineStatus.REGISTERED, "", request.server)

    def _challenged(self, request: SendRegister, response: SipResponse, now: float) -> list[Action]:
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        uri = self.config.register_uri(request.server)
        answer = self._auth.on_challenge(response.status, response.get_all(header), "REGISTER", uri)
        if isinstance(answer, Retry):
            return [self._send(request.purpose, request.server, now, answer.headers)]
        assert isinstance(answer, Failed)
        if request.purpose is Purpose.UNREGISTER:
            return []
        if request.purpose is Purpose.CLEAR:
            return [self._send(Purpose.REGISTER, request.server, now)]
        return self._failed(request, LineStatus.FAILED, answer.reason, now, None)

    def _too_brief(self, request: SendRegister, response: SipResponse, now: float) -> list[Action]:
        raw = (response.get("Min-Expires") or "").strip()
        if not raw.isdigit() or int(raw) <= request.expires:
            reason = f"423 Interval Too Brief without a usable Min-Expires ({raw or 'missing'})"
            return self._failed(request, LineStatus.FAILED, reason, now, None)
        self._legs[request.server].min_expires = int(raw)
        self._auth.request_done()
        return [self._send(request.purpose, request.server, now)]

    def _failed(
        self, request: SendRegister, status: LineStatus, reason: str, now: float, retry_after: int | None
    ) -> list[Action]:
        if request.purpose is Purpose.PROBE:
            self._failback_at = now + self.config.failback_interval
            return []
        self.bound = False
        self._refresh_at = None
        self._keepalive_at = None
        self._failures += 1
        out = self._set(status, reason, request.server)
        servers = len(self.config.servers)
        if servers > 1 and self._failures >= self.config.retry_counts:
            self._failures = 0
            self.server = (request.server + 1) % servers
            self._failback_at = None
            if retry_after is None:
                return [*out, self._send(Purpose.REGISTER, self.server, now)]
        delay = max(float(retry_after or 0), self.config.retry_interval if retry_after is None else 0.0)
        self._retry_at = now + delay
        return out

    # --- helpers ----------------------------------------------------------------------------------

    def _send(
        self,
        purpose: Purpose,
        server: int,
        now: float,
        credentials: tuple[tuple[str, str], ...] | None = None,
    ) -> SendRegister:
        leg = self._legs[server]
        leg.cseq += 1
        if purpose in (Purpose.UNREGISTER, Purpose.CLEAR):
            expires = 0
        else:
            expires = max(self.config.servers[server].expires, leg.min_expires)
        if credentials is None:
            credentials = self._auth.preemptive("REGISTER", self.config.register_uri(server))
        request = SendRegister(server, purpose, expires, leg.call_id, leg.from_tag, leg.cseq, credentials)
        self._in_flight = request
        return request

    def _set(self, status: LineStatus, reason: str, server: int) -> list[Action]:
        if (status, reason, server) == (self.status, self.reason, self.server):
            return []
        self.status, self.reason, self.server = status, reason, server
        return [StatusChanged(status, reason, server)]


def _header_expires(response: SipResponse) -> int | None:
    raw = (response.get("Expires") or "").strip()
    return int(raw) if raw.isdigit() else None


def _retry_after(response: SipResponse) -> int | None:
    """RFC 3261 §20.33: delta-seconds, optionally followed by a comment and parameters."""
    raw = (response.get("Retry-After") or "").strip()
    digits = raw.split(";", 1)[0].split("(", 1)[0].strip()
    return int(digits) if digits.isdigit() else None
