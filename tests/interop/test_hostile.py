"""A registered portier under attack: SIPVicious scans, junk datagrams, abusive TCP connections.

Issue: "sipvicious svmap/svwar/svcrack runs against a running device, which keeps serving
registrations and answering OPTIONS throughout; oversized and truncated datagrams never stop the
transport." One device (a real ``portier run`` child process) with SIP1 registered at a real
Kamailio as alice serves the whole module; every test checks afterwards that it still runs,
answers OPTIONS over UDP and TCP, holds its binding and has logged no traceback. The binding is
asked for 30 s, so the line must refresh it (at 15 s) while it is being attacked.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import re
import secrets
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from portier import MODEL, __version__

from .conftest import DEFAULT_USERS
from .device_process import LOOPBACK, DeviceProcess, options_request, options_tcp, options_udp, status_of
from .kamailio import Kamailio
from .peers import require
from .sipp import free_port

pytestmark = pytest.mark.interop

TTL = 30
SIPVICIOUS = ("sipvicious_svmap", "sipvicious_svwar", "sipvicious_svcrack")


def sipvicious(tool: str) -> str:
    """The console script of a SIPVicious tool: beside this Python (the venv) or on PATH; a missing
    one fails the test with what to install (pip package ``sipvicious``, in the ``test`` extra)."""
    beside_python = Path(sys.executable).parent / tool
    if beside_python.is_file():
        return str(beside_python)
    try:
        return require(tool)
    except AssertionError:
        raise AssertionError(
            f"{tool} is not installed: run `pip install -e '.[test]'` (sipvicious)"
        ) from None


# -- the registered device the module shares -------------------------------------------------------


@dataclass
class Rig:
    device: DeviceProcess
    kamailio: Kamailio
    home: Path
    first_cseq: int

    @property
    def port(self) -> int:
        return self.device.port

    @property
    def contact(self) -> str:
        return f"sip:alice@{LOOPBACK}:{self.device.port}"

    def binding(self) -> dict[str, str]:
        """The fields of alice's binding to the device's contact at Kamailio ({} when there is none)."""
        output = self.kamailio.rpc("ul.lookup", "location", "s:alice")
        for block in output.split("Contact: {")[1:]:
            fields = dict(re.findall(r"^\s*([A-Za-z-]+):\s*(.*?)\s*$", block, flags=re.MULTILINE))
            if fields.get("Address") == self.contact:
                return fields
        return {}

    def explain(self) -> str:
        return f"--- portier log ---\n{self.device.tail(40)}\n--- kamailio ---\n{self.kamailio.tail(20)}"

    def assert_healthy(self) -> None:
        """Alive, answering OPTIONS over UDP and TCP, registered, and no traceback in the log."""
        assert self.device.alive, (
            f"portier exited ({self.device.process and self.device.process.returncode})\n{self.explain()}"
        )
        assert any(self.device.answers(timeout=1.0) for _ in range(3)), (
            f"no 200 to OPTIONS/UDP\n{self.explain()}"
        )
        assert status_of(options_tcp(self.port)) == 200, f"no 200 to OPTIONS/TCP\n{self.explain()}"
        assert self.contact in self.kamailio.registered("alice"), f"binding lost\n{self.explain()}"
        assert self.device.tracebacks() == [], "\n\n".join(self.device.tracebacks())


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    for tool in SIPVICIOUS:
        sipvicious(tool)
    base = tmp_path_factory.mktemp("hostile")
    kamailio = Kamailio(base / "kamailio", users=DEFAULT_USERS, min_expires=TTL)
    device = DeviceProcess(base / "device")
    try:
        kamailio.start()
        device.configure(
            {
                "SIP1 Enable Reg": 1,
                "SIP1 Phone Number": "alice",
                "SIP1 Register Pswd": "alice-secret",
                "SIP1 Register Addr": LOOPBACK,
                "SIP1 Register Port": kamailio.udp_port,
                "SIP1 Register TTL": TTL,
                "SIP1 Signal Port": device.port,
                "Reg Fail Interval": 1,
            }
        )
        device.start()
        rig = Rig(device, kamailio, base / "home", 0)
        rig.home.mkdir()
        deadline = time.monotonic() + 10
        while not rig.binding() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rig.binding(), f"portier never registered alice at Kamailio\n{rig.explain()}"
        rig.first_cseq = int(rig.binding()["CSeq"])
        yield rig
        returncode = device.stop()
        assert returncode == 0, f"portier did not stop cleanly ({returncode})\n{device.tail(40)}"
        assert device.tracebacks() == [], "\n\n".join(device.tracebacks())
    finally:
        device.stop()
        kamailio.close()


# -- a second client asking OPTIONS the whole time -----------------------------------------------


@dataclass
class Watchdog:
    """Asks the device OPTIONS every ``interval`` from a thread; ``longest_silence`` is the longest
    time without a 200, counted from start to stop, so a device that stops answering shows."""

    port: int
    interval: float = 0.2
    answered: list[float] = field(default_factory=list)
    unanswered: int = 0
    started: float = 0.0
    stopped: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Watchdog:
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.stopped = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            if status_of(options_udp(self.port, timeout=1.0)) == 200:
                self.answered.append(time.monotonic())
            else:
                self.unanswered += 1
            self._stop.wait(self.interval)

    @property
    def longest_silence(self) -> float:
        times = [self.started, *self.answered, self.stopped]
        return max(b - a for a, b in itertools.pairwise(times))


def run_tool(
    rig: Rig, *argv: str, timeout: float = 60, tool_ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a SIPVicious tool against the device while a watchdog keeps asking OPTIONS; the tool binds
    a free port, names 127.0.0.1 as its address, and keeps its session files in a private HOME."""
    tool, *args = argv
    command = [
        sipvicious(tool), *args, "-P", str(free_port("udp")), "-x", LOOPBACK, "-p", str(rig.port), LOOPBACK,
    ]  # fmt: skip
    env = {**os.environ, "HOME": str(rig.home)}
    with Watchdog(rig.port) as watchdog:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    report = " ".join(command)
    report += f"\n--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}"
    assert result.returncode == 0 or not tool_ok, report
    assert len(watchdog.answered) >= 1, f"no OPTIONS answered during {tool}\n{rig.explain()}"
    assert watchdog.longest_silence < 3.0, (
        f"portier went {watchdog.longest_silence:.1f} s without a 200 to OPTIONS during {tool} "
        f"({watchdog.unanswered} probes unanswered)\n{rig.explain()}"
    )
    rig.assert_healthy()
    return result


