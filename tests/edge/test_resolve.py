"""RFC 3263 server location against a small authoritative DNS server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random
import socket
from collections import Counter
from collections.abc import AsyncIterator

import dns.flags
import dns.message
import dns.rcode
import dns.rrset
import pytest

from portier.sip.resolve import ResolveError, Target, locate, order_srv

ZONE: dict[tuple[str, str], list[str]] = {
    ("example.test", "A"): ["127.0.0.10"],
    ("example.test", "NAPTR"): [
        '10 20 "s" "SIP+D2U" "" _sip._udp.example.test.',
        '10 10 "S" "SIP+D2T" "" _sip._tcp.example.test.',
        '10 30 "s" "SIPS+D2T" "" _sips._tcp.example.test.',
        '10 5 "u" "E2U+sip" "!^.*$!sip:door@example.test!" .',  # not a SIP service: skipped
        '20 1 "s" "SIP+D2U" "" _sip._udp.backup.example.test.',  # later order: never used
    ],
    ("_sip._tcp.example.test", "SRV"): ["20 0 5071 pbx2.example.test.", "10 0 5070 pbx1.example.test."],
    ("_sip._udp.example.test", "SRV"): ["10 0 5060 pbx1.example.test."],
    ("_sips._tcp.example.test", "SRV"): ["10 0 5061 pbx1.example.test."],
    ("_sip._udp.backup.example.test", "SRV"): ["10 0 5060 pbx2.example.test."],
    ("pbx1.example.test", "A"): ["127.0.0.11"],
    ("pbx1.example.test", "AAAA"): ["::1"],
    ("pbx2.example.test", "A"): ["127.0.0.12"],
    ("plain.example.test", "A"): ["127.0.0.30"],
    ("_sip._udp.dead.example.test", "SRV"): ["0 0 0 ."],
    ("dead.example.test", "A"): ["127.0.0.40"],
    ("_sip._udp.broken.example.test", "SRV"): [
        "10 0 5060 gone.example.test.",  # NXDOMAIN: skipped
        "20 0 5062 pbx2.example.test.",
    ],
    ("broken.example.test", "A"): ["127.0.0.50"],
    ("_sip._udp.weighted.example.test", "SRV"): [
        "10 90 5060 heavy.example.test.",
        "10 10 5060 light.example.test.",
        "5 0 5062 first.example.test.",
    ],
    ("heavy.example.test", "A"): ["127.0.0.21"],
    ("light.example.test", "A"): ["127.0.0.22"],
    ("first.example.test", "A"): ["127.0.0.20"],
}
NAMES = {name for name, _ in ZONE}


class Authority(asyncio.DatagramProtocol):
    """Answers from ZONE with AA set; NXDOMAIN for names it does not hold, empty NOERROR otherwise."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.queries: list[tuple[str, str]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        if name not in NAMES:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif (name, rdtype) in ZONE:
            response.answer.append(dns.rrset.from_text(question.name, 300, "IN", rdtype, *ZONE[name, rdtype]))
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


@pytest.fixture
async def authority() -> AsyncIterator[tuple[list[tuple[str, int]], Authority]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Authority, local_addr=("127.0.0.1", 0))
    try:
        yield [("127.0.0.1", transport.get_extra_info("sockname")[1])], protocol
    finally:
        transport.close()


Servers = tuple[list[tuple[str, int]], Authority]


async def test_ip_literals_need_no_dns() -> None:
    assert await locate("127.0.0.5", None, None, "NAPTR") == [Target("UDP", "127.0.0.5", 5060)]
    assert await locate("127.0.0.5", None, None, secure=True) == [Target("TLS", "127.0.0.5", 5061)]
    assert await locate("[::1]", None, "tcp") == [Target("TCP", "::1", 5060)]
    assert await locate("127.0.0.5", 5080, "TLS") == [Target("TLS", "127.0.0.5", 5080)]


async def test_localhost_through_getaddrinfo() -> None:
    targets = await locate("localhost", None, "TCP")
    assert targets[0] == Target("TCP", "127.0.0.1", 5060)
    assert await locate("localhost", 5070, None, ipv6=False) == [Target("UDP", "127.0.0.1", 5070)]


async def test_explicit_port_skips_srv_and_naptr(authority: Servers) -> None:
    servers, auth = authority
    targets = await locate("example.test", 5080, None, "NAPTR", nameservers=servers)
    assert targets == [Target("UDP", "127.0.0.10", 5080)]
    assert {rdtype for _, rdtype in auth.queries} == {"A", "AAAA"}


async def test_a_mode_uses_default_ports(authority: Servers) -> None:
    servers, _ = authority
    assert await locate("plain.example.test", None, None, nameservers=servers) == [
        Target("UDP", "127.0.0.30", 5060)
    ]
    assert await locate("plain.example.test", None, None, secure=True, nameservers=servers) == [
        Target("TLS", "127.0.0.30", 5061)
    ]


