"""A line's registration settings, read once from the schema into a plain frozen value.

The registration machine never looks at the settings tree: the line service builds this from
``lines.sipN`` and the global line settings, so the machine can be tested with literal values and a
changed setting simply means a new config (and a re-registration of that line only).
"""

from __future__ import annotations

from dataclasses import dataclass

from portier import MODEL, __version__
from portier.settings.choices import KeepAliveType
from portier.settings.lines import LineSettings
from portier.settings.sip_line import SipLine
from portier.sip.auth import AuthAccount


@dataclass(frozen=True)
class Server:
    """One registrar as configured: a name or IP literal, resolved by the edge (RFC 3263)."""

    host: str
    port: int
    transport: str
    expires: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port};transport={self.transport.lower()}"


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int


@dataclass(frozen=True)
class RegistrationConfig:
    line: int
    user: str
    account: AuthAccount
    servers: tuple[Server, ...]
    proxies: tuple[Proxy, ...] = ()
    display_name: str = ""
    quote_display_name: bool = False
    server_name: str = ""
    keep_authentication: bool = True
    enable_failback: bool = True
    failback_interval: float = 1800.0
    retry_counts: int = 3
    retry_interval: float = 32.0
    server_expire: bool = True
    user_agent: str = f"{MODEL} {__version__}"
    rport: bool = True
    user_is_phone: bool = False
    convert_uri: bool = True
    gruu: bool = False
    long_contact: bool = False
    mac: str = ""
    request_with_port: bool = True
    unregister_on_boot: bool = False
    keepalive: KeepAliveType = KeepAliveType.SIP_OPTIONS
    keepalive_interval: float = 0.0
    """Seconds between keep-alives while registered over UDP; 0 sends none."""
    dns_mode: str = "A"
    auto_tcp: bool = False
    strict_proxy: bool = True
    stun: tuple[str, int] | None = None
    """STUN server to learn the public address from ("Use STUN" with a server set)."""
    stun_period: float = 50.0
    stun_wait: float = 0.8

    def domain(self, server: int) -> str:
        """The line's SIP domain: "Server Name" when set, else the registrar's address."""
        return self.server_name or self.servers[server].host

    def register_uri(self, server: int) -> str:
        """Request-URI of REGISTER (§10.2: the registrar's domain, no user part)."""
        target = self.servers[server]
        host = self.domain(server)
        host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        port = f":{target.port}" if self.request_with_port and not self.server_name else ""
        scheme = "sips" if target.transport == "TLS" else "sip"
        return f"{scheme}:{host}{port}"


def registration_config(number: int, line: SipLine, lines: LineSettings, mac: str = "") -> RegistrationConfig:
    """What the registration of line ``number`` needs, from the settings."""
    servers = tuple(
        Server(s.address.strip(), s.port, s.transport.name, s.expiration)
        for s in (line.server1, line.server2)
        if s.address.strip()
    )
    proxies = tuple(
        Proxy(p.address.strip(), p.port) for p in (line.proxy, line.backup_proxy) if p.address.strip()
    )
    keepalive_interval = float(line.keep_alive_interval) if line.keep_alive_type != KeepAliveType.OFF else 0.0
    return RegistrationConfig(
        line=number,
        user=line.username,
        account=AuthAccount(line.username, line.auth_password, line.auth_user, line.realm),
        servers=servers,
        proxies=proxies,
        display_name=line.display_name,
        quote_display_name=line.quote_display_name,
        server_name=line.server_name.strip(),
        keep_authentication=line.keep_authentication,
        enable_failback=line.enable_failback,
        failback_interval=float(line.failback_interval),
        retry_counts=line.signal_retry_counts,
        retry_interval=float(lines.sip.registration_failure_retry),
        server_expire=line.server_expire,
        user_agent=line.user_agent.strip() or f"{MODEL} {__version__}",
        rport=line.rport,
        user_is_phone=line.user_is_phone,
        convert_uri=line.convert_uri,
        gruu=line.gruu,
        long_contact=line.long_contact,
        mac=mac if line.mac_header else "",
        request_with_port=line.request_with_port,
        unregister_on_boot=line.unregister_on_boot,
        keepalive=line.keep_alive_type,
        keepalive_interval=keepalive_interval,
        dns_mode=line.dns_mode.name,
        auto_tcp=line.auto_tcp,
        strict_proxy=line.strict_proxy,
        stun=(lines.stun.server.strip(), lines.stun.port)
        if line.use_stun and lines.stun.server.strip()
        else None,
        stun_period=float(lines.stun.binding_period),
        stun_wait=lines.stun.sip_waiting_time / 1000,
    )
