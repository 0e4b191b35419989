"""The interop harness proven with the peers themselves, before portier's lines meet them.

Kamailio is checked with SIPp as the registering client (and a bare UDP client for what SIPp cannot
say); each registrar scenario SIPp plays for portier is checked with a client that behaves (it must
pass) and, where the scenario asserts a rule, with one that breaks the rule (it must be caught).
"""

from __future__ import annotations

import re
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest

from .conftest import KamailioFactory, SippServerFactory
from .kamailio import Kamailio
from .netns import LoopbackNamespace
from .sipp import LOOPBACK, SippResult, digest_params, digest_response, run_sipp, scenario

pytestmark = pytest.mark.interop

ALICE = ("alice", "alice-secret")
BOB = ("bob", "bob-secret")


# -- a bare UDP line: just enough SIP to play the client side by hand ----------------------------


@dataclass
class Message:
    text: str

    @property
    def first_line(self) -> str:
        return self.text.split("\r\n", 1)[0]

    @property
    def status(self) -> int:
        return int(self.first_line.split()[1]) if self.first_line.startswith("SIP/2.0 ") else 0

    def header(self, name: str) -> str | None:
        for line in self.text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


@dataclass
class RawLine:
    """A SIP line over UDP on 127.0.0.1 written out by hand: one Call-ID, rising CSeq, digest auth."""

    server: tuple[str, int]
    user: str = "alice"
    domain: str = "sipp.test"
    sock: socket.socket = field(init=False)
    call_id: str = field(default_factory=lambda: f"{secrets.token_hex(8)}@{LOOPBACK}")
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    cseq: int = 0

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))

    @property
    def port(self) -> int:
        port: int = self.sock.getsockname()[1]
        return port

    def close(self) -> None:
        self.sock.close()

    def request(
        self, method: str, uri: str, *, to_user: str | None = None, headers: tuple[str, ...] = ()
    ) -> Message:
        """Send a request and return its final response (provisional ones are skipped)."""
        self.cseq += 1
        branch = "z9hG4bK" + secrets.token_hex(8)
        lines = [
            f"{method} {uri} SIP/2.0",
            f"Via: SIP/2.0/UDP {LOOPBACK}:{self.port};branch={branch};rport",
            "Max-Forwards: 70",
            f"From: <sip:{self.user}@{self.domain}>;tag={self.tag}",
            f"To: <sip:{to_user or self.user}@{self.domain}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} {method}",
            f"Contact: <sip:{self.user}@{LOOPBACK}:{self.port}>",
            *headers,
            "Content-Length: 0",
        ]
        self.sock.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), self.server)
        while True:
            reply = self.receive()
            if branch in (reply.header("Via") or "") and reply.status >= 200:
                return reply

    def register(self, expires: int, *headers: str) -> Message:
        return self.request("REGISTER", f"sip:{self.domain}", headers=(f"Expires: {expires}", *headers))

    def authorize(self, challenge: Message, method: str, uri: str, password: str) -> str:
        """The Authorization or Proxy-Authorization header answering ``challenge`` (MD5, qop=auth)."""
        name = "WWW-Authenticate" if challenge.status == 401 else "Proxy-Authenticate"
        params = digest_params(challenge.header(name) or "")
        qop = "auth" if "auth" in params.get("qop", "").split(",") else None
        cnonce, nc = secrets.token_hex(4), "00000001"
        response = digest_response(
            user=self.user,
            password=password,
            realm=params["realm"],
            nonce=params["nonce"],
            method=method,
            uri=uri,
            qop=qop,
            nc=nc,
            cnonce=cnonce,
        )
        value = (
            f'Digest username="{self.user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
            f'uri="{uri}", response="{response}", algorithm=MD5'
        )
        if qop:
            value += f', qop={qop}, nc={nc}, cnonce="{cnonce}"'
        return f"{'Authorization' if challenge.status == 401 else 'Proxy-Authorization'}: {value}"

    def receive(self, timeout: float = 3.0) -> Message:
        self.sock.settimeout(timeout)
        data, _ = self.sock.recvfrom(65535)
        return Message(data.decode())

    def answer(self, request: Message, status: str = "200 OK") -> None:
        """Reply to a request that arrived at this line (copying the headers RFC 3261 §8.2.6 asks for)."""
        copied = [
            line
            for line in request.text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
            if line.split(":", 1)[0].strip().lower() in {"via", "from", "to", "call-id", "cseq"}
        ]
        reply = "\r\n".join([f"SIP/2.0 {status}", *copied, "Content-Length: 0"]) + "\r\n\r\n"
        via = request.header("Via") or ""
        rport = re.search(r";rport=(\d+)", via)
        sent_by_port = re.match(r"SIP/2\.0/UDP [^:;]+:(\d+)", via)
        port = rport or sent_by_port
        assert port, f"no port to answer in Via: {via}"
        self.sock.sendto(reply.encode(), (LOOPBACK, int(port.group(1))))  # loopback, whatever Via says


