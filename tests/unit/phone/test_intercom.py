"""Every way an INVITE can ask for auto answer (manual Tables 6 and 17)."""

from __future__ import annotations

import pytest

from portier.phone.intercom import intercom_delay
from portier.sip.message import Header, SipRequest
from portier.sip.uri import parse_uri


def invite(*headers: tuple[str, str], uri: str = "sip:door@127.0.0.1") -> SipRequest:
    return SipRequest(method="INVITE", uri=parse_uri(uri), headers=[Header(n, v) for n, v in headers])


@pytest.mark.parametrize(
    ("headers", "uri", "expected"),
    [
        ((("Call-Info", "<sip:127.0.0.1>;answer-after=0"),), "sip:door@127.0.0.1", 0.0),
        ((("Call-Info", "<sip:pbx>; Answer-After = 5"),), "sip:door@127.0.0.1", 5.0),
        ((("Alert-Info", "<http://x>;info=alert-autoanswer"),), "sip:door@127.0.0.1", 0.0),
        ((("Alert-Info", "<http://x>;info=alert-autoanswer;delay=3"),), "sip:door@127.0.0.1", 3.0),
        ((("Alert-Info", "Ring Answer"),), "sip:door@127.0.0.1", 0.0),
        ((("Alert-Info", "auto answer"),), "sip:door@127.0.0.1", 0.0),
        ((("Answer-Mode", "Auto"),), "sip:door@127.0.0.1", 0.0),
        ((("Answer-Mode", "Auto;require"),), "sip:door@127.0.0.1", 0.0),
        ((), "sip:door@127.0.0.1;intercom=true", 0.0),
        ((), "sip:door@127.0.0.1", None),
        ((("Call-Info", "<http://x/photo.jpg>;purpose=icon"),), "sip:door@127.0.0.1", None),
        ((("Alert-Info", "<http://x/ring.wav>"),), "sip:door@127.0.0.1", None),
        ((("Answer-Mode", "Manual"),), "sip:door@127.0.0.1", None),
    ],
)
def test_intercom_delay(headers: tuple[tuple[str, str], ...], uri: str, expected: float | None) -> None:
    assert intercom_delay(invite(*headers, uri=uri)) == expected
