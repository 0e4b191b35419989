"""A real Kamailio 5.6 registrar + proxy for one test: digest auth, no database, loopback only.

Why a real one: portier's lines must register against the registrar people actually deploy, with
its nonce handling, its 423 and its connection reuse, not against our idea of it. Each instance gets
its own directory (config, TLS certificate, log) and its own free ports for UDP, TCP and TLS on
127.0.0.1, runs in the foreground as a child process group, and is stopped by PID. Users and
passwords sit in an in-memory htable filled from the rendered config; contacts live in usrloc
memory only, so ``restart()`` forgets registrations the way a rebooted registrar does.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from .peers import require
from .sipp import LOOPBACK, free_port

TEMPLATES = Path(__file__).parent / "kamailio"
AuthKind = Literal["www", "proxy", "none"]

_USER = re.compile(r"[A-Za-z0-9._~+-]{1,64}")
_REALM = re.compile(r"[A-Za-z0-9.-]{1,253}")
_PLACEHOLDER = re.compile(r"@@[A-Z_]+@@")


class KamailioError(AssertionError):
    """Kamailio did not do what the harness needed; the message carries the tail of its log."""


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill every ``@@NAME@@`` of a config template; a name left over is a harness bug."""
    text = template
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    leftover = sorted(set(_PLACEHOLDER.findall(text)))
    if leftover:
        raise ValueError(f"config template placeholders without a value: {', '.join(leftover)}")
    return text


