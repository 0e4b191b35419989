"""The 49 RFC 4475 torture messages sent over UDP to a real ``portier run``, inside a loopback netns.

Why a namespace: the vectors name hosts that are not ours (192.0.2.x, 135.180.130.133, example.com
names) in Via, Contact, Record-Route and SDP; whatever the device might send there must not leave
the machine. Inside a ``LoopbackNamespace`` such a send fails with "network unreachable". The
device and the sender (``device_process.py replay``, started with the venv's Python) both run in
the namespace; the device answers the packet's source address (Enable Strict Proxy, on by default;
rport for the rest), so its answers come back to the sender.

What is asserted, per vector: the device is still alive and answers OPTIONS afterwards, and its
answer is the one the RFC asks for (the table of ``tests/unit/sip/test_rfc4475.py``), except where
the device legitimately answers earlier in RFC 3261 §8.2: a method it does not accept gets 405
(§8.2.1) before content checks, and a valid request gets what any request of its method gets (200
for OPTIONS, 405 for methods the device does not take, nothing for ACK). Some vectors share a
transaction key, so sent in one session the later one is a retransmission (see ``retransmissions``).
The two tests at the end pin what that showed: the transaction of a request that came over UDP must
behave as a UDP one even when its Via names TCP (novelsc/unkscm, longreq).
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest

from portier.sip import SipParseError, SipRequest, UasPolicy, check_request, parse
from portier.sip.transaction import TxKey, server_key

from ..unit.sip._vectors import VECTOR_DIR, names
from ..unit.sip.test_rfc4475 import CASES, Accept, Discard, Reject, Unparsable
from .device_process import LOOPBACK, PYTHON, SCRIPT, DeviceProcess, Exchange, options_request, status_of
from .netns import LoopbackNamespace

pytestmark = pytest.mark.interop

BUDGET = 55.0
"""Seconds the whole test may take; the device is killed by ``timeout`` at this age whatever happens."""

TRANSACTION_LIFETIME = 64 * 0.5
"""Timer J (and H) at the default T1: how long a vector's transaction absorbs its retransmissions."""

Expectation = int | None | str
ANY_FINAL = "any final"


def allowed_methods(options_reply: str) -> frozenset[str]:
    """The methods in the Allow header of the device's 200 to OPTIONS."""
    match = re.search(r"^Allow:[ \t]*(.*?)\r?$", options_reply, flags=re.MULTILINE | re.IGNORECASE)
    assert match, f"the device's 200 to OPTIONS has no Allow:\n{options_reply}"
    return frozenset(method.strip() for method in match.group(1).split(",") if method.strip())


def retransmissions(vectors: list[str]) -> dict[str, str]:
    """Vectors that are, by §17.2.3 (branch, sent-by, method), retransmissions of an earlier one.

    Several vectors share a Via: cparam01 and cparam02 both say ``saturn.example.com:5060;branch=
    z9hG4bKkdjuw`` on a REGISTER, escnull and regescrt ``host5.example.com;branch=z9hG4bKkdjuw``.
    Sent within the server transaction's lifetime (64*T1), the later one is absorbed and the final
    response is sent again to where the first one came from (§17.2.2, §18.2.2), not to its sender.
    """
    first: dict[TxKey, str] = {}
    repeats = {}
    for name in vectors:
        try:
            message = parse((VECTOR_DIR / f"{name}.dat").read_bytes())
        except SipParseError:
            continue
        key = server_key(message) if isinstance(message, SipRequest) and message.vias() else None
        if key is not None and key in first:
            repeats[name] = first[key]
        elif key is not None:
            first[key] = name
    return repeats