# -- SIPVicious ----------------------------------------------------------------------------------


def test_svmap_finds_and_identifies_the_device(rig: Rig) -> None:
    result = run_tool(rig, "sipvicious_svmap", "-b", LOOPBACK)
    rows = [line for line in result.stdout.splitlines() if f"{LOOPBACK}:{rig.port}" in line]
    assert rows, f"svmap did not list {LOOPBACK}:{rig.port}:\n{result.stdout}"
    assert f"{MODEL} {__version__}" in rows[0], rows[0]


def test_svwar_options_scan_of_201_extensions_is_answered_in_full(rig: Rig) -> None:
    result = run_tool(rig, "sipvicious_svwar", "--debug", "-e100-300", "-m", "OPTIONS")
    # --debug prints every response received: one for the tool's probe, one per extension.
    assert result.stdout.count("SIP/2.0 200 OK") >= 201, result.stdout[-2000:]
    assert result.stdout.count(f"Server: {MODEL} {__version__}") >= 201


def test_svwar_register_scan_meets_405(rig: Rig) -> None:
    # A door station is no registrar: svwar reads the 405 as "method not allowed".
    result = run_tool(rig, "sipvicious_svwar", "-vv", "-e100-300", "-m", "REGISTER")
    assert "method not allowed" in result.stderr, result.stderr[-3000:]
    assert "SIP/2.0 405 Method Not Allowed" in result.stderr


