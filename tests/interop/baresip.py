"""baresip 1.0.0 as a real peer: plays a WAV into calls, records what it hears, driven over ctrl_tcp.

Why baresip: it is the SIP phone other people test against, with its own G.711/G.722/G.726/opus and
SRTP. Each instance gets a throwaway config directory and runs in the foreground, bounded by ``-t``
and stopped by PID. What it needs to work headless and on loopback only (found by trying 1.0.0):

- ``net_interface 127.0.0.1`` (the name ``lo`` is not accepted) and ``sip_listen 127.0.0.1:PORT``:
  SDP and Contact then carry 127.0.0.1; no stun/turn/ice module is loaded; DNS points at loopback.
- Source ``aufile,FILE``: the WAV must be 16-bit PCM at ``ausrc_srate`` with ``ausrc_channels``;
  both are set from the file, baresip resamples to the codec. It plays the file once (then the far
  end gets silence, then no packets at all): make it longer than the call.
- Player ``aubridge,NAME``: a player that never pulls (no sound card here). ALSA's ``null`` device
  works too but spins a core. Received audio is decoded on arrival regardless.
- Recorder: the ``sndfile`` audio filter writes ``dump-<local time>-dec.wav`` (what it received,
  decoded, at the codec's rate: 8 kHz for G.711/G.726, 16 kHz G.722, 48 kHz stereo opus) and
  ``...-enc.wav`` (what it sent) into ``snd_path``, and finishes the WAV header when the call ends.
  Names have one-second resolution: two calls ending in the same second share a file.
- Control: ``ctrl_tcp`` speaks netstrings of JSON. Commands are the ``menu`` module's (``dial``,
  ``accept``, ``hangup``, ``quit``), so ``menu`` is loaded with ringback and status line off.
  Events arrive as ``{"event":true,"type":"CALL_ESTABLISHED",...}``; those before the control
  socket connects (an early REGISTER_OK) are lost, so ``registered()`` asks ``reginfo``.
- Incoming requests must name the account's user (``direct_uri``); any other gets 404.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import subprocess
import threading
import time
import wave
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from .peers import require

LOOPBACK = "127.0.0.1"
MODULES = Path("/usr/lib/baresip/modules")

Srtp = Literal["srtp", "srtp-mand", "srtp-mandf"]
AnswerMode = Literal["auto", "manual"]
RecordingKind = Literal["received", "sent"]

# codec name for the harness -> (baresip module, codec name in baresip's audio_codecs filter)
CODECS: dict[str, tuple[str, str]] = {
    "pcmu": ("g711", "PCMU"),
    "pcma": ("g711", "PCMA"),
    "g722": ("g722", "G722"),
    "g726": ("g726", "G726-32"),
    "g726-16": ("g726", "G726-16"),
    "g726-24": ("g726", "G726-24"),
    "g726-32": ("g726", "G726-32"),
    "g726-40": ("g726", "G726-40"),
    "gsm": ("gsm", "GSM"),
    "opus": ("opus", "opus"),
}

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BaresipError(AssertionError):
    """baresip did not do what the test needed; the message carries the tail of its log."""


def free_port() -> int:
    """A port free on 127.0.0.1 for both UDP and TCP (``sip_listen`` binds both)."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((LOOPBACK, port))
                except OSError:
                    continue
                return port
    raise BaresipError("found no port free for both UDP and TCP on 127.0.0.1 in 20 tries")


