"""Sans-IO SIP: messages, URIs and header grammar (RFC 3261) with no sockets and no clock.

The edges (transport, resolver) feed bytes in and take bytes out; everything here is a pure
function of its input, which is what lets the RFC 4475 vectors and hypothesis test it directly.
"""

from portier.sip.errors import SipParseError
from portier.sip.framing import KeepAlive, StreamFramer
from portier.sip.message import Header, SipMessage, SipRequest, SipResponse, parse
from portier.sip.nameaddr import NameAddr
from portier.sip.uri import OpaqueUri, SipUri, Uri, parse_uri
from portier.sip.validate import Rejection, UasPolicy, check_request, check_response
from portier.sip.via import CSeq, Via

__all__ = [
    "CSeq",
    "Header",
    "KeepAlive",
    "NameAddr",
    "OpaqueUri",
    "Rejection",
    "SipMessage",
    "SipParseError",
    "SipRequest",
    "SipResponse",
    "SipUri",
    "StreamFramer",
    "UasPolicy",
    "Uri",
    "Via",
    "check_request",
    "check_response",
    "parse",
    "parse_uri",
]
