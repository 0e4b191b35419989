"""Command line: run the device, manage its configuration, reset it.

User errors (a bad value, a broken config file, a bad address) print a clear message and
exit 2; they never print a stack trace.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from . import __version__
from .device import Device, RuntimeOptions, default_data_dir
from .media.audio import AudioError, AudioSpec
from .media.soundcard import find_card
from .settings import document, fanvil
from .settings.document import ConfigErrors
from .settings.records import TABLES
from .settings.store import SettingsStore
from .settings.values import SettingError, from_text, to_text
from .storage import Storage, StorageError

STOP_TIMEOUT = 1.5
GC_THRESHOLD = 20_000
CLEAR_MODULES: dict[str, tuple[str, ...]] = {
    "SIP": ("SIP CONFIG MODULE", "SIP HOTSPOT MODULE"),
    "AUTOPROVISION": ("AUTOUPDATE CONFIG MODULE", "MAINTENANCE CONFIG MODULE"),
    "TR069": ("TR069 CONFIG MODULE",),
    "MMI": ("MMI CONFIG MODULE",),
    "DSSKEY": ("DSSKEY CONFIG MODULE",),
}
"""System >> Configurations >> Clear Configurations: the manual's module names."""


class UsageError(Exception):
    pass


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT such as 127.0.0.1:8080, got {text!r}")
    return host.strip("[]"), int(port)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a port 1-65535, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.01 <= value <= 10:
        raise argparse.ArgumentTypeError(f"expected seconds between 0.01 and 10, got {text!r}")
    return value


def _audio(text: str, kind: Literal["input", "output"]) -> str:
    """An ``--audio-in``/``--audio-out`` value, checked now: a missing sound card or file is named
    before the device starts, not when the first call wants audio."""
    try:
        spec = AudioSpec.parse(text)
        if spec.kind == "sound":
            find_card(spec.argument, kind)
    except AudioError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if kind == "input" and spec.kind == "wav" and not Path(spec.argument).is_file():
        raise argparse.ArgumentTypeError(f"no WAV file {spec.argument}")
    return text


def _audio_in(text: str) -> str:
    return _audio(text, "input")


