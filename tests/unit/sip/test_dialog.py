"""Dialogs (RFC 3261 §12), route sets (§12.2.1.1) and the UAC request builder (§8.1.1).

The messages follow the shape of RFC 3261 §24.2 (Alice calls Bob through two record-routing
proxies); every message is parsed from text, and every built request is parsed back.
"""

from __future__ import annotations

import pytest

from portier.sip import SipRequest, SipResponse, SipUri, UasPolicy, check_request, parse, parse_uri
from portier.sip.dialog import (
    Dialog,
    DialogError,
    DialogId,
    DialogState,
    dialog_id_of_request,
    dialog_id_of_response,
)
from portier.sip.message import Header
from portier.sip.nameaddr import NameAddr, parse_name_addr
from portier.sip.request import make_uac_request
from portier.sip.routing import plan_route, request_uri_form
from portier.sip.server_transaction import make_response
from portier.sip.via import Via

CALL_ID = "3848276298220188511@atlanta.example.com"
ALICE = "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl"
BOB = "Bob <sip:bob@biloxi.example.com>"
ALICE_CONTACT = "<sip:alice@client.atlanta.example.com;transport=tcp>"
BOB_CONTACT = "<sip:bob@client.biloxi.example.com;transport=tcp>"
VIA = "SIP/2.0/TCP client.atlanta.example.com:5060;branch=z9hG4bK74bf9"


