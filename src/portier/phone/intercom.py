"""Does an incoming INVITE ask to be answered automatically? (manual 8.1, Tables 6 and 17)

PBXs and intercom masters say it in several ways; each gives an optional delay in seconds:
``Call-Info: <uri>;answer-after=N``, ``Alert-Info: <uri>;info=alert-autoanswer[;delay=N]``,
``Alert-Info: Ring Answer``, ``Alert-Info: auto answer``, ``Answer-Mode: Auto`` (RFC 5373), and
``;intercom=true`` on the Request-URI.
"""

from __future__ import annotations

import re

from portier.sip.message import SipRequest
from portier.sip.uri import SipUri

_ANSWER_AFTER = re.compile(r";\s*answer-after\s*=\s*(\d{1,4})", re.IGNORECASE)
_DELAY = re.compile(r";\s*delay\s*=\s*(\d{1,4})", re.IGNORECASE)
_AUTOANSWER = re.compile(r"info\s*=\s*alert-autoanswer", re.IGNORECASE)


def intercom_delay(request: SipRequest) -> float | None:
    """Seconds to wait before answering, or None when the INVITE is an ordinary call."""
    for value in request.get_all("Call-Info"):
        found = _ANSWER_AFTER.search(value)
        if found:
            return float(found.group(1))
    for value in request.get_all("Alert-Info"):
        text = value.strip().lower()
        if _AUTOANSWER.search(value):
            delay = _DELAY.search(value)
            return float(delay.group(1)) if delay else 0.0
        if text in ("ring answer", "auto answer", "<ring answer>", "<auto answer>"):
            return 0.0
    for value in request.get_all("Answer-Mode"):
        if value.split(";", 1)[0].strip().lower() == "auto":
            return 0.0
    uri = request.uri
    if isinstance(uri, SipUri) and (uri.param("intercom") or "").lower() == "true":
        return 0.0
    return None
