"""STUN Binding (RFC 5389), sans-IO: the public address a NAT gives our SIP and RTP sockets.

Why our own and so small: a door station needs only the Binding request and its answer (to put
the mapped address in Contact/Via and SDP, and as an RFC 5626 keep-alive), not ICE or TURN.
Why RFC 3489 servers still work: they echo our 128-bit transaction id, whose first 32 bits are the
magic cookie, and answer with MAPPED-ADDRESS instead of XOR-MAPPED-ADDRESS (RFC 5389 §12).
Why ``StunBinding`` takes ``now``: retransmissions (RTO 0.5 s doubling, Rc=7, Rm=16, §7.2.1) are
deadlines the edge schedules, so the whole schedule is testable with a fake clock.
"""

from __future__ import annotations

import ipaddress
import secrets
import struct
import zlib
from dataclasses import dataclass, field

MAGIC_COOKIE = 0x2112A442
_COOKIE = MAGIC_COOKIE.to_bytes(4, "big")
_FINGERPRINT_XOR = 0x5354554E
HEADER_SIZE = 20

BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111

MAPPED_ADDRESS = 0x0001
USERNAME = 0x0006
MESSAGE_INTEGRITY = 0x0008
ERROR_CODE = 0x0009
UNKNOWN_ATTRIBUTES = 0x000A
REALM = 0x0014
NONCE = 0x0015
XOR_MAPPED_ADDRESS = 0x0020
SOFTWARE = 0x8022
ALTERNATE_SERVER = 0x8023
FINGERPRINT = 0x8028
# Comprehension-required attributes a Binding response may carry that we read or may ignore:
# RFC 5389 ones, and RFC 3489's RESPONSE-ADDRESS, CHANGE-REQUEST, SOURCE-ADDRESS, CHANGED-ADDRESS,
# PASSWORD, REFLECTED-FROM that old servers still send.
_UNDERSTOOD = frozenset(
    {MAPPED_ADDRESS, 0x0002, 0x0003, 0x0004, 0x0005, USERNAME, 0x0007, MESSAGE_INTEGRITY, ERROR_CODE,
     UNKNOWN_ATTRIBUTES, 0x000B, REALM, NONCE, XOR_MAPPED_ADDRESS}
)  # fmt: skip

Attribute = tuple[int, bytes]


class StunError(ValueError):
    """Bytes that are not a well-formed STUN message; the text says what is wrong."""


def _pad(length: int) -> int:
    return (4 - length % 4) % 4


def _fingerprint(data: bytes) -> int:
    return (zlib.crc32(data) & 0xFFFFFFFF) ^ _FINGERPRINT_XOR


def is_stun(data: bytes) -> bool:
    """Whether a datagram is STUN rather than SIP or RTP: zero top bits, magic cookie, exact length."""
    return (
        len(data) >= HEADER_SIZE
        and data[0] & 0xC0 == 0
        and data[4:8] == _COOKIE
        and int.from_bytes(data[2:4], "big") == len(data) - HEADER_SIZE
        and len(data) % 4 == 0
    )


