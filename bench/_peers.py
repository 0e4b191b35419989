"""What the benchmarks share: real peers, loopback ports, bounded child processes, one core, calls.

Kept apart from ``tests/interop/peers.py`` because bench scripts run as plain files (``bench/`` is
their import root) and must not depend on the test tree; the messages are the same on purpose.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
PACKAGES = {"sipp": "sip-tester", "baresip": "baresip"}
SIPP_KEYS = {"dtmf_pt": "101", "dtmf_rate": "8000"}
"""``-key`` defaults for the scenarios: telephone-event at payload type 101, 8 kHz clock."""


class PeerMissing(RuntimeError):
    """A real peer the benchmark compares against is not installed; the text says how to get it."""


def require(binary: str) -> str:
    """The path of ``binary``; raises PeerMissing naming the Debian package when it is absent."""
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/sbin")
    if path is None:
        package = PACKAGES.get(binary, binary)
        raise PeerMissing(
            f"{binary} is not installed: run scripts/test as root or `apt-get install {package}`"
        )
    return path


def _free(port: int, kinds: Iterable[int]) -> bool:
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                return False
    return True


def free_port(span: int = 1) -> int:
    """A port P on 127.0.0.1 with P .. P+span-1 free for both UDP and TCP right now.

    ``span=2`` suits portier, whose SIP service also opens TLS on the SIP port + 1.
    """
    kinds = (socket.SOCK_DGRAM, socket.SOCK_STREAM)
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            port: int = sock.getsockname()[1]
        if port + span <= 65536 and all(_free(p, kinds) for p in range(port, port + span)):
            return port
    raise RuntimeError(f"found no {span} consecutive free ports on {LOOPBACK} in 100 tries")


def stop(proc: subprocess.Popen[bytes], grace: float = 3.0) -> int:
    """Stop one child by its PID: SIGTERM, wait ``grace`` seconds, then SIGKILL. Returns its exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(grace)


