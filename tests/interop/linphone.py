"""linphonec (liblinphone 5.1) as a real peer: plays a WAV into calls and records the far end to a WAV.

Why linphone: a second, unrelated SIP/SDP/RTP stack (belle-sip, mediastreamer2) next to baresip.
What it needs to work headless and on loopback only (found by trying linphone-cli 5.1.65):

- File audio: the console command ``soundcard use files`` switches to file mode, then ``play FILE``
  is the microphone and ``record FILE`` the speaker (16-bit WAV at the codec's rate, one file that
  each call overwrites). There is no config key for file mode, so it goes in as commands.
- A terminal: with stdin a pipe, linphonec reads commands but does not act on them until it sees
  EOF; on a pseudo-terminal it runs its event loop between keystrokes. So it runs on a pty.
- ``HOME`` is the work directory, and ``~/.local/share/linphone`` must exist: without it the
  database fails to open and the core never starts (no SIP socket at all, and no error on stdout).
- ``[sip] bind_address=127.0.0.1``, UDP only (``sip_tcp_port=0``, ``sip_tls_port=0``); SDP and
  Contact then carry 127.0.0.1. Codecs are pinned by listing every known one in the rc file.
- Bounded by ``timeout(1)`` around it (no ``-t`` option), stopped by PID.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from .peers import require

LOOPBACK = "127.0.0.1"

# What liblinphone 5.1 lists in a fresh rc file: (mime, rate, channels). Each is written enabled or
# not, so nothing is left to its defaults (opus, speex, PCMU, PCMA and G729 are on by default).
KNOWN_CODECS: tuple[tuple[str, int, int], ...] = (
    ("opus", 48000, 2),
    ("speex", 16000, 1),
    ("speex", 8000, 1),
    ("PCMU", 8000, 1),
    ("PCMA", 8000, 1),
    ("GSM", 8000, 1),
    ("G722", 8000, 1),
    ("G729", 8000, 1),
    ("speex", 32000, 1),
    ("G726-16", 8000, 1),
    ("G726-24", 8000, 1),
    ("G726-32", 8000, 1),
    ("G726-40", 8000, 1),
    ("AAL2-G726-16", 8000, 1),
    ("AAL2-G726-24", 8000, 1),
    ("AAL2-G726-32", 8000, 1),
    ("AAL2-G726-40", 8000, 1),
    ("L16", 44100, 2),
    ("L16", 44100, 1),
)

_TERMINAL_NOISE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


class LinphoneError(AssertionError):
    """linphonec did not do what the test needed; the message carries its console output."""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class Linphone:
    """One linphonec on 127.0.0.1 (see the module docstring); a context manager that starts it.

    ``codecs`` are mime names (``PCMU``, ``PCMA``, ``G722``, ``opus``, ``G726-32``...) in order of
    preference. Console lines such as ``Call 1 with sip:... connected.`` are the events; read them
    with ``wait_output``."""

    def __init__(
        self,
        workdir: Path,
        *,
        sip_port: int | None = None,
        user: str = "linphone",
        audio_source_wav: Path,
        record_wav: Path,
        codecs: Sequence[str] = ("PCMU",),
        auto_answer: bool = True,
        lifetime: float = 60.0,
        rtp_ports: tuple[int, int] = (30000, 39999),
    ) -> None:
        known = {mime.lower(): mime for mime, _, _ in KNOWN_CODECS}
        unknown = [codec for codec in codecs if codec.lower() not in known]
        if unknown or not codecs:
            raise ValueError(f"codecs {unknown or list(codecs)} not among {', '.join(known.values())}")
        self.workdir = Path(workdir)
        self.user = user
        self.audio_source_wav = Path(audio_source_wav)
        self.record_wav = Path(record_wav)
        self.codecs = [known[codec.lower()] for codec in codecs]
        self.auto_answer = auto_answer
        self.lifetime = lifetime
        self.rtp_ports = rtp_ports
        self.sip_port = sip_port or free_udp_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._master: int | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.Condition()
        self._output = ""
        self._cursor = 0  # wait_output searches from here

    # -- addresses and files ---------------------------------------------------------------------

    @property
    def rc_path(self) -> Path:
        return self.workdir / "linphonerc"

    @property
    def log_path(self) -> Path:
        """liblinphone's debug log (SIP messages and SDP included)."""
        return self.workdir / "linphone.log"

    @property
    def uri(self) -> str:
        """Where to call this linphonec directly (it accepts any user part)."""
        return f"sip:{self.user}@{LOOPBACK}:{self.sip_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def output(self) -> str:
        """The console so far, without terminal control sequences."""
        with self._lock:
            return self._output

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output.splitlines()[-lines:])

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> Self:
        """Start linphonec, switch it to file audio, and return once its SIP socket is bound."""
        if self.running:
            raise LinphoneError("linphonec is already running")
        if not self.audio_source_wav.is_file():
            raise FileNotFoundError(f"linphonec's audio source {self.audio_source_wav} does not exist")
        self._write_config()
        binary = require("linphonec")
        argv = [
            shutil.which("timeout") or "timeout", "-k", "5", str(round(self.lifetime)),
            binary, "-c", str(self.rc_path), "-d", "6", "-l", str(self.log_path),
        ]  # fmt: skip
        master, slave = pty.openpty()
        env = {
            **os.environ,
            "HOME": str(self.workdir),
            "XDG_DATA_HOME": str(self.workdir / ".local" / "share"),
            "XDG_CONFIG_HOME": str(self.workdir / ".config"),
            "PULSE_SERVER": "unix:/nonexistent",  # no sound server: file mode needs none
        }
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=self.workdir,
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(slave)
        self._master = master
        self._reader = threading.Thread(target=self._read, name=f"linphonec-{self.user}", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        listening = f"sip:{LOOPBACK}:{self.sip_port};transport=UDP]"
        while listening not in self.log:
            if not self.running or time.monotonic() > deadline:
                self.stop()
                raise LinphoneError(
                    f"linphonec did not listen on {LOOPBACK}:{self.sip_port} within {timeout} s:\n"
                    f"{self.tail()}\n-- log --\n" + "\n".join(self.log.splitlines()[-20:])
                )
            time.sleep(0.05)
        self.send("soundcard use files")
        self.wait_output(r"Using wav files instead of soundcard", timeout)
        self.send(f"play {self.audio_source_wav}")
        self.send(f"record {self.record_wav}")
        self.send(f"autoanswer {'enable' if self.auto_answer else 'disable'}")
        self.wait_output(r"Auto answer (enabled|disabled)\.", timeout)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """``quit`` (linphonec hangs up and closes the recording), SIGTERM then SIGKILL by PID."""
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                self.send("quit")
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        if self._master is not None:
            os.close(self._master)
            self._master = None
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

    def send(self, command: str) -> None:
        """Type one console command."""
        if self._master is None:
            raise LinphoneError("linphonec is not running")
        os.write(self._master, command.encode() + b"\n")

    def call(self, uri: str) -> None:
        self.send(f"call {uri}")

    def answer(self) -> None:
        self.send("answer")

    def terminate(self) -> None:
        self.send("terminate")

    def wait_output(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """The next match of ``pattern`` in the console output after the previous match."""
        regex = re.compile(pattern)
        with self._lock:
            found: re.Match[str] | None = None

            def search() -> bool:
                nonlocal found
                found = regex.search(self._output, self._cursor)
                return found is not None or self._reader is None

            self._lock.wait_for(search, timeout)
            if found is None:
                raise LinphoneError(f"linphonec printed no /{pattern}/ within {timeout} s:\n{self.tail()}")
            self._cursor = found.end()
            return found

    def wait_connected(self, timeout: float = 10.0) -> re.Match[str]:
        return self.wait_output(r"Call \d+ (with|to) \S+ connected\.", timeout)

    def wait_ended(self, timeout: float = 10.0) -> re.Match[str]:
        return self.wait_output(r"Call \d+ (with|to) \S+ (ended|error)[^\n]*", timeout)

    def _read(self) -> None:
        master = self._master
        try:
            while master is not None:
                chunk = os.read(master, 65536)
                if not chunk:
                    break
                with self._lock:
                    self._output += _TERMINAL_NOISE.sub("", chunk.decode(errors="replace"))
                    self._lock.notify_all()
        except OSError:
            pass  # EIO once the child has closed the pty
        finally:
            with self._lock:
                self._reader = None
                self._lock.notify_all()

    # -- config ----------------------------------------------------------------------------------

    def _write_config(self) -> None:
        (self.workdir / ".local" / "share" / "linphone").mkdir(parents=True, exist_ok=True)
        self.record_wav.parent.mkdir(parents=True, exist_ok=True)
        lines = [
            "[sip]",
            f"sip_port={self.sip_port}",
            "sip_tcp_port=0",
            "sip_tls_port=0",
            f"bind_address={LOOPBACK}",
            f"contact=sip:{self.user}@{LOOPBACK}",
            "guess_hostname=0",
            "use_ipv6=0",
            "",
            "[rtp]",
            f"bind_address={LOOPBACK}",
            f"audio_rtp_port={self.rtp_ports[0]}-{self.rtp_ports[1]}",
            "",
            "[sound]",
            "echocancellation=0",
            "",
            "[video]",
            "enabled=0",
            "capture=0",
            "display=0",
        ]
        ordered = [codec for name in self.codecs for codec in KNOWN_CODECS if codec[0] == name]
        ordered += [codec for codec in KNOWN_CODECS if codec not in ordered]
        for index, (mime, rate, channels) in enumerate(ordered):
            enabled = int(mime in self.codecs)
            lines += ["", f"[audio_codec_{index}]", f"mime={mime}", f"rate={rate}", f"channels={channels}"]
            lines.append(f"enabled={enabled}")
        self.rc_path.write_text("\n".join(lines) + "\n")