def _audio_out(text: str) -> str:
    return _audio(text, "output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portier", description="Open-source SIP door intercom.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_data(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--data", type=Path, default=None, metavar="DIR",
                         help="data directory (default: $PORTIER_DATA or ~/.local/share/portier)")
        return sub

    run = with_data(commands.add_parser("run", help="run the device in the foreground"))
    run.add_argument("--http", type=_host_port, metavar="HOST:PORT", help="web server address for this run")
    run.add_argument("--sip-port", type=_port, metavar="PORT", help="local SIP port for this run")
    run.add_argument("--sip-host", metavar="ADDRESS", help="SIP listen address for this run (default: all)")
    run.add_argument("--sip-t1", type=_seconds, metavar="SECONDS",
                     help="SIP timer T1 for this run (default 0.5; shorter makes timeouts come sooner)")
    run.add_argument("--audio-in", type=_audio_in, metavar="SOURCE",
                     help="call audio source: null (default), tone:HZ, wav:FILE (looped), sound (the default "
                          "sound card's microphone) or sound:DEVICE (a name or index from `python -m "
                          "sounddevice`)")
    run.add_argument("--audio-out", type=_audio_out, metavar="SINK",
                     help="call audio and tones: null (default), wav:DIR (a file per call, tones under "
                          "DIR/tones/), sound or sound:DEVICE (a speaker, calls and tones mixed)")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])

    config = commands.add_parser("config", help="export, import, read and change settings")
    actions = config.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = with_data(actions.add_parser("export", help="write the configuration as a Fanvil config file"))
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="file to write (default: stdout)")
    imp = with_data(actions.add_parser("import", help="apply a Fanvil config file (text or XML)"))
    imp.add_argument("file", type=Path, metavar="FILE")
    get = with_data(actions.add_parser("get", help="print one setting"))
    get.add_argument("key", metavar="KEY", help="Fanvil key ('SIP1 Register Addr') or schema path")
    put = with_data(actions.add_parser("set", help="change one setting"))
    put.add_argument("key", metavar="KEY", help="Fanvil key ('SIP1 Register Addr') or schema path")
    put.add_argument("value", metavar="VALUE")
    clear = with_data(actions.add_parser("clear", help="Clear Configurations: reset modules to defaults"))
    clear.add_argument("modules", nargs="+", metavar="MODULE", help=", ".join(CLEAR_MODULES))
    tables = with_data(actions.add_parser("clear-tables", help="Clear Tables (all when none named)"))
    tables.add_argument("tables", nargs="*", metavar="TABLE", help=", ".join(kind.table for kind in TABLES))

    with_data(commands.add_parser("reset", help="factory reset: delete configuration and tables"))
    commands.add_parser("version", help="print the version")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigErrors as exc:
        for problem in exc.problems:
            print(f"portier: {problem}", file=sys.stderr)
        print("portier: nothing was changed", file=sys.stderr)
    except (SettingError, StorageError, UsageError) as exc:
        print(f"portier: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"portier: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
    return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "version":
        print(f"portier {__version__}")
        return 0
    data_dir: Path = args.data or default_data_dir()
    if args.command == "run":
        logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        options = RuntimeOptions(
            http=args.http, sip_port=args.sip_port, sip_host=args.sip_host, sip_t1=args.sip_t1,
            audio_in=args.audio_in, audio_out=args.audio_out,
        )
        asyncio.run(_run(Device(data_dir, options)))
        return 0
    storage = Storage(data_dir)
    try:
        if args.command == "reset":
            storage.factory_reset()
            print(f"factory reset done: {data_dir} holds the default configuration")
            return 0
        return _config(args, SettingsStore(storage))
    finally:
        storage.close()


def _config(args: argparse.Namespace, store: SettingsStore) -> int:
    for problem in store.problems:
        print(f"portier: stored settings: {problem} (factory default used)", file=sys.stderr)
    if args.action == "export":
        text = fanvil.export_text(store.current).encode()
        if args.output:
            args.output.write_bytes(text)
        else:
            sys.stdout.buffer.write(text)
        return 0
    if args.action == "import":
        result = fanvil.import_file(store.current, args.file.read_bytes())
        store.replace(result.settings)
        for warning in result.warnings:
            print(f"portier: warning: {warning}", file=sys.stderr)
        print(f"imported {args.file}: {len(result.changed)} setting(s) changed")
        return 0
    if args.action == "get":
        leaf = document.find(args.key)
        print(to_text(leaf, document.get(store.current, leaf)))
        return 0
    if args.action == "set":
        leaf = document.find(args.key)
        changed = store.update({leaf: from_text(leaf, args.value)})
        shown = to_text(leaf, document.get(store.current, leaf))
        print(f"{leaf.key} = {shown}" + ("" if changed else " (unchanged)"))
        return 0
    if args.action == "clear":
        modules: list[str] = []
        for name in args.modules:
            match = next((key for key in CLEAR_MODULES if key.lower() == name.replace(" ", "").lower()), None)
            if match is None:
                raise UsageError(f"unknown module {name!r}; choose from {', '.join(CLEAR_MODULES)}")
            modules += CLEAR_MODULES[match]
        changed = store.reset_modules(modules)
        if "MMI CONFIG MODULE" in modules:
            store.storage.clear_tables(tuple(kind for kind in TABLES if kind.table == "users"))
        print(f"cleared {', '.join(args.modules)}: {len(changed)} setting(s) back to defaults")
        return 0
    if args.action == "clear-tables":
        known = {kind.table: kind for kind in TABLES}
        unknown = [name for name in args.tables if name not in known]
        if unknown:
            raise UsageError(f"unknown table(s) {', '.join(unknown)}; choose from {', '.join(known)}")
        chosen = tuple(known[name] for name in args.tables) or TABLES
        store.storage.clear_tables(chosen)
        print(f"cleared tables: {', '.join(kind.table for kind in chosen)}")
        return 0
    raise UsageError(f"unknown action {args.action}")


async def _run(device: Device) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await device.start()
    # Long-lived start-up objects (settings, schema, modules) leave the collector's view, and young
    # collections run less often: full collections over them were the p99 latency spikes under SIP load
    # (bench/options_load.py).
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    await stop.wait()
    logging.getLogger("portier").info("stopping")
    try:
        await asyncio.wait_for(device.stop("signal"), STOP_TIMEOUT)
    except TimeoutError:
        logging.getLogger("portier").error("services did not stop in %.1f s; exiting anyway", STOP_TIMEOUT)
    device.storage.close()
