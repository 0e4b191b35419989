"""Parse + serialize of a typical 1 KB INVITE on one core: portier beside other Python SIP parsers.

Goal (SIP issue): >= 20,000 messages/s. Each codec runs ``bytes(parse(data))`` (or the library's
equivalent) in its own child process pinned to the same CPU, several rounds; best and median count.

The references are the two real SIP parsers on PyPI: ``sipmessage`` (Spacinov) and ``sippy`` (the
Sippy B2BUA stack). Both keep header values as text and type them on first access, whereas portier
checks Via, From, To, Contact, CSeq, Max-Forwards and Call-ID while parsing; so each is timed twice:
as shipped ("lazy") and reading those same headers through its typed accessors ("typed"), which is
the like-for-like figure. They live in a throwaway venv, never in portier's dependencies:

    .venv/bin/python bench/sip_parse.py --install-peers   # once: venv in /tmp with the references
    .venv/bin/python bench/sip_parse.py [--iterations 20000] [--rounds 7] [--quick] [--no-peers]
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _peers import default_core, machine, pin_to_one_core

GOAL = 20_000
PEER_VENV = Path("/tmp/portier-bench-sip-parsers")
PEER_PACKAGES = ("sipmessage==0.7.1", "sippy==2.5.0")
PEER_CODECS = ("sipmessage", "sipmessage+typed", "sippy", "sippy+typed")

Codec = Callable[[bytes], bytes]

# Documentation addresses (RFC 5737): the message is only parsed, nothing is sent anywhere.
SDP = (
    b"v=0\r\n"
    b"o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    b"s=Call\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 49170 RTP/AVP 0 8 9 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:9 G722/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=ptime:20\r\n"
    b"a=maxptime:150\r\n"
    b"a=sendrecv\r\n"
)

HEAD = (
    "INVITE sip:door@192.0.2.20:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---5f2c9a7e41d3b0c8;rport\r\n"
    "Max-Forwards: 70\r\n"
    'From: "Flat 3 - Alice Example" <sip:alice@192.0.2.10:5060>;tag=8a9b7c6d5e4f\r\n'
    'To: "Front Door" <sip:door@192.0.2.20:5060>\r\n'
    "Call-ID: 6f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f@192.0.2.10\r\n"
    "CSeq: 20 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.10:5060;transport=udp>"
    ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-00a0c9f2a1b3>"\r\n'
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE\r\n"
    "Supported: replaces, norefersub, timer, 100rel\r\n"
    "User-Agent: Indoor Monitor 2.1.4 (Linux armv7l)\r\n"
    "Allow-Events: talk, hold, refer\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "Content-Type: application/sdp\r\n"
    f"Content-Length: {len(SDP)}\r\n"
    "\r\n"
)
INVITE = HEAD.encode() + SDP
assert 900 <= len(INVITE) <= 1100, f"the INVITE must be about 1 KB, it is {len(INVITE)} bytes"
assert 250 <= len(SDP) <= 350, f"the SDP body must be about 300 bytes, it is {len(SDP)} bytes"


def _portier() -> tuple[str, Codec]:
    from portier import __version__
    from portier.sip.message import parse

    def codec(data: bytes) -> bytes:
        return bytes(parse(data))

    return f"portier {__version__}", codec


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return f"{distribution} {version(distribution)}"


def _sipmessage(typed: bool) -> tuple[str, Codec]:
    message = importlib.import_module("sipmessage").Message

    def codec(data: bytes) -> bytes:
        msg = message.parse(data)
        if typed:
            for attr in ("via", "from_address", "to_address", "contact", "cseq", "max_forwards", "call_id"):
                getattr(msg, attr)
        return bytes(msg)

    return _version("sipmessage"), codec


def _sippy(typed: bool) -> tuple[str, Codec]:
    request = importlib.import_module("sippy.SipRequest").SipRequest
    names = ("via", "from", "to", "contact", "cseq", "max-forwards", "call-id")

    def codec(data: bytes) -> bytes:
        msg = request(buf=data.decode())
        msg.init_body()
        if typed:
            for name in names:
                msg.getHFBody(name)
        return str(msg).encode()

    return _version("sippy"), codec


CODECS: dict[str, Callable[[], tuple[str, Codec]]] = {
    "portier": _portier,
    "sipmessage": lambda: _sipmessage(False),
    "sipmessage+typed": lambda: _sipmessage(True),
    "sippy": lambda: _sippy(False),
    "sippy+typed": lambda: _sippy(True),
}


def check(codec: Codec, data: bytes) -> None:
    """The codec must give back the same message, not just something: same body, same key headers."""
    out = codec(data)
    for needle in (SDP, b"z9hG4bK-524287-1---5f2c9a7e41d3b0c8", b"8a9b7c6d5e4f", b"6f1c2d3e4a5b6c7d8e9f"):
        if needle not in out:
            raise AssertionError(f"serialized message lost {needle[:40]!r}:\n{out.decode(errors='replace')}")


def variants(data: bytes, count: int) -> list[bytes]:
    """``count`` copies of the INVITE with their own branch, From tag and Call-ID (same length), as real
    traffic has: a parser that memoises header values must not be timed on one message seen again."""
    out = []
    for i in range(count):
        unique = f"{i:08x}".encode()
        message = data
        for marker in (b"5f2c9a7e", b"8a9b7c6d", b"6f1c2d3e"):  # branch, From tag, Call-ID
            message = message.replace(marker, unique, 1)
        out.append(message)
    return out


def rates(codec: Codec, data: bytes, iterations: int, rounds: int) -> list[float]:
    """Messages per second of each round (perf_counter around ``iterations`` calls, each on a distinct
    message; every round gets fresh ones)."""
    per_round = []
    for round_number in range(rounds):
        messages = variants(data, iterations)
        if round_number % 2:
            messages.reverse()
        start = time.perf_counter()
        for message in messages:
            codec(message)
        per_round.append(iterations / (time.perf_counter() - start))
    return per_round


def worker(name: str, iterations: int, rounds: int, core: int | None) -> dict[str, object]:
    """Runs inside the child process: pin, build the codec, check it, warm up, time it."""
    pinned = pin_to_one_core(core)
    label, codec = CODECS[name]()
    check(codec, INVITE)
    rates(codec, INVITE, max(1, iterations // 10), 1)
    per_round = rates(codec, INVITE, iterations, rounds)
    return {"codec": name, "label": label, "core": pinned, "python": platform.python_version(),
            "best": max(per_round), "median": statistics.median(per_round)}


@dataclass(frozen=True)
class Result:
    codec: str
    label: str
    best: float
    median: float
    core: int | None
    python: str


def measure(python: Path | str, name: str, iterations: int, rounds: int, core: int | None) -> Result | str:
    """One codec timed in a fresh child process; the reason as text when it cannot run."""
    command = [str(python), str(Path(__file__).resolve()), "--worker", name,
               "--iterations", str(iterations), "--rounds", str(rounds)]
    if core is not None:
        command += ["--core", str(core)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        return "did not finish in 600 s"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        return lines[-1]
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(data["codec"], data["label"], data["best"], data["median"], data["core"], data["python"])


def install_peers(venv: Path) -> None:
    """Create the throwaway venv holding the reference parsers (never portier's own environment)."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *PEER_PACKAGES]
    subprocess.run(pip, check=True, timeout=600)


def report(
    results: list[Result], missing: list[tuple[str, str]], iterations: int, rounds: int, host: str
) -> list[str]:
    core = results[0].core if results else None
    lines = [
        f"SIP parse + serialize of one INVITE: {len(INVITE)} bytes ({len(SDP)} bytes SDP: PCMU PCMA G722 "
        "telephone-event)",
        f"one core ({'CPU ' + str(core) if core is not None else 'not pinned'}), "
        f"Python {results[0].python if results else platform.python_version()}, "
        f"{iterations} messages x {rounds} rounds, each codec in its own process",
        f"machine: {host}",
        "",
        f"{'codec':<34}{'best msg/s':>12}{'median msg/s':>14}{'portier / this':>16}",
    ]
    ours = next((r for r in results if r.codec == "portier"), None)
    for r in results:
        name = r.label if r.codec == "portier" else f"{r.label} ({'typed' if 'typed' in r.codec else 'lazy'})"
        ratio = f"{ours.best / r.best:.2f}" if ours else "-"
        lines.append(f"{name:<34}{r.best:>12,.0f}{r.median:>14,.0f}{ratio:>16}")
    lines += [f"{name:<34}not measured: {why}" for name, why in missing]
    lines.append("")
    if ours:
        verdict = "met" if ours.best >= GOAL else "NOT met"
        best, share = f"{ours.best:,.0f}", f"{ours.best / GOAL:.2f}"
        lines.append(f"goal: >= {GOAL:,} msg/s; portier best {best} = {share} x goal: {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--iterations", type=int, default=20_000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="200 messages x 2 rounds: proves it runs")
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV,
                        help=f"venv holding the reference parsers (default {PEER_VENV})")
    parser.add_argument("--install-peers", action="store_true",
                        help=f"create --peer-venv and pip install {' '.join(PEER_PACKAGES)} into it first")
    parser.add_argument("--no-peers", action="store_true", help="time portier only")
    parser.add_argument("--worker", choices=sorted(CODECS), help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    iterations, rounds = (200, 2) if args.quick else (args.iterations, args.rounds)

    if args.worker:
        print(json.dumps(worker(args.worker, iterations, rounds, args.core)))
        return 0

    core = default_core()  # every child pins itself to this same CPU
    host = machine()
    results: list[Result] = []
    missing: list[tuple[str, str]] = []
    ours = measure(sys.executable, "portier", iterations, rounds, core)
    if isinstance(ours, str):
        print(f"portier: could not be measured: {ours}", file=sys.stderr)
        return 1
    results.append(ours)
    if not args.no_peers:
        if args.install_peers:
            install_peers(args.peer_venv)
        python = args.peer_venv / "bin" / "python"
        if not python.exists():
            why = f"no venv at {args.peer_venv} (run once with --install-peers)"
            missing += [(name, why) for name in PEER_CODECS]
        for name in PEER_CODECS if python.exists() else ():
            result = measure(python, name, iterations, rounds, core)
            if isinstance(result, str):
                missing.append((name, result))
            else:
                results.append(result)
    print("\n".join(report(results, missing, iterations, rounds, host)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