def request(
    method: str = "INVITE", cseq: int = 1, extra: str = "", to: str = BOB, frm: str = ALICE
) -> SipRequest:
    text = (
        f"{method} sip:bob@biloxi.example.com SIP/2.0\r\n"
        f"Via: {VIA}\r\nMax-Forwards: 70\r\nFrom: {frm}\r\nTo: {to}\r\n"
        f"Call-ID: {CALL_ID}\r\nCSeq: {cseq} {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    )
    msg = parse(text.encode())
    assert isinstance(msg, SipRequest)
    return msg


INVITE = request(extra=f"Contact: {ALICE_CONTACT}\r\n")


def response(
    status: int,
    *,
    tag: str | None = "314159",
    method: str = "INVITE",
    cseq: int = 1,
    record_route: str | None = None,
    contact: str | None = BOB_CONTACT,
) -> SipResponse:
    lines = [f"SIP/2.0 {status} Whatever", f"Via: {VIA}"]
    if record_route:
        lines.append(f"Record-Route: {record_route}")
    lines += [
        f"From: {ALICE}",
        f"To: {BOB}" + (f";tag={tag}" if tag else ""),
        f"Call-ID: {CALL_ID}",
        f"CSeq: {cseq} {method}",
    ]
    if contact:
        lines.append(f"Contact: {contact}")
    msg = parse(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())
    assert isinstance(msg, SipResponse)
    return msg


PROXIES = "<sip:ss2.biloxi.example.com;lr>, <sip:ss1.atlanta.example.com;lr>"


def uri(text: str) -> SipUri:
    parsed = parse_uri(text)
    assert isinstance(parsed, SipUri)
    return parsed


def confirmed_uac() -> Dialog:
    return Dialog.as_uac(INVITE, response(200, record_route=PROXIES))


def reparse(msg: SipRequest) -> SipRequest:
    again = parse(bytes(msg))
    assert isinstance(again, SipRequest)
    return again


# --- UAC side ---------------------------------------------------------------------------------


def test_uac_dialog_from_a_provisional_response_is_early() -> None:
    dialog = Dialog.as_uac(INVITE, response(180, record_route=PROXIES))
    assert dialog.state is DialogState.EARLY
    assert dialog.id == DialogId(CALL_ID, "9fxced76sl", "314159")
    assert [str(r.uri) for r in dialog.route_set] == [
        "sip:ss1.atlanta.example.com;lr",
        "sip:ss2.biloxi.example.com;lr",
    ]  # Record-Route reversed (§12.1.2)
    assert dialog.remote_target == uri("sip:bob@client.biloxi.example.com;transport=tcp")
    assert (dialog.local_seq, dialog.remote_seq) == (1, None)
    assert str(dialog.local_uri) == '"Alice" <sip:alice@atlanta.example.com>'  # tag kept apart
    assert str(dialog.remote_uri) == '"Bob" <sip:bob@biloxi.example.com>'
    assert not dialog.secure


def test_2xx_confirms_the_early_dialog_and_recomputes_the_route_set() -> None:
    dialog = Dialog.as_uac(INVITE, response(180, record_route=PROXIES))
    dialog.receive_response(response(183, contact="<sip:bob@early.example.com>"))
    assert dialog.state.name == "EARLY"
    assert dialog.remote_target == uri("sip:bob@early.example.com")
    dialog.receive_response(
        response(200, record_route="<sip:ss1.atlanta.example.com;lr>", contact="<sip:bob@192.0.2.4>")
    )
    assert dialog.state is DialogState.CONFIRMED
    assert [str(r.uri) for r in dialog.route_set] == ["sip:ss1.atlanta.example.com;lr"]
    assert dialog.remote_target == uri("sip:bob@192.0.2.4")


def test_a_non_2xx_final_ends_every_early_dialog() -> None:
    dialog = Dialog.as_uac(INVITE, response(180))
    dialog.receive_response(response(486, tag="other-fork"))
    assert dialog.state is DialogState.TERMINATED


def test_a_2xx_from_another_fork_is_not_this_dialog() -> None:
    dialog = Dialog.as_uac(INVITE, response(180))
    with pytest.raises(DialogError, match="another fork"):
        dialog.receive_response(response(200, tag="other-fork"))
    assert dialog.state is DialogState.EARLY


def test_responses_that_create_no_dialog() -> None:
    with pytest.raises(DialogError, match="creates no dialog"):
        Dialog.as_uac(INVITE, response(100, tag=None))
    with pytest.raises(DialogError, match="without a To tag"):
        Dialog.as_uac(INVITE, response(180, tag=None))
    with pytest.raises(DialogError, match="creates no dialog"):
        Dialog.as_uac(INVITE, response(404))


def test_missing_contact_falls_back_to_the_request_uri() -> None:
    dialog = Dialog.as_uac(INVITE, response(200, contact=None))
    assert dialog.remote_target == uri("sip:bob@biloxi.example.com")


def test_bye_is_loose_routed_through_the_route_set() -> None:
    dialog = confirmed_uac()
    ack, _ = dialog.create_request(
        "ACK", via="SIP/2.0/TCP client.atlanta.example.com;branch=z9hG4bKa", contact=None
    )
    assert str(ack.cseq()) == "1 ACK" and dialog.local_seq == 1
    bye, next_hop = dialog.create_request(
        "BYE", via=Via("TCP", "client.atlanta.example.com", 5060, (("branch", "z9hG4bKb"),)), contact=None
    )
    bye = reparse(bye)
    assert bye.uri == uri("sip:bob@client.biloxi.example.com;transport=tcp")  # remote target
    assert [str(r.uri) for r in bye.route()] == [
        "sip:ss1.atlanta.example.com;lr",
        "sip:ss2.biloxi.example.com;lr",
    ]
    assert next_hop == uri("sip:ss1.atlanta.example.com;lr")
    assert str(bye.cseq()) == "2 BYE" and dialog.local_seq == 2
    assert bye.from_().tag == "9fxced76sl" and bye.to().tag == "314159"
    assert bye.to().display_name == "Bob" and bye.call_id() == CALL_ID
    assert [h.name for h in bye.headers] == [
        "Via", "Max-Forwards", "Route", "Route", "From", "To", "Call-ID", "CSeq", "Content-Length",
    ]  # fmt: skip
    assert check_request(bye) is None


def test_strict_router_goes_into_the_request_uri() -> None:
    strict = "<sip:ss2.biloxi.example.com;lr>, <sip:old.atlanta.example.com;transport=udp;method=INVITE>"
    dialog = Dialog.as_uac(INVITE, response(200, record_route=strict))
    info, next_hop = dialog.create_request(
        "INFO",
        via=VIA,
        contact=None,
        body=b"Signal=5\r\nDuration=160\r\n",
        content_type="application/dtmf-relay",
    )
    info = reparse(info)
    # §12.2.1.1: first route (stripped of what a Request-URI may not carry) becomes the Request-URI,
    # the rest of the route set and then the remote target become the Route header.
    assert str(info.uri) == "sip:old.atlanta.example.com;transport=udp"
    assert [str(r.uri) for r in info.route()] == [
        "sip:ss2.biloxi.example.com;lr",
        "sip:bob@client.biloxi.example.com;transport=tcp",
    ]
    assert next_hop == info.uri
    assert info.body == b"Signal=5\r\nDuration=160\r\n"
    assert [h.name for h in info.headers][-2:] == ["Content-Type", "Content-Length"]
    assert check_request(info) is None


def test_without_a_route_set_the_next_hop_is_the_remote_target() -> None:
    dialog = Dialog.as_uac(INVITE, response(200))
    bye, next_hop = dialog.create_request("BYE", via=VIA, contact=None)
    assert bye.get("Route") is None
    assert next_hop == bye.uri == uri("sip:bob@client.biloxi.example.com;transport=tcp")


def test_cseq_overrides() -> None:
    dialog = confirmed_uac()
    reinvite, _ = dialog.create_request("INVITE", via=VIA, contact=ALICE_CONTACT)
    assert reinvite.cseq().seq == 2 and reinvite.get("Contact") == ALICE_CONTACT
    cancel, _ = dialog.create_request("CANCEL", via=VIA, contact=None, cseq=2)
    assert str(cancel.cseq()) == "2 CANCEL" and dialog.local_seq == 2
    retry, _ = dialog.create_request("INVITE", via=VIA, contact=ALICE_CONTACT, cseq=7)
    assert retry.cseq().seq == 7 and dialog.local_seq == 7
    after, _ = dialog.create_request("BYE", via=VIA, contact=None)
    assert after.cseq().seq == 8
    dialog.local_seq = 2**32 - 1
    with pytest.raises(DialogError, match="exceeds"):
        dialog.create_request("BYE", via=VIA, contact=None)


def test_target_refresh_from_2xx_responses() -> None:
    dialog = confirmed_uac()
    dialog.receive_response(response(200, method="UPDATE", cseq=2, contact="<sip:bob@192.0.2.20>"))
    assert dialog.remote_target == uri("sip:bob@192.0.2.20")
    dialog.receive_response(response(200, method="INFO", cseq=3, contact="<sip:bob@192.0.2.99>"))
    assert dialog.remote_target == uri("sip:bob@192.0.2.20")  # INFO refreshes nothing
    dialog.receive_response(response(491, method="INVITE", cseq=4, contact="<sip:bob@192.0.2.98>"))
    assert dialog.remote_target == uri("sip:bob@192.0.2.20") and dialog.state is DialogState.CONFIRMED
    dialog.receive_response(response(200, method="INVITE", cseq=5, contact="<sip:bob@192.0.2.21>"))
    assert dialog.remote_target == uri("sip:bob@192.0.2.21")


@pytest.mark.parametrize(("status", "method"), [(481, "INFO"), (408, "INVITE"), (200, "BYE"), (404, "BYE")])
def test_responses_that_end_a_confirmed_dialog(status: int, method: str) -> None:
    dialog = confirmed_uac()
    dialog.receive_response(response(status, method=method, cseq=2))
    assert dialog.state is DialogState.TERMINATED


def test_a_481_from_a_proxy_with_its_own_tag_still_ends_the_dialog() -> None:
    dialog = confirmed_uac()
    dialog.receive_response(response(481, tag="proxy-tag", method="BYE", cseq=2))
    assert dialog.state is DialogState.TERMINATED


def test_a_response_of_another_call_is_refused() -> None:
    dialog = confirmed_uac()
    other = response(200, method="BYE", cseq=2)
    other.headers = [Header("Call-ID", "else") if h.name == "Call-ID" else h for h in other.headers]
    with pytest.raises(DialogError, match="Call-ID"):
        dialog.receive_response(other)


def test_sips_request_uri_makes_a_secure_dialog() -> None:
    invite = request(extra=f"Contact: {ALICE_CONTACT}\r\n")
    invite.uri = parse_uri("sips:bob@biloxi.example.com")
    assert Dialog.as_uac(invite, response(200)).secure
    assert Dialog.as_uas(invite, "t").secure


# --- UAS side ---------------------------------------------------------------------------------

INCOMING = request(extra=f"Record-Route: {PROXIES}\r\nContact: {ALICE_CONTACT}\r\n", cseq=101)


def uas() -> Dialog:
    return Dialog.as_uas(INCOMING, "bobtag")


def in_dialog(method: str, cseq: int, extra: str = "") -> SipRequest:
    return request(method, cseq, extra, to=f"{BOB};tag=bobtag")


def test_uas_dialog_state() -> None:
    dialog = uas()
    assert dialog.state is DialogState.EARLY
    assert dialog.id == DialogId(CALL_ID, "bobtag", "9fxced76sl")
    assert [str(r.uri) for r in dialog.route_set] == [
        "sip:ss2.biloxi.example.com;lr",
        "sip:ss1.atlanta.example.com;lr",
    ]  # Record-Route in order (§12.1.1)
    assert (dialog.local_seq, dialog.remote_seq) == (0, 101)
    assert dialog.remote_target == uri("sip:alice@client.atlanta.example.com;transport=tcp")
    with pytest.raises(DialogError, match="already has a To tag"):
        Dialog.as_uas(in_dialog("INVITE", 102), "x")


def test_uas_state_follows_the_responses_it_sends() -> None:
    dialog = uas()
    dialog.send_response(response(180, tag="bobtag"))
    assert dialog.state.name == "EARLY"
    dialog.send_response(response(200, tag="bobtag"))
    assert dialog.state is DialogState.CONFIRMED
    dialog.send_response(response(500, tag="bobtag", cseq=102))
    assert dialog.state is DialogState.CONFIRMED  # a failed re-INVITE keeps the dialog
    declined = uas()
    declined.send_response(response(603, tag="bobtag"))
    assert declined.state is DialogState.TERMINATED


def test_uas_requests_go_back_along_the_route_set() -> None:
    dialog = uas()
    bye, next_hop = dialog.create_request("BYE", via="SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKx", contact=None)
    bye = reparse(bye)
    assert bye.cseq().seq == 1  # first local request: §8.1.1.5 allows any start below 2**31
    assert str(bye.from_()) == '"Bob" <sip:bob@biloxi.example.com>;tag=bobtag'
    assert bye.to().tag == "9fxced76sl" and bye.to().uri == uri("sip:alice@atlanta.example.com")
    assert bye.uri == uri("sip:alice@client.atlanta.example.com;transport=tcp")
    assert next_hop == uri("sip:ss2.biloxi.example.com;lr")


def test_uas_checks_remote_cseq_order() -> None:
    dialog = uas()
    late = dialog.receive_request(in_dialog("INFO", 100))
    assert late is not None and (late.status, late.reason) == (500, "CSeq out of order")
    assert dialog.remote_seq == 101
    assert dialog.receive_request(in_dialog("ACK", 101)) is None
    assert dialog.receive_request(in_dialog("INFO", 101)) is None  # equal is not lower
    assert dialog.receive_request(in_dialog("INFO", 150)) is None
    assert dialog.remote_seq == 150
    assert dialog.receive_request(in_dialog("CANCEL", 101)) is None  # CANCEL skips the check
    assert dialog.remote_seq == 150


def test_uas_target_refresh_and_bye() -> None:
    dialog = uas()
    dialog.send_response(response(200, tag="bobtag"))
    assert dialog.receive_request(in_dialog("INVITE", 102, "Contact: <sip:alice@192.0.2.77>\r\n")) is None
    assert dialog.remote_target == uri("sip:alice@192.0.2.77")
    assert dialog.receive_request(in_dialog("INFO", 103, "Contact: <sip:alice@192.0.2.78>\r\n")) is None
    assert dialog.remote_target == uri("sip:alice@192.0.2.77")
    assert dialog.receive_request(in_dialog("BYE", 104)) is None
    assert dialog.state is DialogState.TERMINATED
    gone = dialog.receive_request(in_dialog("INFO", 105))
    assert gone is not None and gone.status == 481
    assert dialog.receive_request(in_dialog("ACK", 102)) is None


def test_rfc2543_peer_without_from_tag() -> None:
    invite = request(frm="<sip:old@192.0.2.9>", extra="Contact: <sip:old@192.0.2.9>\r\n")
    dialog = Dialog.as_uas(invite, "mine")
    assert dialog.remote_tag == ""
    bye, _ = dialog.create_request("BYE", via=VIA, contact=None)
    assert reparse(bye).to().tag is None
    incoming = request("BYE", 2, frm="<sip:old@192.0.2.9>", to=f"{BOB};tag=mine")
    assert dialog_id_of_request(incoming) == DialogId(CALL_ID, "mine", "")
    assert dialog.matches(incoming, is_local_uac=False)


# --- both ends --------------------------------------------------------------------------------


def test_uac_and_uas_agree_through_the_wire() -> None:
    bob = Dialog.as_uas(INVITE, "b0b")
    built = make_response(INVITE, 200, "OK")
    built.headers = [Header("To", f"{BOB};tag=b0b") if h.name == "To" else h for h in built.headers]
    built.headers.insert(-1, Header("Contact", BOB_CONTACT))
    ok = parse(bytes(built))
    assert isinstance(ok, SipResponse)
    bob.send_response(ok)
    alice = Dialog.as_uac(INVITE, ok)
    assert dialog_id_of_response(ok) == alice.id
    assert alice.matches(ok, is_local_uac=True) and bob.matches(ok, is_local_uac=False)

    bye, _ = alice.create_request("BYE", via=VIA, contact=None)
    bye = reparse(bye)
    assert dialog_id_of_request(bye) == bob.id
    assert bob.matches(bye, is_local_uac=False) and alice.matches(bye, is_local_uac=True)
    assert not alice.matches(bye, is_local_uac=False)
    assert bob.receive_request(bye) is None and bob.state is DialogState.TERMINATED


def test_dialog_ids_of_messages_outside_dialogs() -> None:
    assert dialog_id_of_request(INVITE) is None  # no To tag yet
    assert dialog_id_of_response(response(100, tag=None)) is None
    assert dialog_id_of_response(response(180)) == DialogId(CALL_ID, "9fxced76sl", "314159")


# --- routing and the request builder ----------------------------------------------------------


def test_request_uri_form_strips_method_and_headers() -> None:
    assert str(request_uri_form(uri("sip:a@b;lr;method=INVITE?Subject=x"))) == "sip:a@b;lr"
    plain = uri("sip:a@b;transport=tcp")
    assert request_uri_form(plain) is plain
    tel = parse_uri("tel:+4930123")
    assert request_uri_form(tel) is tel


def test_plan_route_for_a_preloaded_outbound_proxy() -> None:
    proxy = parse_name_addr("<sip:proxy.example.com;lr>")
    plan = plan_route([proxy], uri("sip:door@example.com"))
    assert plan.request_uri == uri("sip:door@example.com")
    assert plan.route == (proxy,) and plan.next_hop == proxy.uri


def test_make_uac_request_builds_a_register_in_order() -> None:
    register = make_uac_request(
        "REGISTER",
        "sip:example.com",
        from_=parse_name_addr("<sip:door@example.com>;tag=abc"),
        to=parse_name_addr("<sip:door@example.com>"),
        call_id="reg1@192.0.2.5",
        cseq=1,
        via=Via("UDP", "192.0.2.5", 5060, (("branch", "z9hG4bKreg1"), ("rport", None))),
        contact="<sip:door@192.0.2.5:5060>;expires=3600",
        route=["<sip:outbound.example.com;lr>"],
        headers=[("Expires", "3600"), Header("Allow", "INVITE, ACK")],
        user_agent="portier test",
    )
    register = reparse(register)
    assert [h.name for h in register.headers] == [
        "Via", "Max-Forwards", "Route", "From", "To", "Call-ID", "CSeq", "Contact", "User-Agent", "Expires",
        "Allow", "Content-Length",
    ]  # fmt: skip
    assert register.vias()[0].has_param("rport")
    assert check_request(register, UasPolicy(registrar=True)) is None


def test_make_uac_request_refuses_what_would_break_the_request() -> None:
    to = NameAddr(uri("sip:bob@example.com"))
    with pytest.raises(ValueError, match="needs a tag"):
        make_uac_request("OPTIONS", "sip:bob@example.com", from_=to, to=to, call_id="c", cseq=1, via=VIA)
    tagged = NameAddr(uri("sip:door@example.com"), params=(("tag", "t"),))
    with pytest.raises(ValueError, match="Content-Length, Via"):
        make_uac_request(
            "OPTIONS", "sip:bob@example.com", from_=tagged, to=to, call_id="c", cseq=1, via=VIA,
            headers=[("via", "x"), ("l", "0")],
        )  # fmt: skip
    with pytest.raises(ValueError, match="CSeq"):
        make_uac_request(
            "OPTIONS", "sip:bob@example.com", from_=tagged, to=to, call_id="c", cseq=2**32, via=VIA
        )
