"""Fresh identifiers for requests and dialogs (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3).

Branches carry the RFC 3261 magic cookie so peers match transactions by branch; tags and Call-IDs
hold enough randomness (>= 32 bits, §19.3) that two devices never pick the same one.
"""

from __future__ import annotations

import secrets

from portier.sip.via import MAGIC_COOKIE


def new_branch() -> str:
    return f"{MAGIC_COOKIE}{secrets.token_hex(10)}"


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str = "") -> str:
    token = secrets.token_hex(12)
    return f"{token}@{host}" if host else token