async def test_srv_for_a_given_transport_in_priority_order(authority: Servers) -> None:
    servers, _ = authority
    targets = await locate("example.test", None, "TCP", "SRV", nameservers=servers, ipv6=False)
    assert targets == [Target("TCP", "127.0.0.11", 5070), Target("TCP", "127.0.0.12", 5071)]


async def test_srv_without_transport_tries_each_supported_one(authority: Servers) -> None:
    servers, _ = authority
    targets = await locate("example.test", None, None, "SRV", nameservers=servers, supported=("TLS", "UDP"))
    assert targets == [
        Target("TLS", "127.0.0.11", 5061),
        Target("TLS", "::1", 5061),
        Target("UDP", "127.0.0.11", 5060),
        Target("UDP", "::1", 5060),
    ]


async def test_srv_weights_and_priorities(authority: Servers) -> None:
    servers, _ = authority
    rng = random.Random(3)
    seconds = Counter[str]()
    for _ in range(40):
        targets = await locate("weighted.example.test", None, "UDP", "SRV", nameservers=servers, rng=rng)
        assert targets[0] == Target("UDP", "127.0.0.20", 5062)  # priority 5 beats 10 whatever the weight
        assert {t.host for t in targets[1:]} == {"127.0.0.21", "127.0.0.22"}
        seconds[targets[1].host] += 1
    assert seconds["127.0.0.21"] > seconds["127.0.0.22"]


def test_order_srv_follows_rfc_2782_weights() -> None:
    rng = random.Random(11)
    records = [(10, 90, 5060, "heavy"), (10, 10, 5060, "light"), (5, 0, 5062, "first")]
    firsts = Counter(order_srv(records, rng)[1][1] for _ in range(2000))
    assert 1650 < firsts["heavy"] < 1950  # about 90 %
    zero = Counter(order_srv([(1, 0, 1, "zero"), (1, 100, 2, "big")], rng)[0][1] for _ in range(2000))
    assert zero["big"] > 1900  # weight 0 is chosen first only when the draw is exactly 0
    assert order_srv([], rng) == []


async def test_naptr_order_and_preference(authority: Servers) -> None:
    servers, auth = authority
    targets = await locate(
        "example.test", None, None, "NAPTR", nameservers=servers, supported=("TLS", "TCP", "UDP"), ipv6=False
    )
    assert targets == [
        Target("TCP", "127.0.0.11", 5070),  # preference 10
        Target("TCP", "127.0.0.12", 5071),
        Target("UDP", "127.0.0.11", 5060),  # preference 20
        Target("TLS", "127.0.0.11", 5061),  # preference 30
    ]
    assert ("_sip._udp.backup.example.test", "SRV") not in auth.queries
    secure = await locate("example.test", None, None, "NAPTR", secure=True, nameservers=servers, ipv6=False)
    assert secure == [Target("TLS", "127.0.0.11", 5061)]
    udp_only = await locate("example.test", None, None, "NAPTR", nameservers=servers, supported=("UDP",))
    assert udp_only == [Target("UDP", "127.0.0.11", 5060), Target("UDP", "::1", 5060)]


async def test_naptr_and_srv_fall_back_to_a(authority: Servers) -> None:
    servers, auth = authority
    targets = await locate("plain.example.test", None, None, "NAPTR", nameservers=servers)
    assert targets == [Target("UDP", "127.0.0.30", 5060)]
    assert auth.queries[:3] == [
        ("plain.example.test", "NAPTR"),
        ("_sip._tcp.plain.example.test", "SRV"),
        ("_sip._udp.plain.example.test", "SRV"),
    ]


async def test_dead_srv_targets_are_skipped_or_reported(authority: Servers) -> None:
    servers, _ = authority
    targets = await locate("broken.example.test", None, "UDP", "SRV", nameservers=servers)
    assert targets == [Target("UDP", "127.0.0.12", 5062)]
    with pytest.raises(ResolveError, match=r"SRV records of dead\.example\.test offer no usable SIP server"):
        await locate("dead.example.test", None, "UDP", "SRV", nameservers=servers)


async def test_nxdomain_is_a_clear_error(authority: Servers) -> None:
    servers, _ = authority
    for mode in ("A", "SRV", "NAPTR"):
        with pytest.raises(ResolveError, match=r"^missing\.example\.test: no such domain \(NXDOMAIN\)$"):
            await locate("missing.example.test", None, None, mode, nameservers=servers)


async def test_silent_server_times_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        timed_out = r"DNS A query for plain\.example\.test timed out after 0\.3 s"
        with pytest.raises(ResolveError, match=timed_out):
            await locate("plain.example.test", None, None, nameservers=[silent.getsockname()], timeout=0.3)


async def test_bad_arguments() -> None:
    with pytest.raises(ResolveError, match="sips: URI needs TLS, not UDP"):
        await locate("127.0.0.1", None, "UDP", secure=True)
    with pytest.raises(ResolveError, match="DNS mode must be A, SRV or NAPTR"):
        await locate("127.0.0.1", None, None, "MX")
    with pytest.raises(ResolveError, match="transport must be UDP, TCP or TLS"):
        await locate("127.0.0.1", None, "SCTP")