@dataclass(frozen=True)
class StunMessage:
    """A message type, 96-bit transaction id and attributes in order (values without padding)."""

    msg_type: int
    transaction_id: bytes
    attributes: tuple[Attribute, ...] = ()

    @property
    def method(self) -> int:
        t = self.msg_type
        return (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2)

    @property
    def msg_class(self) -> int:
        """0 request, 1 indication, 2 success response, 3 error response."""
        return ((self.msg_type >> 4) & 0x1) | ((self.msg_type >> 7) & 0x2)

    def get(self, attr_type: int) -> bytes | None:
        """The first attribute of that type (§15: only the first one counts)."""
        return next((value for t, value in self.attributes if t == attr_type), None)

    def encode(self, *, fingerprint: bool = True) -> bytes:
        """Wire form, padding with zeros; ``fingerprint`` appends FINGERPRINT (§15.5)."""
        if len(self.transaction_id) != 12:
            raise StunError(f"a transaction id has 12 octets, got {len(self.transaction_id)}")
        body = b"".join(
            struct.pack("!HH", t, len(v)) + v + b"\0" * _pad(len(v))
            for t, v in self.attributes
            if t != FINGERPRINT
        )
        length = len(body) + (8 if fingerprint else 0)
        data = struct.pack("!HHI", self.msg_type, length, MAGIC_COOKIE) + self.transaction_id + body
        if fingerprint:
            data += struct.pack("!HHI", FINGERPRINT, 4, _fingerprint(data))
        return data

    @classmethod
    def decode(cls, data: bytes) -> StunMessage:
        """Parse and check framing; a FINGERPRINT, when present, must be last and must verify."""
        if len(data) < HEADER_SIZE:
            raise StunError(f"{len(data)} octets is shorter than the 20-octet STUN header")
        msg_type, length, cookie = struct.unpack_from("!HHI", data)
        if msg_type & 0xC000:
            raise StunError("the two top bits of a STUN message must be zero")
        if cookie != MAGIC_COOKIE:
            raise StunError(f"magic cookie is {cookie:#010x}, not {MAGIC_COOKIE:#010x}")
        if length % 4 or HEADER_SIZE + length != len(data):
            raise StunError(f"length field {length} does not match the {len(data) - HEADER_SIZE} octets")
        attributes: list[Attribute] = []
        integrity_seen = False
        pos = HEADER_SIZE
        while pos < len(data):
            if pos + 4 > len(data):
                raise StunError(f"truncated attribute header at offset {pos}")
            attr_type, attr_len = struct.unpack_from("!HH", data, pos)
            end = pos + 4 + attr_len
            if end > len(data):
                raise StunError(f"attribute {attr_type:#06x} of {attr_len} octets overruns the message")
            if attr_type == FINGERPRINT:
                if end != len(data) or attr_len != 4:
                    raise StunError("FINGERPRINT must be the last attribute and 4 octets long")
                if int.from_bytes(data[pos + 4 : end], "big") != _fingerprint(data[:pos]):
                    raise StunError("FINGERPRINT does not match the message (corrupted or not STUN)")
            # §15.4: only FINGERPRINT may follow MESSAGE-INTEGRITY; anything else there is ignored.
            if not integrity_seen or attr_type == FINGERPRINT:
                attributes.append((attr_type, data[pos + 4 : end]))
            integrity_seen = integrity_seen or attr_type == MESSAGE_INTEGRITY
            pos = end + _pad(attr_len)
        if pos != len(data):
            raise StunError("the last attribute's padding runs past the message")
        return cls(msg_type, data[8:HEADER_SIZE], tuple(attributes))


def decode_address(value: bytes, transaction_id: bytes | None = None) -> tuple[str, int]:
    """(host, port) of a MAPPED-ADDRESS, or of an XOR-MAPPED-ADDRESS when ``transaction_id`` is given."""
    if len(value) < 4:
        raise StunError("address attribute shorter than 4 octets")
    family, port = value[1], int.from_bytes(value[2:4], "big")
    raw = value[4:]
    sizes = {1: 4, 2: 16}
    if family not in sizes or len(raw) != sizes[family]:
        raise StunError(f"address family {family} with {len(raw)} address octets")
    if transaction_id is not None:
        port ^= MAGIC_COOKIE >> 16
        mask = _COOKIE + transaction_id
        raw = bytes(a ^ b for a, b in zip(raw, mask, strict=False))
    host = ipaddress.IPv4Address(raw) if family == 1 else ipaddress.IPv6Address(raw)
    return str(host), port


def encode_address(host: str, port: int, transaction_id: bytes | None = None) -> bytes:
    """The value of a MAPPED-ADDRESS, or XOR-MAPPED-ADDRESS when ``transaction_id`` is given."""
    ip = ipaddress.ip_address(host)
    raw = ip.packed
    if transaction_id is not None:
        port ^= MAGIC_COOKIE >> 16
        raw = bytes(a ^ b for a, b in zip(raw, _COOKIE + transaction_id, strict=False))
    return struct.pack("!BBH", 0, 1 if ip.version == 4 else 2, port) + raw


def decode_error_code(value: bytes) -> tuple[int, str]:
    """(code, reason phrase) of an ERROR-CODE attribute (§15.6)."""
    if len(value) < 4:
        raise StunError("ERROR-CODE shorter than 4 octets")
    code = (value[2] & 0x07) * 100 + value[3]
    return code, value[4:].decode("utf-8", "replace")


def binding_request(transaction_id: bytes, *, software: str | None = None) -> bytes:
    """A Binding request with SOFTWARE (if given) and FINGERPRINT."""
    attrs = ((SOFTWARE, software.encode()),) if software else ()
    return StunMessage(BINDING_REQUEST, transaction_id, attrs).encode()


def binding_success(transaction_id: bytes, host: str, port: int, *, software: str | None = None) -> bytes:
    """The success response a STUN server (or a keep-alive responder) sends: XOR-MAPPED-ADDRESS."""
    attrs: list[Attribute] = [(XOR_MAPPED_ADDRESS, encode_address(host, port, transaction_id))]
    if software:
        attrs.insert(0, (SOFTWARE, software.encode()))
    return StunMessage(BINDING_SUCCESS, transaction_id, tuple(attrs)).encode()


