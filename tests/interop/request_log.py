"""A stdlib HTTP server that answers 200 to every GET and appends its target to a file, one per line.

Why a script: it runs where the device runs, inside a network namespace (``ip netns exec ...
python -I request_log.py PORT FILE``), so Action URLs to 127.0.0.1 reach it there; the test reads
the file from outside. The first line is ``listening`` once the port is bound.
"""

from __future__ import annotations

import argparse
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

READY = "listening"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("log", type=Path)
    args = parser.parse_args(argv)
    log: Path = args.log

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with log.open("a") as out:
                out.write(self.path + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *values: Any) -> None:
            return None

    with ThreadingHTTPServer(("127.0.0.1", args.port), Recorder) as server:
        with log.open("a") as out:
            out.write(READY + "\n")
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