def default_core() -> int | None:
    """The highest-numbered CPU this process may use (None where affinity is unsupported)."""
    return max(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def machine() -> str:
    """CPUs and the 1-minute load average: other work on the machine lowers every figure."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpus} CPUs, load average {load:.2f} when the run started"


def pin_to_one_core(core: int | None = None) -> int | None:
    """Pin this process to one CPU (default: :func:`default_core`); None where unsupported."""
    chosen = default_core() if core is None else core
    if chosen is None:
        return None
    os.sched_setaffinity(0, {chosen})
    return chosen


def options_request(port: int, local_port: int) -> bytes:
    branch = "z9hG4bK-probe-" + secrets.token_hex(6)
    return (
        f"OPTIONS sip:bench@{LOOPBACK}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {LOOPBACK}:{local_port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{LOOPBACK}:{local_port}>;tag={secrets.token_hex(4)}\r\n"
        f"To: <sip:bench@{LOOPBACK}:{port}>\r\n"
        f"Call-ID: {secrets.token_hex(8)}@{LOOPBACK}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def options_answer(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> str | None:
    """None once ``127.0.0.1:port`` answers an OPTIONS over UDP with 200; otherwise why it did not.

    Sends a fresh OPTIONS every 0.25 s until ``timeout`` seconds pass or ``proc`` exits.
    """
    deadline = time.monotonic() + timeout
    last = f"no reply in {timeout:g} s"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        sock.settimeout(0.25)
        local_port = sock.getsockname()[1]
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                return f"process exited with code {proc.returncode}"
            sock.sendto(options_request(port, local_port), (LOOPBACK, port))
            try:
                reply = sock.recv(65535)
            except TimeoutError:
                continue
            except ConnectionRefusedError:
                last = "port closed (ICMP port unreachable)"
                time.sleep(0.25)
                continue
            status = reply.split(b"\r\n", 1)[0].decode("utf-8", "replace")
            if status.startswith("SIP/2.0 200"):
                return None
            if not status.startswith("SIP/2.0 1"):
                last = f"answered {status!r}"
    return last


# --- calls: the UAs taking calls, what they cost, and the bench's end of the media -------------------

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
SIPP_PCAPS = Path("/usr/share/sip-tester")
BARESIP_MODULES = Path("/usr/lib/baresip/modules")
BARESIP_CODEC_MODULES = {"PCMU": "g711", "PCMA": "g711", "G722": "g722", "opus": "opus"}
BARESIP_RTP_PORTS = (20000, 29999)
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None)
"""Kernel receive timestamps (Linux: 35); Python 3.11 does not name the option."""


def pinned(command: list[str], core: int | None) -> list[str]:
    """``command`` run by util-linux ``taskset`` on one CPU (every thread and child inherits it)."""
    return command if core is None else [require("taskset"), "-c", str(core), *command]


def launch_portier_phone(
    workdir: Path,
    port: int,
    lifetime: float,
    *,
    core: int | None = None,
    audio_in: str = "tone:440",
    settings: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``python -m portier run`` taking calls on 127.0.0.1:``port`` (TLS takes port + 1): it answers
    direct IP calls at once (P2P auto-answer, delay 0 by default), sends ``audio_in`` and throws away
    what it receives (``--audio-out null``). ``settings`` (Fanvil key -> value) are set first with
    ``portier config set``. Bounded by coreutils timeout, optionally on one CPU; the Python process
    is the timeout process's child (:func:`ua_pid`)."""
    data = workdir / "portier-data"
    for key, value in (settings or {}).items():
        subprocess.run([sys.executable, "-m", "portier", "config", "set", "--data", str(data), key, value],
                       check=True, capture_output=True, timeout=60)  # fmt: skip
    http = free_port()
    while http in (port, port + 1):
        http = free_port()
    command = [require("timeout"), "--kill-after=3", f"{lifetime:.0f}",
               sys.executable, "-m", "portier", "run", "--data", str(data),
               "--sip-port", str(port), "--sip-host", LOOPBACK,
               "--http", f"{LOOPBACK}:{http}", "--audio-in", audio_in, "--audio-out", "null"]  # fmt: skip
    with (workdir / "portier.log").open("wb") as log:
        return subprocess.Popen(
            pinned(command, core), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )


def tone_wav(path: Path, seconds: float, rate: int = 8000, channels: int = 1, hz: float = 1000.0) -> Path:
    """A 16-bit PCM sine for baresip's aufile source (it plays its file once: make it outlast the call)."""
    frames = round(seconds * rate)
    wave_ = [round(12000 * math.sin(2 * math.pi * hz * n / rate)) for n in range(rate)]  # one second
    one_second = b"".join(struct.pack("<h", v) * channels for v in wave_)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        whole, rest = divmod(frames, rate)
        for _ in range(whole):
            out.writeframes(one_second)
        out.writeframes(one_second[: rest * 2 * channels])
    return path


def launch_baresip(
    workdir: Path,
    port: int,
    lifetime: float,
    *,
    wav: Path | None = None,
    codecs: Sequence[str] = ("PCMU",),
    core: int | None = None,
) -> subprocess.Popen[bytes]:
    """baresip in the foreground with a throwaway config: one account that never registers, no UI.

    With ``wav`` it also takes calls: the account auto-answers (``answermode=auto``), sends ``wav``
    through the ``aufile`` source and decodes what it receives into ``aubridge``, a player that never
    plays (no sound card here). ``codecs`` are the SDP names it may use.
    """
    home = workdir / "baresip"
    home.mkdir()
    modules = dict.fromkeys(BARESIP_CODEC_MODULES[codec] for codec in codecs)
    lines = [
        "poll_method\tepoll",
        f"sip_listen\t{LOOPBACK}:{port}",
        f"net_interface\t{LOOPBACK}",
        f"module_path\t{BARESIP_MODULES}",
        *(f"module\t{name}.so" for name in modules),
        "module_app\taccount.so",
    ]
    account = f"<sip:bench@{LOOPBACK}>;regint=0"
    if wav is not None:
        with wave.open(str(wav), "rb") as source:
            rate, channels = source.getframerate(), source.getnchannels()
        low, high = BARESIP_RTP_PORTS
        lines += [
            f"dns_server\t{LOOPBACK}:53",
            f"audio_source\taufile,{wav}",
            f"ausrc_srate\t{rate}",
            f"ausrc_channels\t{channels}",
            "audio_player\taubridge,bench-play",
            "audio_alert\taubridge,bench-alert",
            "audio_level\tno",
            f"rtp_ports\t{low}-{high}",
            "rtcp_mux\tno",
            "rtp_stats\tno",
            "module\taufile.so",
            "module\taubridge.so",
        ]
        account += f";answermode=auto;audio_codecs={','.join(codecs)}"
    (home / "config").write_text("\n".join(lines) + "\n")
    (home / "accounts").write_text(account + "\n")
    command = [require("baresip"), "-4", "-f", str(home), "-t", f"{lifetime:.0f}"]
    with (workdir / "baresip.log").open("wb") as log:
        return subprocess.Popen(
            pinned(command, core), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
        )


def ua_pid(proc: subprocess.Popen[bytes]) -> int:
    """The PID of the UA itself: ``proc`` (baresip; taskset execs) or its only child (coreutils timeout)."""
    args = proc.args if isinstance(proc.args, list) else [proc.args]
    if not any(Path(str(arg)).name == "timeout" for arg in args):
        return proc.pid
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == proc.pid:
            return int(entry.name)
    raise RuntimeError(f"process {proc.pid} ({proc.args!r}) has no child: the UA did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` (all its threads) so far, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` in KiB (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no VmRSS line")


def ua_version(name: str, log: Path, wait: float = 5.0) -> str:
    """``portier 0.1.0`` / ``baresip 1.0.0`` as the UA's log says at start. The UA may answer
    OPTIONS before it writes that line (portier logs it once every service is up), so this
    waits up to ``wait`` seconds for it."""
    pattern = r"baresip v(\S+)" if name == "baresip" else r"portier (\S+) started"
    deadline = time.monotonic() + wait
    while True:
        text = log.read_bytes().decode(errors="replace") if log.exists() else ""
        found = re.search(pattern, text)
        if found:
            return f"{name} {found.group(1)}"
        if time.monotonic() >= deadline:
            return name
        time.sleep(0.05)


def log_tail(log: Path, lines: int = 8) -> str:
    text = log.read_bytes().decode(errors="replace") if log.exists() else ""
    return "\n".join(f"    {line}" for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()[-lines:])


def sipp_version(sipp: str) -> str:
    banner = subprocess.run([sipp, "-v"], capture_output=True, text=True, timeout=30, check=False).stdout
    found = re.search(r"SIPp v([\d.]+)", banner)
    return f"SIPp {found.group(1)}" if found else "SIPp"


def busy_loop(core: int, lifetime: float) -> subprocess.Popen[bytes]:
    """A Python busy loop pinned to ``core`` (keeps that CPU 100 % busy), bounded by coreutils timeout."""
    command = [require("timeout"), f"{lifetime:.0f}", sys.executable, "-c", "while True: pass"]
    return subprocess.Popen(pinned(command, core), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def start_sipp(
    sipp: str,
    scenario: str,
    port: int,
    workdir: Path,
    *,
    calls: int = 1,
    pause_ms: int = 0,
    keys: Mapping[str, str] | None = None,
    lifetime: float = 60.0,
    media_port: int | None = None,
    trace_msg: bool = False,
) -> subprocess.Popen[bytes]:
    """SIPp placing ``calls`` calls one after another (``-l 1``) to 127.0.0.1:``port`` with
    ``scenario`` (a file under bench/scenarios), ``-d pause_ms`` for its pause, ``-key`` values,
    statistics in ``workdir/stat.csv`` and response times in ``*_rtt.csv``. SIPp's media socket
    (``-mp``, where a UA's RTP lands when the SDP offers ``[media_port]``) is a free port too.
    Exits on its own after ``lifetime`` seconds (``-timeout``); its output goes to ``workdir/sipp.log``.
    """
    media = media_port or free_port(span=4)
    command = [
        sipp, "-sf", str(SCENARIOS / scenario), "-s", "bench", "-t", "u1",
        "-i", LOOPBACK, "-p", str(free_port()), "-mi", LOOPBACK, "-mp", str(media), f"{LOOPBACK}:{port}",
        "-m", str(calls), "-l", "1", "-r", "100", "-d", str(pause_ms), "-recv_timeout", "10000",
        "-timeout", f"{lifetime:.0f}s", "-timeout_error", "-nostdin",
        "-trace_stat", "-fd", "1", "-stf", str(workdir / "stat.csv"), "-trace_err",
        "-trace_rtt", "-rtt_freq", "1",
    ]  # fmt: skip
    if trace_msg:
        command.append("-trace_msg")
    for key, value in {**SIPP_KEYS, **(keys or {})}.items():
        command += ["-key", key, value]
    with (workdir / "sipp.log").open("wb") as log:
        return subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def pcap_dir(workdir: Path) -> Path:
    """``workdir/pcap`` with SIPp's sample captures (its scenarios name them relative to the cwd)."""
    target = workdir / "pcap"
    target.mkdir(exist_ok=True)
    for capture in SIPP_PCAPS.glob("*.pcap"):
        shutil.copy(capture, target / capture.name)
    if not (target / "g711a.pcap").exists():
        raise PeerMissing(f"{SIPP_PCAPS}/g711a.pcap is missing: `apt-get install --reinstall sip-tester`")
    return target


class RtpPeer:
    """The bench's end of a call's media, on 127.0.0.1: a thread records when each RTP packet from the
    UA arrived, and, given ``payloads``, another sends them back every ``interval`` seconds from the
    same socket to wherever the UA's packets come from (symmetric RTP), so media flows both ways.

    Arrival times are the kernel's receive timestamps (``SO_TIMESTAMPNS``). On loopback the kernel
    takes them while the UA's ``sendto`` runs, so they time the UA's sending, not when this thread
    got around to reading. Where the option does not exist, ``time.time_ns()`` on arrival is used.
    Port + 1 is bound too and drained, so the UA's RTCP finds an open port.
    """

    def __init__(
        self,
        payloads: Sequence[bytes] = (),
        *,
        payload_type: int = 0,
        ticks: int = 160,
        interval: float = 0.020,
    ) -> None:
        self.payloads = list(payloads)
        self.payload_type = payload_type
        self.ticks = ticks
        self.interval = interval
        self.arrivals: list[tuple[int, int, int]] = []
        """(arrival ns, RTP sequence number, payload type) of every RTP packet from the UA."""
        self.sent = 0
        self.kernel_clock = False
        self._sockets: list[socket.socket] = []
        self.port = self._bind_pair()
        self._source: tuple[str, int] | None = None
        self._first = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def _bind_pair(self) -> int:
        for _ in range(100):
            port = free_port(span=2)
            if port % 2:
                continue
            rtp, rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(
                socket.AF_INET, socket.SOCK_DGRAM
            )
            try:
                rtp.bind((LOOPBACK, port))
                rtcp.bind((LOOPBACK, port + 1))
            except OSError:
                rtp.close()
                rtcp.close()
                continue
            for sock in (rtp, rtcp):
                sock.settimeout(0.2)
            if SO_TIMESTAMPNS is not None:
                try:
                    rtp.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                    self.kernel_clock = True
                except OSError:
                    self.kernel_clock = False
            self._sockets = [rtp, rtcp]
            return port
        raise RuntimeError(f"found no free even port pair on {LOOPBACK} in 100 tries")

    def start(self) -> RtpPeer:
        targets = [self._receive, self._drain] + ([self._send] if self.payloads else [])
        for target in targets:
            thread = threading.Thread(target=target, name=f"rtp-peer-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wait_first(self, timeout: float) -> bool:
        """True once the UA's first RTP packet has arrived."""
        return self._first.wait(timeout)

    def close(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for sock in self._sockets:
            sock.close()

    def _receive(self) -> None:
        sock = self._sockets[0]
        space = socket.CMSG_SPACE(16)
        while not self._stopping.is_set():
            try:
                data, ancillary, _, source = sock.recvmsg(2048, space)
            except TimeoutError:
                continue
            except OSError:
                return
            stamp = time.time_ns()
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                    seconds, nanoseconds = struct.unpack("qq", value[:16])
                    stamp = seconds * 1_000_000_000 + nanoseconds
            if len(data) < 12 or data[0] >> 6 != 2 or 72 <= data[1] & 0x7F <= 76:
                continue  # not RTP (or RTCP sent to the RTP port)
            self.arrivals.append((stamp, struct.unpack("!H", data[2:4])[0], data[1] & 0x7F))
            if self._source is None:
                self._source = source
                self._first.set()

    def _drain(self) -> None:
        while not self._stopping.is_set():
            try:
                self._sockets[1].recv(2048)
            except TimeoutError:
                continue
            except OSError:
                return

    def _send(self) -> None:
        if not self._first.wait(60) or self._source is None:
            return
        sock, ssrc = self._sockets[0], secrets.randbits(32)
        sequence, timestamp = secrets.randbits(16), secrets.randbits(32)
        start = time.monotonic()
        while not self._stopping.is_set():
            header = struct.pack("!BBHII", 0x80, self.payload_type | (0x80 if self.sent == 0 else 0),
                                 sequence, timestamp, ssrc)  # fmt: skip
            with contextlib.suppress(OSError):
                sock.sendto(header + self.payloads[self.sent % len(self.payloads)], self._source)
            self.sent += 1
            sequence, timestamp = (sequence + 1) % 65536, (timestamp + self.ticks) % 2**32
            delay = start + self.sent * self.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)


class UaTrouble(RuntimeError):
    """A UA under test did not start or stopped answering; the text says what and ends with its log."""


@dataclass
class Ua:
    """One UA under test taking calls on 127.0.0.1:port."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    pid: int
    version: str
    log: Path


UA_NAMES = ("portier", "baresip")


def add_targets(parser: argparse.ArgumentParser) -> None:
    """The ``--targets`` option every side-by-side benchmark takes."""
    parser.add_argument("--targets", type=lambda text: text.split(","), default=list(UA_NAMES),
                        help="comma-separated UAs: portier,baresip (default both)")


def check_targets(parser: argparse.ArgumentParser, targets: list[str]) -> None:
    unknown = [t for t in targets if t not in UA_NAMES]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(UA_NAMES)}")


def require_tools(script: str, targets: list[str], *extra: str) -> str | None:
    """sipp's path once every tool the run needs is here; else print the apt-get line and None."""
    try:
        sipp = require("sipp")
        for binary in ("timeout", *extra, *(["baresip"] if "baresip" in targets else [])):
            require(binary)
    except PeerMissing as exc:
        print(f"{script}: {exc}", file=sys.stderr)
        return None
    return sipp
READY_TIMEOUT = 20.0


@contextlib.contextmanager
def running_ua(
    name: str,
    workdir: Path,
    lifetime: float,
    *,
    core: int | None = None,
    wav: Path | None = None,
    codecs: Sequence[str] = ("PCMU", "PCMA", "opus"),
    settings: Mapping[str, str] | None = None,
) -> Iterator[Ua]:
    """portier or baresip taking calls (see :func:`launch_portier_phone`, :func:`launch_baresip`),
    ready once it answers OPTIONS; stopped by PID on the way out. ``wav`` and ``codecs`` are
    baresip's (portier sends a 440 Hz tone and offers its enabled codecs), ``settings`` portier's."""
    directory = workdir / name
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port(span=2)
    if name == "portier":
        proc = launch_portier_phone(directory, port, lifetime, core=core, settings=settings)
    elif name == "baresip":
        audio = wav or tone_wav(directory / "tone.wav", lifetime + 5)
        proc = launch_baresip(directory, port, lifetime, wav=audio, codecs=codecs, core=core)
    else:
        raise ValueError(f"unknown UA {name!r}; choose from {', '.join(UA_NAMES)}")
    log = directory / f"{name}.log"
    try:
        reason = options_answer(port, READY_TIMEOUT, proc)
        if reason is not None:
            raise UaTrouble(f"{name}: not answering OPTIONS on {LOOPBACK}:{port} ({reason})\n{log_tail(log)}")
        yield Ua(name, port, proc, ua_pid(proc), ua_version(name, log), log)
    finally:
        stop(proc)


def cpu_ticks(core: int) -> tuple[int, int, int]:
    """(busy, steal, total) clock ticks CPU ``core`` has spent since boot, from /proc/stat.

    Busy counts every process and interrupt on that CPU; steal is time the hypervisor ran something
    else while this VM wanted the CPU. Differences of two readings say how shared a CPU really was."""
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] == f"cpu{core}":
            values = [int(v) for v in fields[1:9]]
            user, nice, system, _idle, _iowait, irq, softirq, steal = values
            return user + nice + system + irq + softirq, steal, sum(values)
    raise RuntimeError(f"/proc/stat has no line for cpu{core}")
