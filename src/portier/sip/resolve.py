"""Locating SIP servers (RFC 3263 §4): NAPTR, then SRV (RFC 2782), then A/AAAA.

Why a list comes back rather than one address: RFC 3263 §4.3 has the client fail over through every
target in order when a request times out or the connection fails, so the whole ordered set is the
answer; the caller walks it. Why ``loop.getaddrinfo`` for plain address lookups: names in
/etc/hosts (``localhost``, a PBX configured by hand) must work as they do for every other program.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdtypes.IN.NAPTR
import dns.rdtypes.IN.SRV
import dns.resolver

log = logging.getLogger(__name__)

TRANSPORTS = ("UDP", "TCP", "TLS")
SRV_PREFIX = {"UDP": "_sip._udp", "TCP": "_sip._tcp", "TLS": "_sips._tcp"}
NAPTR_SERVICE = {"SIP+D2U": "UDP", "SIP+D2T": "TCP", "SIPS+D2T": "TLS"}
MODES = ("A", "SRV", "NAPTR")


@dataclass(frozen=True)
class Target:
    transport: str
    host: str  # IP literal
    port: int


class ResolveError(Exception):
    """No target could be found; the message names the query and why."""


class _NxDomain(Exception):
    pass


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class _Lookup:
    """One locate() call's DNS access: dnspython for SRV/NAPTR (and for A/AAAA when nameservers
    are given), getaddrinfo for addresses otherwise."""

    def __init__(self, nameservers: Sequence[tuple[str, int]] | None, timeout: float, ipv6: bool) -> None:
        self.timeout, self.ipv6, self.system = timeout, ipv6, nameservers is None
        self._nameservers = nameservers
        self._resolver: dns.asyncresolver.Resolver | None = None

    def _dns(self) -> dns.asyncresolver.Resolver:
        if self._resolver is None:  # only now: A mode on a host without resolv.conf needs none
            try:
                resolver = dns.asyncresolver.Resolver(configure=self._nameservers is None)
            except dns.resolver.NoResolverConfiguration:
                raise ResolveError("no DNS server is configured (/etc/resolv.conf)") from None
            if self._nameservers is not None:
                resolver.nameservers = [dns.nameserver.Do53Nameserver(h, p) for h, p in self._nameservers]
            resolver.lifetime = self.timeout
            self._resolver = resolver
        return self._resolver

    async def query(self, name: str, rdtype: str) -> list[object]:
        """Records of ``rdtype`` (empty when there are none); ``_NxDomain`` when the name does not exist."""
        try:
            answer = await self._dns().resolve(name, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            raise _NxDomain(name) from None
        except dns.exception.Timeout:
            raise ResolveError(f"DNS {rdtype} query for {name} timed out after {self.timeout:g} s") from None
        except dns.resolver.NoNameservers as exc:
            raise ResolveError(f"DNS {rdtype} query for {name} failed: no server answered ({exc})") from None
        except (dns.exception.DNSException, ValueError) as exc:
            raise ResolveError(f"DNS {rdtype} query for {name} failed: {exc}") from None
        return list(answer.rrset) if answer.rrset is not None else []

    async def addresses(self, host: str) -> list[str]:
        """IPv4 addresses first (the default listener is IPv4), then IPv6 ones."""
        found = await (self._getaddrinfo(host) if self.system else self._dns_addresses(host))
        ordered = sorted(dict.fromkeys(found), key=lambda a: ":" in a)
        return [a for a in ordered if self.ipv6 or ":" not in a]

    async def _dns_addresses(self, host: str) -> list[str]:
        try:
            found = [str(r) for r in await self.query(host, "A")]
            if self.ipv6:
                found += [str(r) for r in await self.query(host, "AAAA")]
        except _NxDomain:
            raise ResolveError(f"{host}: no such domain (NXDOMAIN)") from None
        if not found:
            raise ResolveError(f"{host} has no A or AAAA record")
        return found

    async def _getaddrinfo(self, host: str) -> list[str]:
        loop = asyncio.get_running_loop()
        family = socket.AF_UNSPEC if self.ipv6 else socket.AF_INET
        try:
            async with asyncio.timeout(self.timeout):
                infos = await loop.getaddrinfo(host, None, family=family, type=socket.SOCK_DGRAM)
        except TimeoutError:
            raise ResolveError(f"looking up {host} timed out after {self.timeout:g} s") from None
        except (socket.gaierror, UnicodeError) as exc:
            why = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
            raise ResolveError(f"cannot resolve {host}: {why}") from None
        return [str(info[4][0]).partition("%")[0] for info in infos]


def order_srv(records: Sequence[tuple[int, int, int, str]], rng: random.Random) -> list[tuple[int, str]]:
    """(port, target) in RFC 2782 order: priority ascending, weighted random within a priority."""
    out: list[tuple[int, str]] = []
    for priority in sorted({r[0] for r in records}):
        group = sorted((r for r in records if r[0] == priority), key=lambda r: r[1] != 0)
        while group:
            pick = rng.randint(0, sum(r[1] for r in group))
            running = 0
            for i, (_, weight, port, target) in enumerate(group):
                running += weight
                if running >= pick:
                    out.append((port, target))
                    del group[i]
                    break
    return out


async def _srv(lookup: _Lookup, name: str, transport: str, rng: random.Random) -> tuple[list[Target], bool]:
    """Targets of one SRV name, and whether any SRV record existed at all."""
    try:
        records = await lookup.query(name, "SRV")
    except _NxDomain:
        return [], False
    rows = [
        (r.priority, r.weight, r.port, r.target.to_text(omit_final_dot=True))
        for r in records
        if isinstance(r, dns.rdtypes.IN.SRV.SRV) and r.target != dns.name.root  # "." = not offered
    ]
    targets: list[Target] = []
    errors: list[str] = []
    for port, target in order_srv(rows, rng):
        try:
            targets += [Target(transport, a, port) for a in await lookup.addresses(target)]
        except ResolveError as exc:  # one dead target must not hide the others
            errors.append(str(exc))
    if not targets and errors:
        raise ResolveError(f"no SRV target of {name} resolves: {'; '.join(errors)}")
    return targets, bool(records)


async def _naptr(lookup: _Lookup, host: str, allowed: Sequence[str], rng: random.Random) -> list[Target]:
    """Targets through the host's NAPTR records (RFC 3263 §4.1), best order and preference first."""
    try:
        records = await lookup.query(host, "NAPTR")
    except _NxDomain:
        raise ResolveError(f"{host}: no such domain (NXDOMAIN)") from None
    usable = sorted(
        (r.order, r.preference, NAPTR_SERVICE[r.service.decode().upper()], r.replacement.to_text())
        for r in records
        if isinstance(r, dns.rdtypes.IN.NAPTR.NAPTR)
        and r.flags.lower() == b"s"
        and NAPTR_SERVICE.get(r.service.decode("ascii", "replace").upper()) in allowed
    )
    targets: list[Target] = []
    for order, _, transport, replacement in usable:
        if order != usable[0][0]:
            break  # RFC 3403 §4.1: records of a later order are not considered
        try:
            targets += (await _srv(lookup, replacement.rstrip("."), transport, rng))[0]
        except ResolveError as exc:
            log.info("skipping NAPTR replacement %s of %s: %s", replacement, host, exc)
    if usable and not targets:
        log.info("NAPTR records of %s lead nowhere; trying SRV", host)
    return targets