def expected_answer(name: str, allowed: frozenset[str], repeats: dict[str, str]) -> Expectation:
    """The status the device must answer vector ``name`` with (None: no answer at all)."""
    _, expected = CASES[name]
    if name in repeats:
        return None
    if isinstance(expected, Unparsable):
        return expected.status
    if isinstance(expected, Discard):
        return None
    message = parse((VECTOR_DIR / f"{name}.dat").read_bytes())
    if not isinstance(message, SipRequest):
        return None  # a response matching none of our transactions: absorbed (§18.1.2)
    device = check_request(message, UasPolicy(allowed=allowed))
    if isinstance(expected, Reject):
        # §8.2.1 inspects the method before the URI scheme, extensions and body (§8.2.2-8.2.3).
        return 405 if device is not None and device.status == 405 else expected.status
    assert isinstance(expected, Accept)
    if message.method == "ACK":
        return None
    if message.method == "OPTIONS":
        return 200
    if message.method not in allowed:
        return 405
    return ANY_FINAL


def describe(exchanges: list[Exchange], expectations: dict[str, Expectation], repeats: dict[str, str]) -> str:
    rows = []
    for exchange in exchanges:
        section = CASES[exchange.name][0]
        got = ",".join(str(s) for s in exchange.statuses) or "-"
        expected = str(expectations[exchange.name])
        if exchange.name in repeats:
            expected = f"none (a retransmission of {repeats[exchange.name]})"
        state = "alive" if exchange.alive else "NO OPTIONS ANSWER"
        rows.append(
            f"{section:9} {exchange.name:11} {exchange.sent:5} B  expected {expected:9}  got {got:15} {state}"
        )
    return "\n".join(rows)


def test_rfc4475_vectors_over_udp_in_a_loopback_namespace(
    tmp_path: Path, loopback_namespace: LoopbackNamespace
) -> None:
    began = time.monotonic()
    vectors = names()
    assert sorted(CASES) == vectors
    # T1 stays at its default 0.5 s: server transactions then live 32 s, longer than the replay, so
    # which vectors count as retransmissions (see ``retransmissions``) does not depend on timing.
    device = DeviceProcess(tmp_path / "device", prefix=loopback_namespace.argv([]), limit=BUDGET, t1=None)
    # Some INVITE vectors are answered and never ACKed, so their calls are still up when the next
    # INVITE comes: with call waiting on, that one would ring unanswered (a waiting call is never
    # auto-answered). Off, it gets the busy code: every vector still gets a final answer.
    device.configure({"P1 CallWaiting": 0})
    with device:
        reply = device.options(timeout=2.0)
        assert reply is not None
        allowed = allowed_methods(reply)
        remaining = max(BUDGET - (time.monotonic() - began) - 5, 5)
        files = [str(VECTOR_DIR / f"{name}.dat") for name in vectors]
        sender = loopback_namespace.run(
            [
                PYTHON,
                "-I",
                str(SCRIPT),
                "replay",
                str(device.port),
                *files,
                "--wait",
                "0.5",
                "--linger",
                "0.1",
            ],
            timeout=remaining,
        )
        assert sender.returncode == 0, sender.stderr
        replay_time = time.monotonic() - began
        alive_at_end = device.alive
        returncode = device.stop()
    exchanges = [Exchange.from_json(line) for line in sender.stdout.splitlines()]
    repeats = retransmissions(vectors)
    assert replay_time < TRANSACTION_LIFETIME, "the replay outlasted the transactions it relies on"
    expectations = {name: expected_answer(name, allowed, repeats) for name in vectors}
    table = describe(exchanges, expectations, repeats)
    print(f"device allows {sorted(allowed)}; retransmissions: {repeats}\n{table}")
    failure = f"\n{table}\n--- portier log ---\n{device.tail(40)}"

    assert [e.name for e in exchanges] == vectors, failure
    assert alive_at_end and returncode == 0, (
        f"portier did not survive or stop cleanly ({returncode}){failure}"
    )
    assert device.tracebacks() == [], "\n\n".join(device.tracebacks())
    dead = [e.name for e in exchanges if not e.alive]
    assert not dead, f"no 200 to OPTIONS after {dead}{failure}"
    wrong = []
    for exchange in exchanges:
        expected = expectations[exchange.name]
        finals = exchange.finals
        if expected == ANY_FINAL:
            ok = len(finals) == 1
        elif expected is None:
            ok = exchange.statuses == []
        else:
            ok = finals == [expected]
        if not ok:
            wrong.append(exchange.name)
    assert not wrong, f"answers differ from RFC 4475 for {wrong}{failure}"
    by_name = {exchange.name: exchange for exchange in exchanges}
    for repeat, first in repeats.items():
        again = [status_of(reply) for reply in by_name[first].late]
        assert by_name[first].finals and by_name[first].finals[0] in again, (
            f"{repeat} was absorbed but {first}'s final response was not sent again to {first}'s sender "
            f"(it got {again} after its window){failure}"
        )
    assert time.monotonic() - began < BUDGET + 5