def register_with_auth(line: RawLine, password: str, expires: int = 300) -> Message:
    """REGISTER, answer one challenge, return the final answer to the authenticated REGISTER."""
    first = line.register(expires)
    assert first.status in (401, 407), first.text
    uri = f"sip:{line.domain}"
    return line.register(expires, line.authorize(first, "REGISTER", uri, password))


# -- Kamailio ------------------------------------------------------------------------------------


def register_alice(kamailio: Kamailio, transport: str = "u1", password: str = ALICE[1]) -> SippResult:
    return run_sipp(
        scenario("register_uac_auth"),
        remote=kamailio.address("udp" if transport == "u1" else "tcp"),
        transport=transport,
        keys={"user": "alice", "domain": kamailio.realm, "expires": "300"},
        auth=(ALICE[0], password),
        timeout=10,
        workdir=kamailio.workdir,
    )


@pytest.mark.parametrize(
    ("qop", "auth_kind"), [(True, "www"), (False, "www"), (True, "proxy")], ids=["qop", "no-qop", "407"]
)
def test_sipp_registers_alice_over_udp(
    kamailio_factory: KamailioFactory, qop: bool, auth_kind: str
) -> None:
    kamailio = kamailio_factory(qop=qop, auth_kind=auth_kind)
    result = register_alice(kamailio)
    assert result.ok, result.explain()
    status = "401" if auth_kind == "www" else "407"
    challenge = next(m for m in result.received() if m.startswith(f"SIP/2.0 {status}"))
    assert ('qop="auth"' in challenge) is qop
    assert 'realm="portier.test"' in challenge
    contacts = kamailio.registered("alice")
    assert len(contacts) == 1 and contacts[0].startswith(f"sip:alice@{LOOPBACK}:"), contacts
    assert kamailio.registered("bob") == []


def test_wrong_password_is_challenged_again_and_the_client_fails(kamailio: Kamailio) -> None:
    result = register_alice(kamailio, password="not-the-password")
    assert result.returncode == 1, result.explain()
    assert "while expecting '200'" in result.errors_log and "401 Unauthorized" in result.errors_log
    assert kamailio.registered("alice") == []
    assert "www auth failed for alice with -2" in kamailio.log


def test_sipp_registers_alice_over_tcp(kamailio: Kamailio) -> None:
    result = register_alice(kamailio, transport="t1")
    assert result.ok, result.explain()
    contacts = kamailio.registered("alice")
    assert len(contacts) == 1 and contacts[0].endswith(";transport=TCP"), contacts
    assert "REGISTER sip:portier.test from 127.0.0.1" in kamailio.log and "over tcp" in kamailio.log