class Baresip:
    """One baresip on 127.0.0.1 (see the module docstring); a context manager that starts it.

    ``codecs`` are keys of ``CODECS`` in order of preference; ``srtp`` is the account's
    ``mediaenc``; ``registrar`` (``sip:HOST:PORT``) with ``password`` makes the account register,
    otherwise it does not (``regint=0``) and is reached directly at ``uri``. Without
    ``audio_source_wav`` it sends silence; without ``record_dir`` it records nothing."""

    def __init__(
        self,
        workdir: Path,
        *,
        sip_port: int | None = None,
        user: str = "bob",
        audio_source_wav: Path | None = None,
        record_dir: Path | None = None,
        codecs: Sequence[str] = ("pcmu",),
        srtp: Srtp | None = None,
        answer_mode: AnswerMode = "auto",
        registrar: str | None = None,
        password: str | None = None,
        lifetime: float = 60.0,
        rtp_ports: tuple[int, int] = (20000, 29999),
        sip_trace: bool = True,
    ) -> None:
        unknown = [codec for codec in codecs if codec.lower() not in CODECS]
        if unknown or not codecs:
            raise ValueError(f"codecs {unknown or list(codecs)} not among {', '.join(CODECS)}")
        if registrar is not None and not registrar.startswith("sip:"):
            raise ValueError(f"registrar {registrar!r} is not a sip: URI such as sip:127.0.0.1:5060")
        self.workdir = Path(workdir)
        self.user = user
        self.audio_source_wav = audio_source_wav
        self.record_dir = record_dir
        self.codecs = [codec.lower() for codec in codecs]
        self.srtp = srtp
        self.answer_mode = answer_mode
        self.registrar = registrar
        self.password = password
        self.lifetime = lifetime
        self.rtp_ports = rtp_ports
        self.sip_trace = sip_trace
        self._fixed_port = sip_port
        self.sip_port = sip_port or free_port()
        self.ctrl_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._responses: dict[str, dict[str, Any]] = {}
        self._delivered = 0  # events before this index were handed out by wait_event
        self._tokens = itertools.count(1)
        self._connected = False

    # -- addresses and files ---------------------------------------------------------------------

    @property
    def config_dir(self) -> Path:
        return self.workdir / "config"

    @property
    def log_path(self) -> Path:
        return self.workdir / "baresip.log"

    @property
    def uri(self) -> str:
        """The account's address: via the registrar if there is one, else ``direct_uri``."""
        if self.registrar is None:
            return self.direct_uri
        return f"sip:{self.user}@{self.registrar.removeprefix('sip:')}"

    @property
    def direct_uri(self) -> str:
        """Where this baresip listens. The user part must be ``user``: baresip answers any other
        with 404 ("UA not found")."""
        return f"sip:{self.user}@{LOOPBACK}:{self.sip_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        """The log so far, without colour codes."""
        try:
            return _ANSI.sub("", self.log_path.read_bytes().decode(errors="replace"))
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.splitlines()[-lines:])

    def audio_codecs(self) -> list[tuple[str, str]]:
        """(direction, codec) for every codec baresip set up so far, e.g. ("encoder", "G726-32"),
        from its log: the proof of what was negotiated, whatever was offered."""
        return re.findall(r"audio: Set audio (encoder|decoder): (\S+)", self.log)

    def srtp_enabled(self) -> bool:
        """Whether the srtp module switched a stream to SRTP (keys exchanged with a=crypto)."""
        return "SRTP is Enabled" in self.log

    def recordings(self, kind: RecordingKind = "received", *, settle: float = 3.0) -> list[Path]:
        """The WAV files of every call so far, oldest first: what it ``received`` (decoded) or
        ``sent``. Waits up to ``settle`` s for baresip to finish their headers (after a call ends)."""
        if self.record_dir is None:
            raise BaresipError("this baresip records nothing: give it a record_dir")
        suffix = "-dec.wav" if kind == "received" else "-enc.wav"
        files = sorted(self.record_dir.glob(f"dump-*{suffix}"))
        deadline = time.monotonic() + settle
        while not all(_header_complete(path) for path in files) and time.monotonic() < deadline:
            time.sleep(0.05)
        return files

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Self:
        """Start baresip and return once its control socket answers."""
        if self.running:
            raise BaresipError("baresip is already running")
        for attempt in range(3):
            if attempt:
                self.ctrl_port = free_port()
                if self._fixed_port is None:
                    self.sip_port = free_port()
            if self._start_once(timeout):
                return self
        raise BaresipError(f"baresip found its ports taken three times:\n{self.tail()}")

    def _start_once(self, timeout: float) -> bool:
        self._write_config()
        argv = [require("baresip"), "-4", "-f", str(self.config_dir), "-t", str(round(self.lifetime))]
        if self.sip_trace:
            argv.append("-s")  # every SIP message in the log, for post-mortems
        with self.log_path.open("ab") as log:
            log.write(f"==== portier harness: starting {' '.join(argv)}\n".encode())
            log.flush()
            log_start = log.tell()
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                text = self.log_path.read_bytes()[log_start:].decode(errors="replace")
                if "Address already in use" in text and self._fixed_port is None:
                    return False
                raise BaresipError(f"baresip exited with {self._process.returncode} at start:\n{self.tail()}")
            with contextlib.suppress(OSError):
                self._sock = socket.create_connection((LOOPBACK, self.ctrl_port), timeout=0.3)
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise BaresipError(f"baresip's ctrl_tcp did not listen within {timeout} s:\n{self.tail()}")
        self._sock.settimeout(None)
        self._connected = True
        self._reader = threading.Thread(target=self._read, name=f"baresip-{self.user}", daemon=True)
        self._reader.start()
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Ask baresip to end (SIGTERM: it hangs up and finishes its recordings), SIGKILL after
        ``timeout``."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        if self._reader is not None:
            self._reader.join(timeout=2)
            self._reader = None

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # -- control ---------------------------------------------------------------------------------

    def command(self, name: str, params: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """Run a menu command over ctrl_tcp and return its response (``ok`` checked)."""
        if self._sock is None:
            raise BaresipError("baresip is not running")
        token = f"t{next(self._tokens)}"
        payload = json.dumps({"command": name, "params": params, "token": token}).encode()
        self._sock.sendall(b"%d:%s," % (len(payload), payload))
        with self._lock:
            if not self._lock.wait_for(lambda: token in self._responses or not self._alive(), timeout):
                raise BaresipError(f"no answer to {name} {params or ''} within {timeout} s:\n{self.tail()}")
            response = self._responses.pop(token, None)
        if response is None:
            raise BaresipError(f"baresip went away during {name} {params or ''}:\n{self.tail()}")
        if not response.get("ok"):
            raise BaresipError(f"{name} {params or ''} failed: {response.get('data')!r}\n{self.tail()}")
        return response

    def dial(self, uri: str) -> None:
        self.command("dial", uri)

    def accept(self) -> None:
        self.command("accept")

    def hangup(self) -> None:
        self.command("hangup")

    def registered(self) -> bool:
        """Whether the account holds a registration now (``reginfo``; REGISTER_OK may come before
        the control socket is connected, so events cannot tell)."""
        info = _ANSI.sub("", str(self.command("reginfo").get("data", "")))
        return bool(re.search(rf"sip:{re.escape(self.user)}@\S+\s+OK\b", info))

    def wait_registered(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.registered():
            if time.monotonic() > deadline:
                raise BaresipError(f"{self.user} did not register within {timeout} s:\n{self.tail()}")
            time.sleep(0.1)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far, each with ``received_at`` (time.monotonic() on arrival) added."""
        with self._lock:
            return list(self._events)

    def wait_event(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next event of type ``kind`` (e.g. CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED,
        REGISTER_OK) not handed out before; events of other kinds passed on the way are skipped."""

        def find() -> int | None:
            for index in range(self._delivered, len(self._events)):
                if self._events[index].get("type") == kind:
                    return index
            return None

        with self._lock:
            found = self._lock.wait_for(lambda: find() is not None or not self._alive(), timeout)
            index = find()
            if not found or index is None:
                seen = [event.get("type") for event in self._events[self._delivered :]]
                raise BaresipError(f"no {kind} within {timeout} s (saw {seen}):\n{self.tail()}")
            self._delivered = index + 1
            return self._events[index]

    def _alive(self) -> bool:
        return self._connected

    def _read(self) -> None:
        """Split the ctrl_tcp stream into netstrings of JSON: events and command responses."""
        sock = self._sock
        buffer = b""
        try:
            while sock is not None:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                while b":" in buffer:
                    length_text, _, rest = buffer.partition(b":")
                    length = int(length_text)
                    if len(rest) < length + 1:
                        break
                    self._deliver(json.loads(rest[:length]))
                    buffer = rest[length + 1 :]
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._connected = False
                self._lock.notify_all()

    def _deliver(self, message: dict[str, Any]) -> None:
        with self._lock:
            if message.get("event"):
                message["received_at"] = time.monotonic()
                self._events.append(message)
            elif message.get("response"):
                self._responses[str(message.get("token"))] = message
            self._lock.notify_all()

    # -- config ----------------------------------------------------------------------------------

    def _write_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        source = self.audio_source_wav or self._silence()
        with wave.open(str(source), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise ValueError(f"{source}: baresip's aufile plays 16-bit PCM only")
            source_rate, source_channels = wav.getframerate(), wav.getnchannels()
        modules = list(dict.fromkeys(CODECS[codec][0] for codec in self.codecs))
        for name in (*modules, "aufile", "aubridge", "menu", "ctrl_tcp"):
            if not (MODULES / f"{name}.so").is_file():
                raise BaresipError(f"baresip module {name}.so is missing from {MODULES}")
        filters = ["module sndfile.so", f"snd_path {self.record_dir}"] if self.record_dir else []
        if self.record_dir:
            self.record_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "poll_method epoll",
            f"sip_listen {LOOPBACK}:{self.sip_port}",
            f"net_interface {LOOPBACK}",
            f"dns_server {LOOPBACK}:53",
            "call_local_timeout 60",
            "call_max_calls 4",
            f"audio_player aubridge,play-{self.user}",
            f"audio_alert aubridge,alert-{self.user}",
            f"audio_source aufile,{source}",
            f"ausrc_srate {source_rate}",
            f"ausrc_channels {source_channels}",
            "audio_level no",
            "ausrc_format s16",
            "auplay_format s16",
            "auenc_format s16",
            "audec_format s16",
            "audio_buffer 20-160",
            "rtp_tos 0",
            f"rtp_ports {self.rtp_ports[0]}-{self.rtp_ports[1]}",
            "rtcp_mux no",
            "jitter_buffer_delay 1-10",
            "rtp_stats no",
            f"module_path {MODULES}",
            *(f"module {name}.so" for name in modules),
            *filters,
            "module aufile.so",
            "module aubridge.so",
            *(["module srtp.so"] if self.srtp else []),
            "module_tmp account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen {LOOPBACK}:{self.ctrl_port}",
            "ringback_disabled yes",
            "menu_bell no",
            "statmode_default off",
        ]
        (self.config_dir / "config").write_text("\n".join(lines) + "\n")
        (self.config_dir / "accounts").write_text(self._account() + "\n")
        (self.config_dir / "contacts").write_text("")

    def _account(self) -> str:
        codecs = ",".join(dict.fromkeys(CODECS[codec][1] for codec in self.codecs))
        params = [f"answermode={self.answer_mode}", f"audio_codecs={codecs}"]
        if self.srtp:
            params.append(f"mediaenc={self.srtp}")
        if self.registrar is None:
            return f"<{self.direct_uri}>;regint=0;" + ";".join(params)
        host = self.registrar.removeprefix("sip:")
        if self.password is not None:
            params.append(f"auth_pass={self.password}")
        params.append(f'outbound="{self.registrar}"')  # every request via the registrar: no DNS
        return f"<sip:{self.user}@{host}>;regint=600;" + ";".join(params)

    def _silence(self) -> Path:
        path = self.workdir / "silence-8k.wav"
        if not path.exists():
            with wave.open(str(path), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(8000)
                wav.writeframes(bytes(2 * 8000 * max(1, round(self.lifetime))))
        return path


def _header_complete(path: Path) -> bool:
    """libsndfile rewrites the RIFF size when it closes the file; until then it is stale."""
    try:
        with path.open("rb") as file:
            head = file.read(8)
        size = path.stat().st_size
    except OSError:
        return False
    return len(head) == 8 and head[:4] == b"RIFF" and int.from_bytes(head[4:8], "little") + 8 == size
