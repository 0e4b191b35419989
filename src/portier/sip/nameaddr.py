"""name-addr / addr-spec header values: From, To, Contact, Route, Record-Route (RFC 3261 §20.10).

Why the strictness: RFC 4475 §3.1.2.6/.13/.14/.15 show what goes wrong when a parser guesses
(unbalanced quotes, an addr-spec whose ``?`` or ``;`` belongs to the URI, spaces inside ``<>``,
commas in an unquoted display name); guessing differently than the sender breaks dialogs, so those
are 400s. Serialisation always uses ``<>`` so URI parameters never turn into header parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from portier.sip.errors import SipParseError
from portier.sip.headers import (
    WS,
    find_param,
    format_params,
    is_token,
    quote,
    scan_params,
    scan_quoted,
    skip_ws,
    split_values,
)
from portier.sip.uri import Param, Uri, parse_uri


@dataclass(frozen=True)
class NameAddr:
    """``"Display" <uri>;tag=x;expires=60`` - display name decoded, params kept as sent."""

    uri: Uri
    display_name: str | None = None
    params: tuple[Param, ...] = ()

    @property
    def tag(self) -> str | None:
        return find_param(self.params, "tag")[1]

    def param(self, name: str) -> str | None:
        return find_param(self.params, name)[1]

    def has_param(self, name: str) -> bool:
        return find_param(self.params, name)[0]

    def __str__(self) -> str:
        name = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{name}<{self.uri}>{format_params(self.params)}"


def _display_tokens(text: str, context: str) -> str | None:
    words = text.split()
    for word in words:
        if not is_token(word):
            bad = next(ch for ch in word if not is_token(ch))
            raise SipParseError(
                f"{context}: display name {text.strip()!r} contains {bad!r}, which needs quotes"
            )
    return " ".join(words) or None


def _parse_name_addr(value: str, context: str = "header") -> NameAddr:
    """Parse ``( name-addr / addr-spec ) *( SEMI param )``."""
    pos = skip_ws(value, 0)
    display: str | None = None
    if pos < len(value) and value[pos] == '"':
        try:
            _, display, pos = scan_quoted(value, pos)
        except SipParseError:
            raise SipParseError(f"{context}: unterminated quoted display name in {value!r}") from None
        pos = skip_ws(value, pos)
        if pos >= len(value) or value[pos] != "<":
            raise SipParseError(f"{context}: quoted display name must be followed by '<uri>'")
    else:
        angle = value.find("<", pos)
        if angle >= 0:
            display = _display_tokens(value[pos:angle], context)
            pos = angle
    if pos < len(value) and value[pos] == "<":
        end = value.find(">", pos)
        if end < 0:
            raise SipParseError(f"{context}: '<' without '>' in {value!r}")
        inner = value[pos + 1 : end]
        if inner != inner.strip(WS):
            raise SipParseError(f"{context}: whitespace inside <> around the URI in {value!r}")
        uri = parse_uri(inner)
        pos = end + 1
    else:
        start = pos
        while pos < len(value) and value[pos] not in " \t;":
            pos += 1
        text = value[start:pos]
        if not text:
            raise SipParseError(f"{context}: missing URI in {value!r}")
        if "?" in text or "," in text:
            raise SipParseError(f"{context}: a URI with '?' or ',' must be enclosed in <> (RFC 3261 §20)")
        uri = parse_uri(text)
    params, pos = scan_params(value, pos, context)
    if pos != len(value):
        raise SipParseError(f"{context}: unexpected {value[pos:]!r} after the address")
    return NameAddr(uri, display, params)


def parse_name_addr_list(value: str, context: str = "header") -> list[NameAddr]:
    """Contact/Route/Record-Route lists; ``Contact: *`` yields an empty list (see ``is_star``)."""
    if is_star(value):
        return []
    items = split_values(value)
    if any(not item for item in items):
        raise SipParseError(f"{context}: empty element in {value!r}")
    return [parse_name_addr(item, context) for item in items]


def is_star(value: str) -> bool:
    """``Contact: *`` (REGISTER with Expires: 0, RFC 3261 §10.2.2)."""
    return value.strip(WS) == "*"


@lru_cache(maxsize=1024)
def parse_name_addr(value: str, context: str = "header") -> NameAddr:
    """Memoised ``_parse_name_addr``: From/To/Contact are read several times per message; NameAddr is
    immutable, and errors are not cached (they raise again)."""
    return _parse_name_addr(value, context)