def test_tls_listener_presents_the_exposed_certificate_and_answers_sip(kamailio: Kamailio) -> None:
    context = ssl.create_default_context(cadata=kamailio.tls_cert_pem.decode())
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with (
        socket.create_connection((LOOPBACK, kamailio.tls_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=kamailio.realm) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        assert tls.getpeercert(binary_form=True) == ssl.PEM_cert_to_DER_cert(kamailio.tls_cert_pem.decode())
        branch = "z9hG4bK" + secrets.token_hex(6)
        port = tls.getsockname()[1]
        tls.sendall(
            (
                f"OPTIONS sip:{LOOPBACK}:{kamailio.tls_port};transport=tls SIP/2.0\r\n"
                f"Via: SIP/2.0/TLS {LOOPBACK}:{port};branch={branch};rport\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:probe@portier.test>;tag=1\r\n"
                f"To: <sip:{LOOPBACK}>\r\nCall-ID: {branch}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            ).encode()
        )
        reply = tls.recv(65535).decode()
    assert reply.startswith("SIP/2.0 200 OK") and branch in reply, reply


def test_two_instances_run_side_by_side_and_survive_kill_and_restart(
    kamailio_factory: KamailioFactory,
) -> None:
    first, second = kamailio_factory(), kamailio_factory(realm="other.test")
    ports = {k.port(transport) for k in (first, second) for transport in ("udp", "tcp", "tls")}
    assert len(ports) == 6
    assert first.probe() and second.probe()
    assert register_alice(first).ok
    old_pid = first.pid

    first.kill()
    assert not first.running and not first.probe()
    assert second.probe(), "killing one instance must not touch the other"

    first.restart()
    assert first.probe() and first.pid != old_pid
    assert first.registered("alice") == [], "contacts live in memory: a restart forgets them"
    assert register_alice(first).ok
    second.stop()
    assert not second.running and not second.probe()


def test_register_below_min_expires_gets_423_and_registers_with_min_expires(
    kamailio_factory: KamailioFactory,
) -> None:
    kamailio = kamailio_factory(min_expires=120)
    result = run_sipp(
        scenario("register_uac_423"),
        remote=kamailio.address(),
        keys={"user": "alice", "domain": kamailio.realm, "expires": "30"},
        auth=ALICE,
        timeout=10,
        workdir=kamailio.workdir,
    )
    assert result.ok, result.explain()
    too_brief = [m for m in result.received() if m.startswith("SIP/2.0 423")]
    assert len(too_brief) == 1 and "Min-Expires: 120" in too_brief[0], result.explain()
    assert "Expires: 120" in result.messages_log
    assert len(kamailio.registered("alice")) == 1


def test_users_change_at_run_time_and_bindings_can_be_dropped(kamailio_factory: KamailioFactory) -> None:
    kamailio = kamailio_factory(users={"1001": "1234"})  # numeric names and passwords, as PBXes use
    first = RawLine(server=(LOOPBACK, kamailio.udp_port), user="1001", domain=kamailio.realm)
    second = RawLine(server=(LOOPBACK, kamailio.udp_port), user="1002", domain=kamailio.realm)
    try:
        assert register_with_auth(first, "1234").status == 200
        assert kamailio.registered("1001") == [f"sip:1001@{LOOPBACK}:{first.port}"]
        kamailio.unregister("1001")
        assert kamailio.registered("1001") == []

        assert register_with_auth(second, "5678").status == 401
        kamailio.set_user("1002", "5678")
        assert register_with_auth(second, "5678").status == 200
        kamailio.remove_user("1002")
        assert register_with_auth(second, "5678").status == 401
    finally:
        first.close()
        second.close()


def test_an_open_registrar_needs_no_credentials(kamailio_factory: KamailioFactory) -> None:
    kamailio = kamailio_factory(auth_kind="none", challenge_requests=False)
    line = RawLine(server=(LOOPBACK, kamailio.udp_port), user="carol", domain=kamailio.realm)
    try:
        assert line.register(300).status == 200
        assert kamailio.registered("carol") == [f"sip:carol@{LOOPBACK}:{line.port}"]
        assert line.request("OPTIONS", f"sip:dave@{kamailio.realm}", to_user="dave").status == 404
    finally:
        line.close()


def test_requests_need_proxy_auth_and_reach_the_registered_user(kamailio: Kamailio) -> None:
    alice = RawLine(server=(LOOPBACK, kamailio.udp_port), user="alice", domain=kamailio.realm)
    bob = RawLine(server=(LOOPBACK, kamailio.udp_port), user="bob", domain=kamailio.realm)
    try:
        assert register_with_auth(alice, ALICE[1]).status == 200
        assert kamailio.registered("alice") == [f"sip:alice@{LOOPBACK}:{alice.port}"]

        uri = f"sip:alice@{kamailio.realm}"
        challenge = bob.request("MESSAGE", uri, to_user="alice")
        assert challenge.status == 407, challenge.text
        assert 'realm="portier.test"' in (challenge.header("Proxy-Authenticate") or "")

        credentials = bob.authorize(challenge, "MESSAGE", uri, BOB[1])
        bob_reply: list[Message] = []

        def send_authenticated() -> None:
            bob_reply.append(bob.request("MESSAGE", uri, to_user="alice", headers=(credentials,)))

        sender = threading.Thread(target=send_authenticated)
        sender.start()
        relayed = alice.receive()
        assert relayed.first_line == f"MESSAGE sip:alice@{LOOPBACK}:{alice.port} SIP/2.0", relayed.text
        assert relayed.header("Proxy-Authorization") is None, "credentials are consumed by the proxy"
        alice.answer(relayed)
        sender.join(5)
        assert bob_reply and bob_reply[0].status == 200, bob_reply
    finally:
        alice.close()
        bob.close()


# -- the registrar scenarios SIPp plays for portier -----------------------------------------------


@pytest.mark.parametrize("transport", ["u1", "t1"], ids=["udp", "tcp"])
def test_reg_401_accepts_the_right_password(sipp_server_factory: SippServerFactory, transport: str) -> None:
    server = sipp_server_factory(
        scenario("reg_401"),
        keys={"user": "alice", "password": "pw", "expires": "120"},
        transport=transport,
        timeout=10,
    )
    client = run_sipp(
        scenario("register_uac_auth"),
        remote=f"{LOOPBACK}:{server.port}",
        transport=transport,
        keys={"user": "alice", "domain": "sipp.test", "expires": "600"},
        auth=("alice", "pw"),
        timeout=10,
    )
    result = server.wait()
    assert client.ok, client.explain()
    assert result.ok, result.explain()
    assert result.digest_ok("alice", "pw") and not result.digest_ok("alice", "other")
    challenge = next(m for m in client.received() if m.startswith("SIP/2.0 401"))
    assert 'qop="auth"' in challenge and 'realm="sipp.test"' in challenge
    ok = next(m for m in client.received() if m.startswith("SIP/2.0 200"))
    wire = "UDP" if transport == "u1" else "TCP"
    assert re.search(rf"Contact: <sip:alice@127\.0\.0\.1:\d+;transport={wire}>;expires=120\r?\n", ok), ok


def test_reg_401_refuses_a_wrong_password(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(
        scenario("reg_401"), keys={"user": "alice", "password": "pw", "expires": "120"}, timeout=10
    )
    client = run_sipp(
        scenario("register_uac_auth"),
        remote=f"{LOOPBACK}:{server.port}",
        keys={"user": "alice", "domain": "sipp.test", "expires": "600"},
        auth=("alice", "wrong"),
        timeout=10,
    )
    result = server.wait()
    assert client.returncode == 1 and "403 Forbidden" in client.errors_log, client.explain()
    assert result.returncode == 97 and "reg_401: credentials for alice rejected" in result.errors_log


def test_reg_407_challenges_like_a_proxy(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_407"), keys={"expires": "120"}, timeout=10)
    client = run_sipp(
        scenario("register_uac_auth"),
        remote=f"{LOOPBACK}:{server.port}",
        keys={"user": "alice", "domain": "sipp.test", "expires": "600"},
        auth=("alice", "pw"),
        timeout=10,
    )
    result = server.wait()
    assert client.ok, client.explain()
    assert result.ok, result.explain()
    assert any("Proxy-Authenticate: Digest" in m for m in client.received())
    assert result.digest_ok("alice", "pw", header="Proxy-Authorization")
    assert not result.digest_ok("alice", "wrong", header="Proxy-Authorization")


def test_reg_407_refuses_credentials_for_another_nonce(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_407"), keys={"expires": "120"}, timeout=10)
    line = RawLine(server=server.address)
    try:
        assert line.register(600).status == 407
        stale = 'Proxy-Authorization: Digest username="alice", realm="sipp.test", nonce="0123", '
        stale += 'uri="sip:sipp.test", response="00000000000000000000000000000000", algorithm=MD5'
        assert line.register(600, stale).status == 403
    finally:
        line.close()
    result = server.wait()
    assert result.returncode == 97 and "a nonce not ours" in result.errors_log, result.explain()


def test_reg_423_wants_the_min_expires_it_named(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_423"), timeout=10)
    client = run_sipp(
        scenario("register_uac_423"),
        remote=f"{LOOPBACK}:{server.port}",
        keys={"user": "alice", "domain": "sipp.test", "expires": "60"},
        timeout=10,
    )
    result = server.wait()
    assert client.ok, client.explain()
    assert result.ok, result.explain()
    registers = result.received("REGISTER")
    assert len(registers) == 2 and "Expires: 60" in registers[0] and "Expires: 3600" in registers[1]


def test_reg_423_catches_a_line_that_ignores_min_expires(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_423"), timeout=10)
    line = RawLine(server=server.address)
    try:
        too_brief = line.register(60)
        assert too_brief.status == 423 and too_brief.header("Min-Expires") == "3600"
        assert line.register(60).status == 403
    finally:
        line.close()
    result = server.wait()
    assert result.returncode == 97, result.explain()
    assert "asked for Expires: 60 instead of 3600" in result.errors_log


def test_reg_403_passes_a_line_that_stops(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_403"), timeout=10)
    line = RawLine(server=server.address)
    try:
        assert line.register(600).status == 403
    finally:
        line.close()
    result = server.wait()
    assert result.ok, result.explain()
    assert len(result.received("REGISTER")) == 1


def test_reg_403_catches_a_line_that_loops(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_403"), timeout=10)
    line = RawLine(server=server.address)
    try:
        assert line.register(600).status == 403
        assert line.register(600).status == 403
    finally:
        line.close()
    result = server.wait()
    assert result.returncode == 97 and "another REGISTER within 4 s" in result.errors_log, result.explain()


def test_reg_503_passes_a_line_that_waits_retry_after(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_503"), keys={"expires": "300"}, timeout=15)
    line = RawLine(server=server.address)
    try:
        busy = line.register(600)
        assert busy.status == 503 and busy.header("Retry-After") == "5"
        time.sleep(int(busy.header("Retry-After") or 0))
        ok = line.register(600)
        assert ok.status == 200 and ok.header("Contact") == f"<sip:alice@{LOOPBACK}:{line.port}>;expires=300"
    finally:
        line.close()
    result = server.wait()
    assert result.ok, result.explain()


def test_reg_503_catches_a_line_that_retries_early(sipp_server_factory: SippServerFactory) -> None:
    server = sipp_server_factory(scenario("reg_503"), keys={"expires": "300"}, timeout=10)
    line = RawLine(server=server.address)
    try:
        assert line.register(600).status == 503
        assert line.register(600).status == 503
    finally:
        line.close()
    result = server.wait()
    assert result.returncode == 97, result.explain()
    assert "s after 503 with Retry-After: 5" in result.errors_log


def test_options_uac_gets_200_from_kamailio(kamailio: Kamailio) -> None:
    result = run_sipp(scenario("options_uac"), remote=kamailio.address(), timeout=10)
    assert result.ok, result.explain()
    assert "OPTIONS sip:127.0.0.1" in kamailio.log


def test_options_uac_fails_on_any_answer_but_200() -> None:
    peer = RawLine(server=(LOOPBACK, 9))  # only answers here, never sends a request of its own
    answered: list[str] = []

    def answer_404() -> None:
        request = peer.receive(timeout=5)
        answered.append(request.first_line)
        peer.answer(request, "404 Not Found")

    responder = threading.Thread(target=answer_404)
    responder.start()
    try:
        client = run_sipp(scenario("options_uac"), remote=f"{LOOPBACK}:{peer.port}", timeout=5)
    finally:
        responder.join(6)
        peer.close()
    assert answered and answered[0].startswith("OPTIONS sip:127.0.0.1:")
    assert client.returncode == 1 and "404 Not Found" in client.errors_log, client.explain()


# -- network namespace ---------------------------------------------------------------------------

UDP_ECHO_SELF_TEST = """
import socket
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", 0)); b.settimeout(2)
a.sendto(b"ping", b.getsockname())
print(b.recv(10).decode())
try:
    a.sendto(b"x", ("192.0.2.1", 5060))
    print("sent-outside")
except OSError as exc:
    print("unreachable", exc.errno)
"""


def test_loopback_namespace_has_only_lo_and_is_removed(loopback_namespace: LoopbackNamespace) -> None:
    ns = loopback_namespace
    addresses = subprocess.run(
        ["ip", "-n", ns.name, "-o", "addr"], capture_output=True, text=True, timeout=10, check=True
    )
    interfaces = {line.split()[1] for line in addresses.stdout.splitlines()}
    assert interfaces == {"lo"}, addresses.stdout
    assert "inet 127.0.0.1/8" in addresses.stdout

    result = ns.run([sys.executable, "-c", UDP_ECHO_SELF_TEST], timeout=10)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[0] == "ping"
    assert lines[1] == "unreachable", "192.0.2.1 must be unreachable inside the namespace"

    sleeper = ns.popen(["sleep", "30"])
    assert sleeper.pid in ns.pids()
    ns.close()
    assert sleeper.wait(timeout=5) is not None
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    assert ns.name not in listed