class Kamailio:
    """One Kamailio instance on 127.0.0.1 (see module docstring); a context manager that starts it.

    ``auth_kind`` says how REGISTER is challenged: "www" (401, the usual registrar), "proxy" (407,
    as some PBXes do) or "none". ``challenge_requests`` makes every other request (INVITE, MESSAGE,
    OPTIONS to a user) answer 407 until it carries credentials of the From user. ``qop`` puts
    ``qop="auth"`` in the challenges. A REGISTER asking for less than ``min_expires`` gets
    423 Interval Too Brief with Min-Expires.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        users: Mapping[str, str],
        realm: str = "portier.test",
        qop: bool = True,
        auth_kind: AuthKind = "www",
        challenge_requests: bool = True,
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
        template: Path = TEMPLATES / "registrar.cfg",
    ) -> None:
        for user, password in users.items():
            self._check_credentials(user, password)
        if not _REALM.fullmatch(realm):
            raise ValueError(f"realm {realm!r} must be a host name")
        if not 0 <= min_expires <= max_expires:
            raise ValueError(f"min_expires {min_expires} must be between 0 and max_expires {max_expires}")
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.users = dict(users)
        self.realm = realm
        self.qop = qop
        self.auth_kind: AuthKind = auth_kind
        self.challenge_requests = challenge_requests
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self._template = template
        self._udp_port = self._tcp_port = self._tls_port = 0
        self._pick_ports()
        self._started = False
        # Unix socket paths are limited to 107 bytes: the ctl socket goes into a short private dir.
        self._rundir = Path(tempfile.mkdtemp(prefix="portier-kam-"))
        self.config_path = workdir / "kamailio.cfg"
        self.log_path = workdir / "kamailio.log"
        self.cert_path = workdir / "cert.pem"
        self.key_path = workdir / "key.pem"
        self._secret = secrets.token_hex(16)
        self._process: subprocess.Popen[bytes] | None = None
        try:
            self._make_certificate()
            self._write_config()
        except BaseException:
            shutil.rmtree(self._rundir, ignore_errors=True)
            raise

    # -- what tests read -------------------------------------------------------------------------

    @property
    def udp_port(self) -> int:
        return self._udp_port

    @property
    def tcp_port(self) -> int:
        return self._tcp_port

    @property
    def tls_port(self) -> int:
        return self._tls_port

    @property
    def ctl_socket(self) -> Path:
        return self._rundir / "kamailio_ctl"

    @property
    def tls_cert_pem(self) -> bytes:
        """The TLS listener's self-signed certificate (CN and SAN ``realm``, SAN IP 127.0.0.1)."""
        return self.cert_path.read_bytes()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        """Kamailio's whole stderr log across starts (each start is marked)."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def port(self, transport: Literal["udp", "tcp", "tls"]) -> int:
        return {"udp": self._udp_port, "tcp": self._tcp_port, "tls": self._tls_port}[transport]

    def address(self, transport: Literal["udp", "tcp", "tls"] = "udp") -> str:
        """``127.0.0.1:port`` for SIPp's remote argument or a line's server setting."""
        return f"{LOOPBACK}:{self.port(transport)}"

    def uri(self, transport: Literal["udp", "tcp", "tls"] = "udp") -> str:
        """The server as a SIP URI with its transport, e.g. ``sip:127.0.0.1:5061;transport=tls``."""
        suffix = "" if transport == "udp" else f";transport={transport}"
        return f"sip:{LOOPBACK}:{self.port(transport)}{suffix}"

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Self:
        """Start in the foreground and return once UDP answers an OPTIONS probe and TCP/TLS accept.

        Free ports are picked before Kamailio binds them; should another process take one in
        between, the first start picks new ones (twice at most). A restart keeps its ports."""
        if self.running:
            raise KamailioError("Kamailio is already running")
        for attempt in range(3 if not self._started else 1):
            if attempt:
                self._pick_ports()
                self._write_config()
            if self._start_once(timeout):
                self._started = True
                return self
        raise KamailioError(f"Kamailio found its ports taken three times:\n{self.tail()}")

    def _start_once(self, timeout: float) -> bool:
        """True once serving; False if a port was taken; raises on any other failure."""
        argv = [
            require("kamailio"),
            "-f", str(self.config_path),
            "-DD", "-E", "-S",
            "-Y", str(self._rundir),
            "-w", str(self.workdir),
            "-m", "32", "-M", "8",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            log.write(f"==== portier harness: starting {' '.join(argv)}\n".encode())
            log.flush()
            log_start = log.tell()
            process = self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._kill_stragglers(process.pid)
                if "Address already in use" in self.log[log_start:]:
                    return False
                raise KamailioError(f"Kamailio exited with {process.returncode} at start:\n{self.tail()}")
            if self.probe() and _accepts(self._tcp_port) and _accepts(self._tls_port):
                return True
            time.sleep(0.05)
        self.kill()
        raise KamailioError(
            f"Kamailio did not answer OPTIONS on {self.address()} within {timeout} s:\n{self.tail()}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the process group, wait, SIGKILL it after ``timeout``; then any straggler by PID."""
        process = self._process
        if process is None:
            return
        # Signal the group only while its leader is unreaped: only then is its id surely still ours.
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self._kill_stragglers(process.pid)

    def kill(self) -> None:
        """SIGKILL at once, as a crashed or unplugged server (for failover tests)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        self._kill_stragglers(process.pid)

    @staticmethod
    def _kill_stragglers(group: int) -> None:
        """Kill children left in the group of a leader that is gone (a PID stays reserved while any
        process still carries it as its group id, so these are ours)."""
        for pid in _group_members(group):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def restart(self, timeout: float = 10.0) -> Self:
        """Same ports, same config, empty location table."""
        self.stop()
        return self.start(timeout)

    def close(self) -> None:
        """Stop and remove the private runtime directory (the workdir stays for post-mortems)."""
        self.stop()
        shutil.rmtree(self._rundir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- inspection ------------------------------------------------------------------------------

    def probe(self, timeout: float = 0.3) -> bool:
        """Whether an OPTIONS to the server itself over UDP gets 200 within ``timeout``."""
        branch = "z9hG4bK" + secrets.token_hex(8)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((LOOPBACK, 0))
            sock.settimeout(timeout)
            port = sock.getsockname()[1]
            request = (
                f"OPTIONS sip:{LOOPBACK}:{self._udp_port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {LOOPBACK}:{port};branch={branch};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:probe@{LOOPBACK}>;tag={secrets.token_hex(4)}\r\n"
                f"To: <sip:{LOOPBACK}:{self._udp_port}>\r\n"
                f"Call-ID: {secrets.token_hex(8)}@{LOOPBACK}\r\n"
                "CSeq: 1 OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n"
            )
            sock.sendto(request.encode(), (LOOPBACK, self._udp_port))
            try:
                data = sock.recv(65535)
            except (TimeoutError, ConnectionRefusedError):
                return False
        return data.startswith(b"SIP/2.0 200 ") and branch.encode() in data

    def rpc(self, *command: str, timeout: float = 5.0) -> str:
        """Run one RPC command through ``kamcmd`` on this instance's ctl socket; its output.
        kamcmd sends an argument that looks like a number as an integer: prefix strings with ``s:``."""
        argv = [require("kamcmd"), "-s", f"unix:{self.ctl_socket}", *command]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            failure = f"({result.returncode}): {result.stderr.strip()}"
            raise KamailioError(f"kamcmd {' '.join(command)} failed {failure}")
        return result.stdout

    def registered(self, user: str) -> list[str]:
        """The contact URIs currently bound to ``user`` (the AoR is the user name: no domains)."""
        argv = [require("kamcmd"), "-s", f"unix:{self.ctl_socket}", "ul.lookup", "location", f"s:{user}"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=5)
        output = result.stdout + result.stderr
        if result.returncode != 0:
            if "not found" in output.lower():
                return []
            failure = f"({result.returncode}): {output.strip()}"
            raise KamailioError(f"kamcmd ul.lookup location {user} failed {failure}")
        return re.findall(r"^\s*Address:\s*(\S+)\s*$", output, flags=re.MULTILINE)

    def set_user(self, user: str, password: str) -> None:
        """Add a user or change a password while running (the htable, not the rendered config)."""
        self._check_credentials(user, password)
        self.rpc("htable.sets", "users", f"s:{user}", f"s:{password}")
        self.users[user] = password

    def remove_user(self, user: str) -> None:
        """Forget a user while running: its next requests are challenged and never accepted."""
        self.rpc("htable.delete", "users", f"s:{user}")
        self.users.pop(user, None)

    def unregister(self, user: str) -> None:
        """Drop every binding of ``user`` from the location table, as an administrator would."""
        self.rpc("ul.rm", "location", f"s:{user}")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.splitlines()[-lines:])

    def _pick_ports(self) -> None:
        self._udp_port = free_port("udp")
        self._tcp_port = free_port("tcp")
        self._tls_port = free_port("tcp")
        while self._tls_port == self._tcp_port:
            self._tls_port = free_port("tcp")

    @staticmethod
    def _check_credentials(user: str, password: str) -> None:
        if not _USER.fullmatch(user):
            raise ValueError(f"user name {user!r} must be 1-64 of A-Z a-z 0-9 . _ ~ + -")
        if not password.isprintable() or '"' in password or "\\" in password:
            raise ValueError(f"password of {user!r} must be printable without quote or backslash")

    # -- files -----------------------------------------------------------------------------------

    def _make_certificate(self) -> None:
        argv = [
            require("openssl"), "req", "-x509", "-nodes", "-days", "2",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", str(self.key_path), "-out", str(self.cert_path),
            "-subj", f"/CN={self.realm}",
            "-addext", f"subjectAltName=DNS:{self.realm},IP:{LOOPBACK}",
        ]  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise KamailioError(f"openssl could not make the TLS certificate: {result.stderr.strip()}")

    def _write_config(self) -> None:
        tls_cfg = self.workdir / "tls.cfg"
        tls_cfg.write_text(
            render(
                (TEMPLATES / "tls.cfg").read_text(),
                {"KEY_FILE": str(self.key_path), "CERT_FILE": str(self.cert_path)},
            )
        )
        users = "".join(f'\t$sht(users=>{user}) = "{password}";\n' for user, password in self.users.items())
        register_auth = {
            "www": "\troute(WWW_AUTH);",
            "proxy": "\troute(PROXY_CHALLENGE);",
            "none": "\t# REGISTER is accepted without credentials.",
        }[self.auth_kind]
        proxy_auth = "\troute(PROXY_CHALLENGE);" if self.challenge_requests else "\treturn;"
        values = {
            "UDP_PORT": str(self._udp_port),
            "TCP_PORT": str(self._tcp_port),
            "TLS_PORT": str(self._tls_port),
            "REALM": self.realm,
            "TLS_CFG": str(tls_cfg),
            "CTL_SOCKET": str(self.ctl_socket),
            "MIN_EXPIRES": str(self.min_expires),
            "MAX_EXPIRES": str(self.max_expires),
            "DEFAULT_EXPIRES": str(self.default_expires),
            "AUTH_SECRET": self._secret,
            "USERS": users.rstrip("\n") or "\t# no users",
            "REGISTER_AUTH": register_auth,
            "PROXY_AUTH": proxy_auth,
            "CHALLENGE_FLAGS": "1" if self.qop else "0",
        }
        self.config_path.write_text(render(self._template.read_text(), values))


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def _group_members(group: int) -> list[int]:
    """PIDs of the live processes whose process group is ``group`` (read from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state, ppid, pgrp; zombies are already dead.
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(stat.parent.name))
    return members


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.3):
            return True
    except OSError:
        return False