@dataclass(frozen=True)
class BindingResult:
    """Where the server saw our request come from; ``software`` is the server's SOFTWARE, if any."""

    mapped_host: str
    mapped_port: int
    software: str | None = None


@dataclass(frozen=True)
class BindingFailed:
    """Why no mapped address came back; ``error_code`` when the server answered with ERROR-CODE."""

    reason: str
    error_code: int | None = None


Outcome = BindingResult | BindingFailed


def interpret_response(message: StunMessage) -> Outcome | None:
    """What a Binding response means (§7.3.3, §7.3.4); None for anything that is not one."""
    if message.method != 0x001 or message.msg_class not in (2, 3):
        return None
    unknown = sorted(t for t, _ in message.attributes if t < 0x8000 and t not in _UNDERSTOOD)
    if unknown:
        names = ", ".join(f"{t:#06x}" for t in unknown)
        return BindingFailed(f"the response carries unknown comprehension-required attributes {names}")
    software_value = message.get(SOFTWARE)
    software = None if software_value is None else software_value.decode("utf-8", "replace")
    try:
        if message.msg_class == 3:
            value = message.get(ERROR_CODE)
            if value is None:
                return BindingFailed("error response without ERROR-CODE")
            code, phrase = decode_error_code(value)
            return BindingFailed(f"STUN server answered {code} {phrase}".rstrip(), code)
        xor = message.get(XOR_MAPPED_ADDRESS)
        if xor is not None:
            host, port = decode_address(xor, message.transaction_id)
        else:
            mapped = message.get(MAPPED_ADDRESS)
            if mapped is None:
                return BindingFailed("success response without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS")
            host, port = decode_address(mapped)
    except StunError as exc:
        return BindingFailed(f"malformed response: {exc}")
    return BindingResult(host, port, software)


@dataclass
class StunBinding:
    """One Binding client transaction over UDP (§7.2.1): ``start``, then feed ``receive`` and
    ``handle_timer`` at ``next_deadline``; ``result`` is set once it succeeded or gave up."""

    transaction_id: bytes = field(default_factory=lambda: secrets.token_bytes(12))
    software: str | None = None
    rto: float = 0.5
    rc: int = 7
    rm: int = 16
    result: Outcome | None = None
    _request: bytes = b""
    _sent: int = 0
    _deadline: float | None = None

    def __post_init__(self) -> None:
        if len(self.transaction_id) != 12:
            raise ValueError(f"a STUN transaction id has 12 octets, got {len(self.transaction_id)}")

    @property
    def done(self) -> bool:
        return self.result is not None

    def start(self, now: float) -> bytes:
        """The first request to send; the retransmission timer starts now."""
        if self._sent:
            raise RuntimeError("this Binding transaction has already started")
        self._request = binding_request(self.transaction_id, software=self.software)
        self._sent = 1
        self._deadline = now + self._interval()
        return self._request

    def next_deadline(self) -> float | None:
        return None if self.done else self._deadline

    def handle_timer(self, now: float) -> bytes | None:
        """The retransmission due at ``now``, or None (nothing due, or the transaction just gave up)."""
        if self.done or self._deadline is None or now < self._deadline:
            return None
        if self._sent >= self.rc:
            wait = self._wait_before_giving_up()
            self.result = BindingFailed(f"no response to {self._sent} requests within {wait:g} s")
            self._deadline = None
            return None
        self._sent += 1
        self._deadline += self._interval()
        return self._request

    def _interval(self) -> float:
        """The wait after the latest send: RTO doubling each time, Rm * RTO after the last (Rc-th)."""
        return self.rto * float(2 ** (self._sent - 1)) if self._sent < self.rc else self.rto * self.rm

    def _wait_before_giving_up(self) -> float:
        return self.rto * float(2 ** (self.rc - 1) - 1) + self.rto * self.rm

    def receive(self, data: bytes, now: float) -> Outcome | None:
        """The outcome if ``data`` answers this transaction; None for anything else (which the caller
        may hand to another consumer), including malformed or duplicate answers."""
        if self.done or not self._sent or not is_stun(data) or data[8:HEADER_SIZE] != self.transaction_id:
            return None
        try:
            message = StunMessage.decode(data)
        except StunError:
            return None  # §7.3: malformed messages are silently discarded
        outcome = interpret_response(message)
        if outcome is not None:
            self.result = outcome
            self._deadline = None
        return outcome
