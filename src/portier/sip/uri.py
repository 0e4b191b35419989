"""SIP/SIPS URIs (RFC 3261 §19.1) and other absolute URIs kept opaque.

Why components are kept exactly as received (escapes included): a UA echoes URIs it did not mint
(Contact, Record-Route, Request-URI); sending back what we got avoids breaking peers that compare
bytes. Comparisons follow §19.1.4 instead, on a normalised form in which ``%75`` equals ``u`` but
an escaped reserved character (``%40``) stays distinct from the raw one (``@``).
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from functools import lru_cache

from portier.sip.errors import SipParseError

Param = tuple[str, str | None]

_ALNUM = string.ascii_letters + string.digits
_UNRESERVED = _ALNUM + "-_.!~*'()"
_USER = frozenset(_UNRESERVED + "&=+$,;?/%")
_PASSWORD = frozenset(_UNRESERVED + "&=+$,%")
_PARAM = frozenset(_UNRESERVED + "[]/:&+$%")
_HEADER = frozenset(_UNRESERVED + "[]/?:+$%")
_RESERVED = frozenset(";/?:@&=+$,")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_\-]*[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?")
_IPV4ISH = re.compile(r"[0-9.]+")
# §19.1.4: these parameters must match even when only one URI carries them.
_STICKY_PARAMS = ("user", "ttl", "method", "maddr")


def unescape(text: str) -> str:
    """Decode every %HH (UTF-8, undecodable octets kept as surrogates) - e.g. ``%00`` -> NUL."""
    raw = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        raw += text[pos : m.start()].encode("utf-8", "surrogateescape")
        raw.append(int(m.group(1), 16))
        pos = m.end()
    raw += text[pos:].encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "surrogateescape")


def normalize_escapes(text: str) -> str:
    """Canonical form for §19.1.4 comparisons: unescape all but reserved characters and ``%``."""

    def repl(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        if "!" <= ch <= "~" and ch not in _RESERVED and ch != "%":
            return ch
        return "%" + m.group(1).upper()

    return _ESCAPE.sub(repl, text)


def _check_host(host: str) -> None:
    """Accept an IPv4 address, a bracketed IPv6 reference or a hostname (RFC 3261 §25.1 host)."""
    if host.startswith("["):
        if not host.endswith("]"):
            raise SipParseError(f"IPv6 reference {host!r} lacks ']'")
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise SipParseError(f"invalid IPv6 address in {host!r}") from None
    elif _IPV4ISH.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise SipParseError(f"invalid IPv4 address {host!r}") from None
    elif not _HOSTNAME.fullmatch(host):
        raise SipParseError(f"invalid host {host!r}")


def parse_port(text: str, context: str) -> int:
    """A port is 1-5 digits in 0-65535; anything else names the element it came from."""
    if not text.isdigit() or not text.isascii() or len(text) > 5 or int(text) > 65535:
        raise SipParseError(f"{context}: port must be 0-65535, got {text!r}")
    return int(text)


def _check_chars(text: str, allowed: frozenset[str], what: str) -> None:
    for ch in text:
        if ch not in allowed:
            raise SipParseError(f"{what} {text!r} contains invalid character {ch!r}")
    if _BAD_ESCAPE.search(text):
        raise SipParseError(f"{what} {text!r} has a '%' not followed by two hex digits")


def _split_params(text: str) -> tuple[Param, ...]:
    params: list[Param] = []
    for item in text.split(";"):
        name, eq, value = item.partition("=")
        if not name:
            raise SipParseError(f"empty URI parameter in ';{text}'")
        _check_chars(name, _PARAM, "URI parameter name")
        if eq:
            _check_chars(value, _PARAM, "URI parameter value")
        params.append((name, value if eq else None))
    return tuple(params)


def _split_headers(text: str) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for item in text.split("&"):
        name, eq, value = item.partition("=")
        if not name or not eq:
            raise SipParseError(f"URI header {item!r} must be 'name=value'")
        _check_chars(name, _HEADER, "URI header name")
        _check_chars(value, _HEADER, "URI header value")
        headers.append((name, value))
    return tuple(headers)


@dataclass(frozen=True, eq=False)
class SipUri:
    """``sip:`` / ``sips:`` URI; ``==`` follows RFC 3261 §19.1.4, not field-by-field identity."""

    host: str
    scheme: str = "sip"
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: tuple[Param, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> SipUri:
        m = re.match(r"(?i)(sips?):", text)
        if m is None:
            raise SipParseError(f"not a SIP URI: {text!r}")
        scheme, rest = m.group(1).lower(), text[m.end() :]
        user = password = None
        if "@" in rest:
            userinfo, rest = rest.split("@", 1)
            user, colon, pw = userinfo.partition(":")
            password = pw if colon else None
            if not user:
                raise SipParseError(f"empty user part in {text!r}")
            _check_chars(user, _USER, "URI user")
            if password is not None:
                _check_chars(password, _PASSWORD, "URI password")
        rest, q, header_text = rest.partition("?")
        hostport, semi, param_text = rest.partition(";")
        if hostport.startswith("[") and "]" in hostport:
            end = hostport.index("]") + 1
            host, port_text = hostport[:end], hostport[end:]
        elif hostport.startswith("["):
            raise SipParseError(f"IPv6 reference without ']' in {text!r}")
        else:
            host, colon, port_text = hostport.partition(":")
            port_text = ":" + port_text if colon else ""
        if not host:
            raise SipParseError(f"missing host in {text!r}")
        check_host(host)
        port = None
        if port_text:
            if not port_text.startswith(":"):
                raise SipParseError(f"unexpected {port_text!r} after host in {text!r}")
            port = parse_port(port_text[1:], f"URI {text!r}")
        params = _split_params(param_text) if semi else ()
        headers = _split_headers(header_text) if q else ()
        return cls(host, scheme, user, password, port, params, headers)

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user if self.password is None else f"{self.user}:{self.password}")
            out.append("@")
        out.append(self.host if self.port is None else f"{self.host}:{self.port}")
        out.extend(f";{n}" if v is None else f";{n}={v}" for n, v in self.params)
        if self.headers:
            out.append("?" + "&".join(f"{n}={v}" for n, v in self.headers))
        return "".join(out)

    def has_param(self, name: str) -> bool:
        key = name.lower()
        return any(unescape(n).lower() == key for n, _ in self.params)

    def param(self, name: str) -> str | None:
        """Unescaped value of a URI parameter (``None`` if absent or valueless)."""
        key = name.lower()
        for n, v in self.params:
            if unescape(n).lower() == key:
                return None if v is None else unescape(v)
        return None

    def _params_norm(self) -> dict[str, str | None]:
        return {
            normalize_escapes(n).lower(): None if v is None else normalize_escapes(v).lower()
            for n, v in self.params
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SipUri):
            return NotImplemented
        if self._key() != other._key():
            return False
        mine, theirs = self._params_norm(), other._params_norm()
        for name in _STICKY_PARAMS:
            if (name in mine) != (name in theirs):
                return False
        if any(mine[n] != theirs[n] for n in mine.keys() & theirs.keys()):
            return False
        return sorted(_norm_headers(self.headers)) == sorted(_norm_headers(other.headers))

    def _key(self) -> tuple[str, str | None, str | None, str, int | None]:
        user = None if self.user is None else normalize_escapes(self.user)
        password = None if self.password is None else normalize_escapes(self.password)
        return (self.scheme, user, password, self.host.lower(), self.port)

    def __hash__(self) -> int:
        return hash(self._key())


def _norm_headers(headers: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    return [(normalize_escapes(n).lower(), normalize_escapes(v)) for n, v in headers]


@dataclass(frozen=True)
class OpaqueUri:
    """Any other absolute URI (tel:, http:, isbn:, soap.beep: ...): scheme plus untouched rest."""

    scheme: str
    rest: str

    @classmethod
    def parse(cls, text: str) -> OpaqueUri:
        scheme, colon, rest = text.partition(":")
        if not colon or not _SCHEME.fullmatch(scheme):
            raise SipParseError(f"not an absolute URI: {text!r}")
        if not rest or any(ch <= " " or ch in '<>"\x7f' for ch in rest):
            raise SipParseError(f"URI {text!r} is empty or contains spaces, quotes or <>")
        return cls(scheme.lower(), rest)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


Uri = SipUri | OpaqueUri


def _parse_uri(text: str) -> Uri:
    """Parse a SIP/SIPS URI fully and any other absolute URI opaquely (RFC 3261 §19.1, §25.1)."""
    if re.match(r"(?i)sips?:", text):
        return SipUri.parse(text)
    return OpaqueUri.parse(text)


@lru_cache(maxsize=1024)
def check_host(host: str) -> None:
    """Memoised ``_check_host`` (address parsing is the costly part of reading a URI)."""
    _check_host(host)


@lru_cache(maxsize=1024)
def parse_uri(text: str) -> Uri:
    """Memoised ``_parse_uri``; URIs are immutable values."""
    return _parse_uri(text)
