"""Hypothesis fuzzing: whatever the bytes, only SipParseError escapes, and accepted input is stable.

Stability means parse -> bytes -> parse is a fixed point: a message we accept can be re-sent
(forwarded, logged, echoed) and read back with the same meaning.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portier.sip import SipParseError, SipRequest, StreamFramer, check_request, check_response, parse

from ._vectors import load, names, structure

VECTORS = [load(name) for name in names()]
ALPHABET = b' \t\r\n:;,<>"\\@%=/?[]*0123456789abcSIPsip-.~\x00\xff'


def check(data: bytes) -> None:
    try:
        msg = parse(data)
    except SipParseError:
        return
    again = parse(bytes(msg))
    assert structure(again) == structure(msg)
    if isinstance(msg, SipRequest):
        check_request(msg)
    else:
        check_response(msg)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(VECTORS)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]))
        byte = draw(st.sampled_from(ALPHABET))
        if op == "replace" and pos < len(data):
            data[pos] = byte
        elif op == "insert":
            data[pos:pos] = bytes([byte])
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 40))]
    return bytes(data)


FUZZ = settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(mutated())
def test_mutated_torture_messages(data: bytes) -> None:
    check(data)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=600) | st.lists(st.sampled_from(ALPHABET), max_size=200).map(bytes))
def test_random_bytes(data: bytes) -> None:
    check(data)
    check(b"INVITE sip:a@b SIP/2.0\r\n" + data)


@settings(max_examples=500, deadline=None)
@given(mutated(), st.lists(st.integers(1, 64), min_size=1, max_size=30))
def test_stream_framer(data: bytes, cuts: list[int]) -> None:
    framer = StreamFramer(max_head=4096, max_body=4096)
    pos = 0
    try:
        for cut in cuts:
            framer.feed(data[pos : pos + cut])
            pos += cut
        framer.feed(data[pos:])
    except SipParseError:
        pass