def test_svwar_invite_scan_is_answered_and_hung_up(rig: Rig) -> None:
    # Direct IP calls are answered automatically on the manual's defaults (P2P Auto Answer on, delay 0),
    # so svwar's INVITEs (with an SDP offer) get 200 and a BYE, or 487 to its CANCEL; every call must end
    # and the device keep serving. svwar calls some answers "weird" and exits non-zero: its business.
    result = run_tool(rig, "sipvicious_svwar", "-vv", "-e100-130", "-m", "INVITE", tool_ok=False)
    # svwar CANCELs on the 180; whether the 200 (auto answer, delay 0) or the 487 wins is a race.
    answered = "sending a BYE to the 200 OK for the INVITE" in result.stderr
    cancelled = "487 Request Terminated" in result.stderr
    assert answered or cancelled, result.stderr[-3000:]
    assert "Traceback" not in rig.device.log


def test_svcrack_password_guessing_meets_405(rig: Rig) -> None:
    result = run_tool(rig, "sipvicious_svcrack", "-vv", "--maximumtime", "3", "-u", "100", "-r1-300")
    assert "Received response: SIP/2.0 405 Method Not Allowed" in result.stderr, result.stderr[-3000:]
    assert "The password for" not in result.stderr + result.stdout


# -- junk over UDP -------------------------------------------------------------------------------


def _invite(port: int, local_port: int) -> bytes:
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    )
    head = (
        f"INVITE sip:door@{LOOPBACK}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {LOOPBACK}:{local_port};branch=z9hG4bK{secrets.token_hex(8)};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:visitor@{LOOPBACK}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:door@{LOOPBACK}:{port}>\r\n"
        f"Call-ID: {secrets.token_hex(8)}\r\n"
        "CSeq: 1 INVITE\r\n"
        f"Contact: <sip:visitor@{LOOPBACK}:{local_port}>\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n"
    )
    return (head + sdp).encode()


def _options(
    port: int,
    local_port: int,
    *,
    extra: str = "",
    length: int | None = None,
    body: bytes = b"",
    transport: str = "UDP",
) -> bytes:
    data, _ = options_request(port, (LOOPBACK, local_port), transport)
    head = data.decode().removesuffix("Content-Length: 0\r\n\r\n")
    size = len(body) if length is None else length
    return f"{head}{extra}Content-Length: {size}\r\n\r\n".encode() + body


def _via(index: int) -> str:
    return f"Via: SIP/2.0/UDP {LOOPBACK}:{index % 65536:05d};branch=z9hG4bK{index:06d}\r\n"


