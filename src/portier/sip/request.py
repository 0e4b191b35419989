"""Building a UAC request (RFC 3261 §8.1.1) with the header order peers and captures expect.

Why one builder for REGISTER, OPTIONS, MESSAGE, INVITE and in-dialog requests: the mandatory
headers and their order (Via, Max-Forwards, Route, From, To, Call-ID, CSeq, Contact, User-Agent,
others, Content-Type, Content-Length) are the same for all of them, and embedded SIP stacks on
door phones and PBXs are known to be picky about Via coming first and Content-Length last.
"""

from __future__ import annotations

from collections.abc import Iterable

from portier.sip.headers import canonical_name
from portier.sip.message import Header, SipRequest
from portier.sip.nameaddr import NameAddr
from portier.sip.uri import Uri, parse_uri
from portier.sip.via import CSeq, Via

# Headers the builder writes itself; passing them in ``headers`` would duplicate them.
_MANAGED = frozenset(
    name.lower()
    for name in (
        "Via", "Max-Forwards", "Route", "From", "To", "Call-ID", "CSeq", "Contact", "User-Agent",
        "Content-Type", "Content-Length",
    )
)  # fmt: skip
MAX_CSEQ = 2**32 - 1


def make_uac_request(
    method: str,
    request_uri: Uri | str,
    *,
    from_: NameAddr,
    to: NameAddr,
    call_id: str,
    cseq: int,
    via: Via | str,
    contact: NameAddr | str | None = None,
    route: Iterable[NameAddr | str] = (),
    headers: Iterable[Header | tuple[str, str]] = (),
    body: bytes = b"",
    content_type: str | None = None,
    max_forwards: int = 70,
    user_agent: str | None = None,
) -> SipRequest:
    """An out-of-dialog (or, through ``Dialog.create_request``, in-dialog) request ready for ``bytes()``.

    ``from_`` must carry the tag this UAC chose (§8.1.1.3); ``to`` carries one only inside a dialog.
    ``route`` is written as given, one Route line per entry: use ``routing.plan_route`` first when
    the route set may start with a strict router. ``contact`` is a full header value (it may list
    several addresses for REGISTER, or be ``*``).
    """
    if from_.tag is None:
        raise ValueError(f"the From of a {method} request needs a tag (RFC 3261 §8.1.1.3)")
    if not 0 <= cseq <= MAX_CSEQ:
        raise ValueError(f"CSeq {cseq} is outside 0..2**32-1 (RFC 3261 §8.1.1.5)")
    if not 0 <= max_forwards <= 255:
        raise ValueError(f"Max-Forwards {max_forwards} is outside 0..255")
    extra = [h if isinstance(h, Header) else Header(canonical_name(h[0]), h[1]) for h in headers]
    clash = sorted({h.name for h in extra if h.name.lower() in _MANAGED})
    if clash:
        raise ValueError(f"pass {', '.join(clash)} through its own argument, not in headers")
    uri = parse_uri(request_uri) if isinstance(request_uri, str) else request_uri
    lines = [
        Header("Via", str(via)),
        Header("Max-Forwards", str(max_forwards)),
        *(Header("Route", str(r)) for r in route),
        Header("From", str(from_)),
        Header("To", str(to)),
        Header("Call-ID", call_id),
        Header("CSeq", str(CSeq(cseq, method))),
    ]
    if contact is not None:
        lines.append(Header("Contact", str(contact)))
    if user_agent:
        lines.append(Header("User-Agent", user_agent))
    lines += extra
    if content_type is not None:
        lines.append(Header("Content-Type", content_type))
    lines.append(Header("Content-Length", str(len(body))))
    return SipRequest(method=method, uri=uri, headers=lines, body=body)