async def locate(
    host: str,
    port: int | None,
    transport: str | None,
    mode: str = "A",
    *,
    secure: bool = False,
    nameservers: Sequence[tuple[str, int]] | None = None,
    timeout: float = 3.0,
    supported: Sequence[str] = ("TCP", "UDP"),
    ipv6: bool = True,
    rng: random.Random | None = None,
) -> list[Target]:
    """Every target for a SIP URI's host, in the order to try them (RFC 3263 §4).

    ``transport`` is the URI's transport parameter (or the line's setting); ``secure`` means a
    sips: URI. ``supported`` lists, in order of preference, the transports to look for when none is
    given (add "TLS" when TLS is configured). ``mode`` is the line's DNS mode: "A", "SRV", "NAPTR".
    """
    mode = mode.upper()
    if mode not in MODES:
        raise ResolveError(f"DNS mode must be A, SRV or NAPTR, got {mode!r}")
    transport = transport.upper() if transport else None
    if transport is not None and transport not in TRANSPORTS:
        raise ResolveError(f"transport must be UDP, TCP or TLS, got {transport!r}")
    if secure and transport not in (None, "TLS"):
        raise ResolveError(f"a sips: URI needs TLS, not {transport}")
    fallback = transport or ("TLS" if secure else "UDP")
    fallback_port = port or (5061 if fallback == "TLS" else 5060)
    host = host.strip().rstrip(".")
    if not host:
        raise ResolveError("no host to look up")
    literal = _literal(host)
    if literal is not None:
        return [Target(fallback, literal, fallback_port)]
    lookup = _Lookup(nameservers, timeout, ipv6)
    if port is None and mode != "A":
        allowed = [transport] if transport else ["TLS"] if secure else [t.upper() for t in supported]
        chosen = random.Random() if rng is None else rng
        if mode == "NAPTR" and transport is None:
            targets = await _naptr(lookup, host, allowed, chosen)
            if targets:
                return targets
        any_srv = False
        targets = []
        for t in allowed:
            more, found = await _srv(lookup, f"{SRV_PREFIX[t]}.{host}", t, chosen)
            targets += more
            any_srv = any_srv or found
        if targets:
            return targets
        if any_srv:
            raise ResolveError(f"the SRV records of {host} offer no usable SIP server")
    return [Target(fallback, a, fallback_port) for a in await lookup.addresses(host)]