def junk(port: int, local_port: int) -> dict[str, bytes]:
    """Datagrams no well-behaved peer sends, each one named for the failure report."""
    rng = random.Random(4475)
    invite = _invite(port, local_port)
    padded = _options(port, local_port, extra="X-Padding: \r\n")
    huge = _options(port, local_port, extra="X-Padding: " + "x" * (65000 - len(padded)) + "\r\n")
    vias = "".join(_via(i) for i in range(1000))
    # Its 200 copies every Via and adds capabilities: more than a datagram can carry (sending fails).
    fill = (65400 - len(_options(port, local_port))) // len(_via(0))
    overflowing = _options(port, local_port, extra="".join(_via(i) for i in range(fill)))
    return {
        "INVITE cut in the middle": invite[: len(invite) // 2],
        "INVITE cut inside the start line": invite[:11],
        "INVITE cut inside the SDP": invite[:-20],
        "65000-octet OPTIONS (header padded)": huge,
        "65000 random octets": rng.randbytes(65000),
        "512 random octets": rng.randbytes(512),
        "random octets after a start line": b"OPTIONS sip:x SIP/2.0\r\n" + rng.randbytes(400),
        "Content-Length beyond the body": _options(port, local_port, length=5000, body=b"v=0\r\n"),
        "Content-Length of 31 digits": _options(port, local_port, length=10**30),
        "negative Content-Length": _options(port, local_port, length=-1),
        "invalid UTF-8 in a header": _options(port, local_port, extra="Subject: ?\r\n").replace(
            b"Subject: ?", b"Subject: \xff\xfe\xc0\x80"
        ),
        "NUL octets": b"\x00" * 300,
        "only CRLFs": b"\r\n" * 200,
        "a Via of 10000 commas": _options(port, local_port, extra="Via: " + "," * 10000 + "\r\n"),
        "1000 Via header fields": _options(port, local_port, extra=vias),
        "OPTIONS whose 200 outgrows a datagram": overflowing,
        "STUN cookie and garbage attributes": b"\x00\x01\x00\x40\x21\x12\xa4\x42" + rng.randbytes(76),
        "an unasked-for response": b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK1\r\n\r\n",
        "single octet": b"I",
    }


def test_junk_datagrams_never_stop_the_udp_transport(rig: Rig) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        local_port = sock.getsockname()[1]
        for name, datagram in junk(rig.port, local_port).items():
            sock.sendto(datagram, (LOOPBACK, rig.port))
            assert rig.device.alive, f"portier died on {name!r}\n{rig.explain()}"
            assert any(rig.device.answers(timeout=1.0) for _ in range(2)), (
                f"no OPTIONS 200 after {name!r}\n{rig.explain()}"
            )
    rig.assert_healthy()


def test_content_length_beyond_a_datagram_is_answered_400(rig: Rig) -> None:
    # RFC 4475 §3.1.2.2 over UDP: the body is shorter than Content-Length says; answer 400.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(2.0)
        request = _options(rig.port, sock.getsockname()[1], length=5000, body=b"v=0\r\n")
        sock.sendto(request, (LOOPBACK, rig.port))
        reply = sock.recv(65535).decode("utf-8", "replace")
    assert status_of(reply) == 400, reply
    rig.assert_healthy()


def test_thousands_of_datagrams_then_options_still_gets_200(rig: Rig) -> None:
    """6000 datagrams in bursts of ten, a third of them OPTIONS that each open a transaction, the
    rest random octets and small junk. Far more than the device can parse arrive (the kernel
    drops the rest); what matters is that it answers during the flood and normally after it."""
    rng = random.Random(5060)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
        flood.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        flood.bind((LOOPBACK, 0))
        flood.setblocking(False)
        local_port = flood.getsockname()[1]
        small = [datagram for datagram in junk(rig.port, local_port).values() if len(datagram) < 2000]
        sent = answered = 0

        def drain() -> None:
            nonlocal answered
            with contextlib.suppress(BlockingIOError):
                while True:
                    answered += flood.recv(65535).startswith(b"SIP/2.0 200 ")

        for index in range(6000):
            if index % 3 == 0:
                datagram = _options(rig.port, local_port)  # a fresh branch each time: a new transaction
            elif index % 3 == 1:
                datagram = rng.randbytes(rng.randrange(1, 1400))
            else:
                datagram = small[index % len(small)]
            with contextlib.suppress(BlockingIOError):
                flood.sendto(datagram, (LOOPBACK, rig.port))
                sent += 1
            if index % 10 == 9:
                time.sleep(0.002)
                drain()
        assert sent > 5000
        deadline = time.monotonic() + 10
        while not rig.device.answers(timeout=1.0):
            assert time.monotonic() < deadline, f"no OPTIONS 200 within 10 s of the flood\n{rig.explain()}"
        drain()
    assert answered >= 100, f"only {answered} of 2000 flooded OPTIONS were answered\n{rig.explain()}"
    rig.assert_healthy()


# -- abuse over TCP ------------------------------------------------------------------------------


def _head_without_end(port: int, local_port: int) -> bytes:
    """An OPTIONS header section whose blank line never comes."""
    return _options(port, local_port, transport="TCP").removesuffix(b"Content-Length: 0\r\n\r\n")


def test_endless_header_on_tcp_is_cut_off_without_growing_memory(rig: Rig) -> None:
    rss_before = rig.device.rss_kib()
    assert rss_before is not None
    sent, closed, answer = 0, False, b""
    with socket.create_connection((LOOPBACK, rig.port), timeout=2) as sock:
        sock.sendall(_head_without_end(rig.port, sock.getsockname()[1]) + b"X-Endless: ")
        time.sleep(0.2)  # the head is read on its own; the header then only grows, slowloris-style
        chunk = b"a" * 16384
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not closed:
            try:
                sock.sendall(chunk)
                sent += len(chunk)
            except TimeoutError:  # the device stopped reading but kept the connection
                break
            except OSError:  # broken pipe / reset: the device closed the connection
                closed = True
                break
            readable, _, _ = select.select([sock], [], [], 0.01)
            if readable:
                try:
                    data = sock.recv(65535)
                except OSError:
                    closed = True
                    break
                closed = not data
                answer += data
    rss_after = rig.device.rss_kib()
    assert closed, f"the device still read an unterminated header after {sent} octets\n{rig.explain()}"
    # It may say why (513) before closing; it need not (§18.3 only asks to close the connection).
    assert answer == b"" or answer.startswith(b"SIP/2.0 513 "), answer[:300]
    assert rss_after is not None and rss_after - rss_before < 32 * 1024, (rss_before, rss_after, sent)
    rig.assert_healthy()


def test_half_messages_left_idle_on_tcp_do_not_block_other_clients(rig: Rig) -> None:
    idle: list[tuple[socket.socket, bytes]] = []
    try:
        for index in range(20):
            sock = socket.create_connection((LOOPBACK, rig.port), timeout=2)
            local_port = sock.getsockname()[1]
            if index % 2:  # header complete, body half sent
                whole = _options(
                    rig.port, local_port, extra="Content-Type: text/plain\r\n", length=100, transport="TCP"
                )
                sock.sendall(whole + b"x" * 50)
                rest = b"x" * 50
            else:  # header section cut before its blank line
                whole = _options(rig.port, local_port, transport="TCP")
                cut = len(whole) // 2
                sock.sendall(whole[:cut])
                rest = whole[cut:]
            idle.append((sock, rest))
        time.sleep(0.5)
        for _ in range(5):
            assert status_of(options_tcp(rig.port)) == 200, (
                f"a new TCP client was not served\n{rig.explain()}"
            )
            assert rig.device.answers(), f"UDP not served while TCP clients idle\n{rig.explain()}"
        # The idle connections were kept with their partial messages: completing one gets it answered.
        for sock, rest in idle[:2]:
            sock.sendall(rest)
            head = sock.recv(65535).decode("utf-8", "replace")
            assert status_of(head) == 200, head
    finally:
        for sock, _ in idle:
            sock.close()
    rig.assert_healthy()


# -- the registration ----------------------------------------------------------------------------


def test_registration_is_refreshed_while_under_attack(rig: Rig) -> None:
    """Runs last: the binding asked for 30 s must have been renewed (a higher CSeq) by now."""
    deadline = time.monotonic() + TTL
    while int(rig.binding().get("CSeq", "0")) <= rig.first_cseq:
        assert time.monotonic() < deadline, f"no REGISTER refresh within {TTL} s\n{rig.explain()}"
        time.sleep(0.5)
    binding = rig.binding()
    assert binding["User-Agent"] == f"{MODEL} {__version__}"
    assert 0 < int(binding["Expires"]) <= TTL
    rig.assert_healthy()