def _to_tag(response: str) -> str | None:
    match = re.search(r"^(?:To|t):.*;\s*tag=([^;\s>]+)", response, flags=re.MULTILINE | re.IGNORECASE)
    return match.group(1) if match else None


@pytest.mark.parametrize("via_transport", ["UDP", "TCP"])
def test_a_retransmission_over_udp_is_absorbed_whatever_transport_its_via_names(
    tmp_path: Path, via_transport: str
) -> None:
    """novelsc and unkscm share ``Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234`` and
    arrive over UDP. The server transaction runs over the transport the request came in on: over
    UDP it lives 64*T1 after its final response (§17.2.2, Timer J) and absorbs a retransmission,
    answering it with the same response again (same To tag), whatever transport Via names."""
    with (
        DeviceProcess(tmp_path / "device") as device,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
    ):
        sock.bind((LOOPBACK, 0))
        sock.settimeout(2.0)
        request, branch = options_request(device.port, sock.getsockname())
        request = request.replace(b"Via: SIP/2.0/UDP ", f"Via: SIP/2.0/{via_transport} ".encode())
        answers = []
        for _ in range(2):  # the request, then its retransmission (same bytes, same source)
            sock.sendto(request, (LOOPBACK, device.port))
            answers.append(sock.recv(65535).decode("utf-8", "replace"))
    assert [status_of(answer) for answer in answers] == [200, 200], answers
    assert branch in answers[1]
    tags = [_to_tag(answer) for answer in answers]
    assert tags[0] is not None
    assert tags[0] == tags[1], (
        f"the retransmission of an OPTIONS over UDP with Via SIP/2.0/{via_transport} was answered by a new "
        f"transaction (To tags {tags}): the server transaction took its reliability from Via, not from UDP"
    )


@pytest.mark.parametrize("via_transport", ["UDP", "TCP"])
def test_a_final_response_over_udp_is_retransmitted_whatever_transport_its_via_names(
    tmp_path: Path, via_transport: str
) -> None:
    """longreq's INVITE names SIP/2.0/TCP in Via and arrives over UDP. The device rejects it (405
    while it takes no calls, 420 for the Require once it does) and, the transport being UDP,
    Timer G must retransmit that final response until an ACK comes (§17.2.1)."""
    with (
        DeviceProcess(tmp_path / "device") as device,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
    ):
        sock.bind((LOOPBACK, 0))
        options, _ = options_request(device.port, sock.getsockname())
        invite = (
            options.replace(b"OPTIONS sip:", b"INVITE sip:door@", 1)
            .replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
            .replace(b"Via: SIP/2.0/UDP ", f"Via: SIP/2.0/{via_transport} ".encode())
            .replace(b"Content-Length: 0", b"Require: portier-no-such-extension\r\nContent-Length: 0")
        )
        sock.sendto(invite, (LOOPBACK, device.port))
        statuses = []
        deadline = time.monotonic() + 1.5  # T1 is 0.1 s: Timer G fires at 0.1, 0.3, 0.7, 1.5 s
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            try:
                statuses.append(status_of(sock.recv(65535).decode("utf-8", "replace")))
            except TimeoutError:
                break
    finals = [status for status in statuses if status is not None and status >= 300]
    assert finals and set(finals) <= {405, 420}, statuses
    assert len(finals) >= 2, (
        f"the {finals[0]} to an INVITE over UDP with Via SIP/2.0/{via_transport} was sent once and never "
        "retransmitted (no Timer G): the server transaction took its reliability from Via, not from UDP"
    )
