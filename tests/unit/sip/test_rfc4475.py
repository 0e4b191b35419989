"""All 49 RFC 4475 §3 torture messages, table-driven: what the RFC expects of a UAS for each.

Where the RFC leaves a choice ("may reject or ignore") the table records portier's choice and why.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portier.sip import (
    SipParseError,
    SipRequest,
    SipResponse,
    UasPolicy,
    check_request,
    check_response,
    parse,
)

from ._vectors import load, names, structure

UAS = UasPolicy()
REGISTRAR = UasPolicy(registrar=True)


@dataclass(frozen=True)
class Accept:
    """Parses, and the UAS goes on processing (``check_*`` returns None)."""

    policy: UasPolicy = UAS


@dataclass(frozen=True)
class Reject:
    """Parses, and the UAS answers with ``status``."""

    status: int
    policy: UasPolicy = UAS


@dataclass(frozen=True)
class Unparsable:
    """``parse`` raises SipParseError carrying ``status`` (None: a response, drop it)."""

    status: int | None


@dataclass(frozen=True)
class Discard:
    """A response that parses but must be dropped."""


Expected = Accept | Reject | Unparsable | Discard

CASES: dict[str, tuple[str, Expected]] = {
    # 3.1.1 valid messages
    "wsinv": ("3.1.1.1", Accept()),
    "intmeth": ("3.1.1.2", Reject(501)),  # endpoint: unknown method -> 501 with Allow
    "esc01": ("3.1.1.3", Accept()),
    "escnull": ("3.1.1.4", Accept(REGISTRAR)),
    "esc02": ("3.1.1.5", Reject(501)),  # RE%47IST%45R is not REGISTER
    "lwsdisp": ("3.1.1.6", Accept()),
    "longreq": ("3.1.1.7", Accept()),
    "dblreq": ("3.1.1.8", Accept(REGISTRAR)),  # trailing INVITE octets ignored
    "semiuri": ("3.1.1.9", Accept()),
    "transports": ("3.1.1.10", Accept()),
    "mpart01": ("3.1.1.11", Accept()),
    "unreason": ("3.1.1.12", Accept()),
    "noreason": ("3.1.1.13", Accept()),
    # 3.1.2 invalid messages
    "badinv01": ("3.1.2.1", Unparsable(400)),
    "clerr": ("3.1.2.2", Unparsable(400)),  # over UDP; see test_stream_* for TCP
    "ncl": ("3.1.2.3", Unparsable(400)),
    "scalar02": ("3.1.2.4", Unparsable(400)),  # CSeq > 2**32-1
    "scalarlg": ("3.1.2.5", Unparsable(None)),  # a response: discard
    "quotbal": ("3.1.2.6", Unparsable(400)),
    "ltgtruri": ("3.1.2.7", Unparsable(400)),
    "lwsruri": ("3.1.2.8", Unparsable(400)),
    "lwsstart": ("3.1.2.9", Unparsable(400)),  # choice: reject rather than guess
    "trws": ("3.1.2.10", Unparsable(400)),  # choice: reject rather than guess
    "escruri": ("3.1.2.11", Reject(400)),  # headers in a Request-URI
    "baddate": ("3.1.2.12", Accept()),  # Date does not matter to a UAS request: ignored
    "regbadct": ("3.1.2.13", Unparsable(400)),
    "badaspec": ("3.1.2.14", Unparsable(400)),
    "baddn": ("3.1.2.15", Unparsable(400)),
    "badvers": ("3.1.2.16", Reject(505)),
    "mismatch01": ("3.1.2.17", Reject(400)),
    "mismatch02": ("3.1.2.18", Reject(501)),
    "bigcode": ("3.1.2.19", Unparsable(None)),  # a response: drop
    # 3.2 transaction layer
    "badbranch": ("3.2.1", Reject(400)),
    # 3.3 application layer
    "insuf": ("3.3.1", Reject(400)),
    "unkscm": ("3.3.2", Reject(416)),
    "novelsc": ("3.3.3", Reject(416)),
    "unksm2": ("3.3.4", Reject(400, REGISTRAR)),
    "bext01": ("3.3.5", Reject(420)),
    "invut": ("3.3.6", Reject(415)),
    "regaut01": ("3.3.7", Accept(REGISTRAR)),  # auth layer answers 401 later
    "multi01": ("3.3.8", Reject(400)),
    "mcl01": ("3.3.9", Unparsable(400)),
    "bcast": ("3.3.10", Discard()),
    "zeromf": ("3.3.11", Accept()),
    "cparam01": ("3.3.12", Accept(REGISTRAR)),
    "cparam02": ("3.3.13", Accept(REGISTRAR)),
    "regescrt": ("3.3.14", Accept(REGISTRAR)),
    "sdp01": ("3.3.15", Reject(406)),
    # 3.4 backward compatibility
    "inv2543": ("3.4.1", Accept()),
}


def test_table_covers_every_vector() -> None:
    assert sorted(CASES) == names()
    assert len(CASES) == 49


def _verdict(msg: SipRequest | SipResponse, policy: UasPolicy) -> int | str | None:
    if isinstance(msg, SipResponse):
        return check_response(msg)
    rejection = check_request(msg, policy)
    return None if rejection is None else rejection.status


@pytest.mark.parametrize("name", sorted(CASES))
def test_vector(name: str) -> None:
    section, expected = CASES[name]
    data = load(name)
    if isinstance(expected, Unparsable):
        with pytest.raises(SipParseError) as info:
            parse(data)
        assert info.value.status == expected.status, f"§{section} {name}: {info.value.message}"
        return
    msg = parse(data)
    again = parse(bytes(msg))
    assert structure(again) == structure(msg), f"§{section} {name}: not a fixed point"
    assert bytes(again) == bytes(msg)
    if isinstance(expected, Discard):
        assert isinstance(msg, SipResponse)
        assert check_response(msg) is not None
    elif isinstance(expected, Accept):
        assert _verdict(msg, expected.policy) is None, f"§{section} {name}"
    else:
        assert _verdict(msg, expected.policy) == expected.status, f"§{section} {name}"


@pytest.mark.parametrize(
    "name", ["escnull", "dblreq", "regaut01", "cparam01", "cparam02", "regescrt", "unksm2"]
)
def test_register_at_a_non_registrar_is_405(name: str) -> None:
    msg = parse(load(name))
    assert isinstance(msg, SipRequest)
    rejection = check_request(msg, UAS)
    assert rejection is not None and rejection.status == 405
    assert dict(rejection.headers)["Allow"].startswith("ACK, BYE, CANCEL")


def test_vendored_vectors_match_the_shared_ones() -> None:
    from ._vectors import SHARED_DIR, VENDORED_DIR

    vendored = sorted(VENDORED_DIR.glob("*.dat"))
    assert len(vendored) == 49
    if SHARED_DIR.is_dir():
        for path in vendored:
            assert path.read_bytes() == (SHARED_DIR / path.name).read_bytes(), path.name
