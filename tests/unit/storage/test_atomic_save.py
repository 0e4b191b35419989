"""A kill -9 in the middle of saving leaves the previous or the new settings, never a broken mix."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from portier.settings.store import SettingsStore
from portier.storage import Storage

WRITER = """
import sys
from pathlib import Path
from portier.storage import Storage
storage = Storage(Path(sys.argv[1]))
docs = [{"lines": {"sip1": {"display_name": c * 20000, "username": c}}} for c in "ab"]
print("ready", flush=True)
i = 0
while True:
    storage.save_settings(docs[i % 2])
    i += 1
"""


def test_kill_minus_nine_during_saves(tmp_path: Path) -> None:
    rng = random.Random(4242)
    for round_ in range(12):
        data = tmp_path / f"round{round_}"
        command = [sys.executable, "-c", WRITER, str(data)]
        writer = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.02, 0.3))
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=10)
        db = sqlite3.connect(data / "portier.db")
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
        stored = Storage(data).load_settings()
        assert stored is not None, "at least one save completed before the kill"
        line = stored["lines"]["sip1"]
        assert line["display_name"] == line["username"] * 20000, json.dumps(stored)[:80]
        store = SettingsStore(Storage(data))
        assert store.problems == []
        assert store.current.lines.sip1.username in ("a", "b")
