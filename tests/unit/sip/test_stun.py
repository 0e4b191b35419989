"""STUN Binding (RFC 5389): the RFC 5769 test vectors, the codec's checks, and the client
transaction's retransmission schedule on a fake clock."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from portier.sip.stun import (
    BINDING_ERROR,
    BINDING_REQUEST,
    BINDING_SUCCESS,
    ERROR_CODE,
    FINGERPRINT,
    MAPPED_ADDRESS,
    MESSAGE_INTEGRITY,
    SOFTWARE,
    XOR_MAPPED_ADDRESS,
    BindingFailed,
    BindingResult,
    StunBinding,
    StunError,
    StunMessage,
    binding_request,
    binding_success,
    decode_address,
    encode_address,
    interpret_response,
    is_stun,
)


def hexbytes(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# RFC 5769 §2.1-2.3, as printed there (the SOFTWARE/USERNAME padding is 0x20 on purpose).
TID = hexbytes("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae")
SHORT_TERM_PASSWORD = b"VOkJxbRl1RmTxUk/WvJxBt"
SAMPLE_REQUEST = hexbytes(
    """
    00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
    00 24 00 04 6e 00 01 ff
    80 29 00 08 93 2f f9 b1 51 26 3b 36
    00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
    00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
    80 28 00 04 e5 7a 3b cf
    """
)
SAMPLE_IPV4_RESPONSE = hexbytes(
    """
    01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 08 00 01 a1 47 e1 12 a6 43
    00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
    80 28 00 04 c0 7d 4c 96
    """
)
SAMPLE_IPV6_RESPONSE = hexbytes(
    """
    01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
    00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
    80 28 00 04 c8 fb 0b 4c
    """
)


def integrity_ok(data: bytes, key: bytes) -> bool:
    """MESSAGE-INTEGRITY (§15.4) recomputed here, to prove the vectors above are typed in right."""
    pos = data.index(bytes([0x00, 0x08, 0x00, 0x14]), 20)
    head = data[:2] + (pos - 20 + 24).to_bytes(2, "big") + data[4:pos]
    return hmac.compare_digest(hmac.new(key, head, hashlib.sha1).digest(), data[pos + 4 : pos + 24])


@pytest.mark.parametrize("data", [SAMPLE_REQUEST, SAMPLE_IPV4_RESPONSE, SAMPLE_IPV6_RESPONSE])
def test_rfc5769_vectors_decode_and_fingerprint_verifies(data: bytes) -> None:
    assert is_stun(data)
    assert integrity_ok(data, SHORT_TERM_PASSWORD)
    message = StunMessage.decode(data)  # raises if FINGERPRINT did not verify
    assert message.transaction_id == TID
    assert message.attributes[-1][0] == FINGERPRINT
    assert message.get(MESSAGE_INTEGRITY) is not None
    corrupted = bytearray(data)
    corrupted[-9] ^= 0x01  # last octet before FINGERPRINT, i.e. inside MESSAGE-INTEGRITY
    with pytest.raises(StunError, match="FINGERPRINT does not match"):
        StunMessage.decode(bytes(corrupted))


def test_rfc5769_sample_request() -> None:
    message = StunMessage.decode(SAMPLE_REQUEST)
    assert message.msg_type == BINDING_REQUEST
    assert (message.method, message.msg_class) == (1, 0)
    assert message.get(SOFTWARE) == b"STUN test client"
    assert message.get(0x0006) == b"evtj:h6vY"  # USERNAME, 3 octets of padding
    assert message.get(0x0024) == hexbytes("6e 00 01 ff")  # PRIORITY (ICE), kept opaque


def test_rfc5769_ipv4_response() -> None:
    message = StunMessage.decode(SAMPLE_IPV4_RESPONSE)
    assert message.msg_type == BINDING_SUCCESS and message.msg_class == 2
    assert message.get(SOFTWARE) == b"test vector"
    assert interpret_response(message) == BindingResult("192.0.2.1", 32853, "test vector")


def test_rfc5769_ipv6_response() -> None:
    result = interpret_response(StunMessage.decode(SAMPLE_IPV6_RESPONSE))
    assert result == BindingResult("2001:db8:1234:5678:11:2233:4455:6677", 32853, "test vector")


def test_xor_address_round_trip_matches_the_rfc_values() -> None:
    assert encode_address("192.0.2.1", 32853, TID) == hexbytes("00 01 a1 47 e1 12 a6 43")
    v6 = "2001:db8:1234:5678:11:2233:4455:6677"
    assert encode_address(v6, 32853, TID) == hexbytes(
        "00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"
    )
    assert decode_address(encode_address("10.1.2.3", 5060)) == ("10.1.2.3", 5060)


def test_binding_request_encoding() -> None:
    data = binding_request(TID, software="portier")
    assert data[:2] == b"\x00\x01" and data[4:8] == b"\x21\x12\xa4\x42" and data[8:20] == TID
    assert is_stun(data)
    message = StunMessage.decode(data)
    assert message.attributes[0] == (SOFTWARE, b"portier")
    assert message.attributes[-1][0] == FINGERPRINT
    assert len(data) == 20 + 4 + 8 + 8  # "portier" padded to 8, FINGERPRINT 8
    assert len(binding_request(TID)) == 28


def test_is_stun_tells_stun_from_sip_and_rtp() -> None:
    assert not is_stun(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n")
    assert not is_stun(b"\r\n\r\n")
    rtp = bytes([0x80, 0x00]) + bytes(18)
    assert not is_stun(rtp)
    assert not is_stun(SAMPLE_IPV4_RESPONSE[:-4])  # length field no longer matches
    assert not is_stun(SAMPLE_IPV4_RESPONSE[:4] + b"\0\0\0\0" + SAMPLE_IPV4_RESPONSE[8:])


def test_decode_rejects_malformed_messages() -> None:
    with pytest.raises(StunError, match="shorter than the 20-octet"):
        StunMessage.decode(b"\0\1\0\0")
    with pytest.raises(StunError, match="magic cookie"):
        StunMessage.decode(b"\0\1\0\0" + bytes(16))
    overrun = StunMessage(BINDING_SUCCESS, TID, ((SOFTWARE, b"abcd"),)).encode(fingerprint=False)
    bad = overrun[:20] + b"\x80\x22\x00\x09" + overrun[24:]
    with pytest.raises(StunError, match="overruns"):
        StunMessage.decode(bad)
    not_last = StunMessage(BINDING_SUCCESS, TID).encode() + b"\x80\x22\x00\x00"
    not_last = not_last[:2] + (len(not_last) - 20).to_bytes(2, "big") + not_last[4:]
    with pytest.raises(StunError, match="must be the last"):
        StunMessage.decode(not_last)


def test_attributes_after_message_integrity_are_ignored() -> None:
    message = StunMessage(
        BINDING_SUCCESS,
        TID,
        ((MESSAGE_INTEGRITY, bytes(20)), (XOR_MAPPED_ADDRESS, encode_address("192.0.2.9", 9, TID))),
    )
    decoded = StunMessage.decode(message.encode())
    assert decoded.get(XOR_MAPPED_ADDRESS) is None
    assert decoded.attributes[-1][0] == FINGERPRINT


def test_rfc3489_server_answers_with_mapped_address() -> None:
    # SOURCE-ADDRESS and CHANGED-ADDRESS (0x0004, 0x0005) are comprehension-required but known.
    attrs = (
        (MAPPED_ADDRESS, encode_address("198.51.100.7", 40000)),
        (0x0004, encode_address("203.0.113.1", 3478)),
        (0x0005, encode_address("203.0.113.2", 3479)),
    )
    data = StunMessage(BINDING_SUCCESS, TID, attrs).encode(fingerprint=False)
    assert interpret_response(StunMessage.decode(data)) == BindingResult("198.51.100.7", 40000)


def test_error_and_odd_responses() -> None:
    error = (ERROR_CODE, b"\0\0\x04\x14" + b"Unknown Attribute")
    assert interpret_response(StunMessage(BINDING_ERROR, TID, (error,))) == BindingFailed(
        "STUN server answered 420 Unknown Attribute", 420
    )
    assert interpret_response(StunMessage(BINDING_ERROR, TID)) == BindingFailed(
        "error response without ERROR-CODE"
    )
    empty = interpret_response(StunMessage(BINDING_SUCCESS, TID))
    assert isinstance(empty, BindingFailed) and "without XOR-MAPPED-ADDRESS" in empty.reason
    unknown = interpret_response(StunMessage(BINDING_SUCCESS, TID, ((0x7FFF, b""),)))
    assert isinstance(unknown, BindingFailed) and "0x7fff" in unknown.reason
    xor = (XOR_MAPPED_ADDRESS, encode_address("::1", 1, TID))
    optional = interpret_response(StunMessage(BINDING_SUCCESS, TID, ((0xFFFF, b"x"), xor)))
    assert optional == BindingResult("::1", 1)
    assert interpret_response(StunMessage(BINDING_REQUEST, TID)) is None


def test_binding_succeeds_and_ignores_other_traffic() -> None:
    binding = StunBinding(TID, software="portier")
    request = binding.start(100.0)
    assert StunMessage.decode(request).transaction_id == TID
    assert binding.next_deadline() == 100.5
    other = bytes(reversed(TID))
    assert binding.receive(binding_success(other, "192.0.2.1", 1), 100.1) is None
    assert binding.receive(b"SIP/2.0 200 OK\r\n\r\n", 100.1) is None
    assert binding.receive(SAMPLE_REQUEST, 100.1) is None  # our transaction id, but a request
    assert not binding.done
    result = binding.receive(binding_success(TID, "192.0.2.1", 5060), 100.2)
    assert result == BindingResult("192.0.2.1", 5060)
    assert binding.result == result and binding.done
    assert binding.next_deadline() is None
    assert binding.handle_timer(200.0) is None
    assert binding.receive(binding_success(TID, "192.0.2.1", 5060), 100.3) is None  # duplicate


def test_binding_accepts_the_rfc5769_response() -> None:
    binding = StunBinding(TID)
    binding.start(0.0)
    assert binding.receive(SAMPLE_IPV4_RESPONSE, 0.1) == BindingResult("192.0.2.1", 32853, "test vector")


def test_corrupted_response_is_discarded_and_the_transaction_goes_on() -> None:
    binding = StunBinding(TID)
    binding.start(0.0)
    corrupted = bytearray(SAMPLE_IPV4_RESPONSE)
    corrupted[30] ^= 0xFF
    assert binding.receive(bytes(corrupted), 0.1) is None
    assert not binding.done and binding.next_deadline() == 0.5


def test_retransmission_schedule_and_timeout() -> None:
    """RFC 5389 §7.2.1's example: sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; failure at 39.5 s."""
    binding = StunBinding(TID)
    first = binding.start(0.0)
    sends = [0.0]
    assert binding.handle_timer(0.4) is None  # nothing due yet
    while (deadline := binding.next_deadline()) is not None:
        data = binding.handle_timer(deadline)
        if data is not None:
            assert data == first
            sends.append(deadline)
    assert sends == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert binding.result == BindingFailed("no response to 7 requests within 39.5 s")


def test_a_late_answer_before_giving_up_still_counts() -> None:
    binding = StunBinding(TID, rto=0.1, rc=2, rm=4)
    binding.start(0.0)
    assert binding.handle_timer(0.1) is not None
    assert binding.next_deadline() == pytest.approx(0.5)
    assert binding.receive(binding_success(TID, "192.0.2.3", 3), 0.45) == BindingResult("192.0.2.3", 3)


def test_error_response_ends_the_transaction() -> None:
    binding = StunBinding(TID)
    binding.start(0.0)
    data = StunMessage(BINDING_ERROR, TID, ((ERROR_CODE, b"\0\0\x05\x00Server Error"),)).encode()
    assert binding.receive(data, 0.2) == BindingFailed("STUN server answered 500 Server Error", 500)
    assert binding.next_deadline() is None


def test_transaction_id_must_be_96_bits() -> None:
    with pytest.raises(ValueError, match="12 octets"):
        StunBinding(b"short")
    assert len(StunBinding().transaction_id) == 12
    assert StunBinding().transaction_id != StunBinding().transaction_id
