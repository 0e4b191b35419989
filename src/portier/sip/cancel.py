"""The CANCEL of a pending INVITE (RFC 3261 §9.1), built from the INVITE alone.

Why its own builder: a CANCEL is a hop-by-hop twin of the request it cancels, not an in-dialog
request. It must carry the INVITE's Request-URI, Call-ID, From, To (no tag: the dialog may not
exist), CSeq number and Route set, and the INVITE's top Via, so the branch lets the next hop
(§9.2) find the transaction; only the CSeq method changes. It has no body.
"""

from __future__ import annotations

from portier.sip.message import Header, SipRequest


def build_cancel(invite: SipRequest) -> SipRequest:
    if invite.method != "INVITE":
        raise ValueError(f"only an INVITE is cancelled (§9.1), not a {invite.method}")
    headers = [Header("Via", str(invite.vias()[0]))]
    headers.append(Header("Max-Forwards", invite.get("Max-Forwards") or "70"))
    headers += [Header("Route", value) for value in invite.get_all("Route")]
    headers += [
        Header("From", invite.get("From") or ""),
        Header("To", invite.get("To") or ""),
        Header("Call-ID", invite.call_id()),
        Header("CSeq", f"{invite.cseq().seq} CANCEL"),
        Header("Content-Length", "0"),
    ]
    return SipRequest(method="CANCEL", uri=invite.uri, headers=headers, version=invite.version)
