"""Fuzz the SIP message parser with 100000 generated inputs; prints the crash count (0 expected).

A crash is any exception other than SipParseError from parse/serialise/check/framing, or an
accepted message that does not survive parse -> bytes -> parse unchanged. Inputs mix mutated
RFC 4475 torture messages (byte flips, inserts, deletions, truncations, duplicated runs, spliced
lines from other vectors) with random bytes. Deterministic: ``--seed`` picks the run.

    .venv/bin/python bench/fuzz_sip_parser.py [--count 100000] [--seed 4475]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from dataclasses import astuple
from pathlib import Path

from portier.sip import (
    SipMessage,
    SipParseError,
    SipRequest,
    StreamFramer,
    check_request,
    check_response,
    parse,
)

VECTOR_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "rfc4475"
ALPHABET = b' \t\r\n:;,<>"\\@%=/?[]*0123456789abcSIPsip-.~\x00\xff'


def mutate(rng: random.Random, vectors: list[bytes]) -> bytes:
    data = bytearray(rng.choice(vectors))
    for _ in range(rng.choice((1, 1, 2, 3, 8))):
        pos = rng.randint(0, len(data))
        op = rng.choice((0, 0, 0, 1, 1, 1, 2, 2, 4, 4, 5, 5, 3))  # truncation is rare: it rarely parses
        if op == 0 and pos < len(data):
            data[pos] = rng.choice(ALPHABET) if rng.random() < 0.7 else rng.randrange(256)
        elif op == 1:
            data[pos:pos] = bytes([rng.choice(ALPHABET)])
        elif op == 2:
            del data[pos : pos + rng.randint(1, 12)]
        elif op == 3:
            del data[pos:]
        elif op == 4:
            data[pos:pos] = data[pos : pos + rng.randint(1, 60)]
        else:
            lines = rng.choice(vectors).split(b"\r\n")
            data[pos:pos] = rng.choice(lines) + b"\r\n"
    return bytes(data)


def structure(msg: SipMessage) -> tuple[object, ...]:
    return astuple(msg)


def one(data: bytes) -> None:
    try:
        msg = parse(data)
    except SipParseError:
        msg = None
    if msg is not None:
        again = parse(bytes(msg))
        if structure(again) != structure(msg) or bytes(again) != bytes(msg):
            raise AssertionError("parse -> bytes -> parse is not a fixed point")
        if isinstance(msg, SipRequest):
            check_request(msg)
        else:
            check_response(msg)
    framer = StreamFramer(max_head=4096, max_body=4096)
    try:
        for start in range(0, len(data), 97):
            framer.feed(data[start : start + 97])
    except SipParseError:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=4475)
    args = parser.parse_args()
    if not VECTOR_DIR.is_dir():
        print(f"RFC 4475 vectors not found at {VECTOR_DIR}", file=sys.stderr)
        return 2
    vectors = [p.read_bytes() for p in sorted(VECTOR_DIR.glob("*.dat"))]
    rng = random.Random(args.seed)
    crashes: dict[str, bytes] = {}
    crash_count = accepted = 0
    began = time.perf_counter()
    for _ in range(args.count):
        if rng.random() < 0.8:
            data = mutate(rng, vectors)
        else:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))
        try:
            one(data)
            accepted += 1
        except Exception as exc:  # the point of a fuzzer: anything else is a bug
            crash_count += 1
            key = f"{type(exc).__name__}: {exc}"[:200]
            if key not in crashes:
                crashes[key] = data
                traceback.print_exc(limit=3)
                print(repr(data[:300]), file=sys.stderr)
    elapsed = time.perf_counter() - began
    print(f"inputs: {args.count}  seed: {args.seed}  seconds: {elapsed:.1f}")
    print(f"crashes: {crash_count}  distinct: {len(crashes)}")
    return 1 if crash_count else 0


if __name__ == "__main__":
    sys.exit(main())
