"""RFC 4028 negotiation rules."""

from __future__ import annotations

from portier.phone.session_timer import SessionTimer, TooSmall, from_answer, negotiate_as_uas, offer_headers
from portier.sip.message import Header, SipRequest, SipResponse
from portier.sip.uri import parse_uri


def invite(*headers: tuple[str, str]) -> SipRequest:
    return SipRequest(
        method="INVITE", uri=parse_uri("sip:door@x"), headers=[Header(n, v) for n, v in headers]
    )


def test_caller_choices_are_honoured() -> None:
    timer = negotiate_as_uas(
        invite(("Supported", "timer"), ("Session-Expires", "1800;refresher=uas")), False, 1800
    )
    assert timer == SessionTimer(1800, "uas", True)
    assert timer.headers() == (("Session-Expires", "1800;refresher=uas"), ("Require", "timer"))
    assert timer.we_refresh(we_are_uas=True)


def test_caller_without_timer_support_makes_us_refresh_and_gets_no_require() -> None:
    timer = negotiate_as_uas(invite(("x", "600")), False, 1800)  # compact form of Session-Expires
    assert timer == SessionTimer(600, "uas", False)
    assert timer.headers() == (("Session-Expires", "600;refresher=uas"),)


def test_too_small_and_line_settings() -> None:
    assert negotiate_as_uas(invite(("Session-Expires", "60")), True, 1800) == TooSmall()
    assert negotiate_as_uas(invite(), False, 1800) is None
    mine = negotiate_as_uas(invite(("Supported", "timer")), True, 300)
    assert mine == SessionTimer(300, "uac", True)
    shorter = negotiate_as_uas(invite(("Supported", "timer"), ("Session-Expires", "3600")), True, 600)
    assert shorter is not None and not isinstance(shorter, TooSmall) and shorter.interval == 600


def test_deadline_and_offer_side() -> None:
    assert SessionTimer(90, "uac", True).deadline() == 60.0
    assert SessionTimer(1800, "uac", True).deadline() == 1768
    assert offer_headers(False, 1800) == ()
    assert offer_headers(True, 1800) == (("Supported", "timer"), ("Session-Expires", "1800;refresher=uac"))
    answer = SipResponse(status=200, headers=[Header("Session-Expires", "900;refresher=uas")])
    assert from_answer(answer) == SessionTimer(900, "uas", True)
