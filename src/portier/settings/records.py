"""Rows of the device's data tables (manual 9.3, 9.21, 9.23, 9.26-9.29).

These are lists a person edits row by row, not settings with one value each, so they live
in SQLite tables (:mod:`portier.storage`), not in the settings document. Each row shape and
each table's size limit is declared here once; storage validates every row against it.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .declare import SINGLE_LINE

IPV4 = r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class Record(BaseModel):
    """A table row. ``limit`` caps the table's size (None: unlimited)."""

    model_config = ConfigDict(extra="forbid")

    table: ClassVar[str]
    limit: ClassVar[int | None] = None


class UserLevel(StrEnum):
    ADMIN = "admin"
    USER = "user"


class WebUser(Record):
    """A web login (System >> Account). Only the password hash is stored."""

    table = "users"
    limit = 16

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.@-]+$")
    password_hash: str = Field(min_length=1)
    level: UserLevel = UserLevel.USER


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    MISSED = "missed"


class CallRecord(Record):
    """One call in the call log."""

    table = "call_log"
    limit = 1000

    started: float = Field(description="Unix time the call began")
    direction: Direction
    line: str = Field(max_length=16, description="SIP1, SIP2 or P2P")
    remote: str = Field(max_length=256)
    name: str = Field(default="", max_length=128)
    duration: float = Field(default=0.0, ge=0)


class RestrictedIncoming(Record):
    """Call List >> Restricted Incoming Calls: a number or prefix that is rejected."""

    table = "restricted_incoming"
    limit = 100

    name: str = Field(default="", max_length=64, pattern=SINGLE_LINE)
    number: str = Field(min_length=1, max_length=64, pattern=r"^[^\s]+$")
    prefix: bool = Field(default=False, description="Match every number starting with `number`")
    line: str = Field(default="AUTO", max_length=8)


class RestrictedOutgoing(RestrictedIncoming):
    """Call List >> Restrict Outgoing Call."""

    table = "restricted_outgoing"


class WebFilterRange(Record):
    """Security >> Web filter: a range of client addresses allowed to use the web UI."""

    table = "web_filter"
    limit = 20

    start_ip: str = Field(pattern=IPV4)
    end_ip: str = Field(pattern=IPV4)


class FirewallDirection(StrEnum):
    INPUT = "input"
    OUTPUT = "output"


class FirewallProtocol(StrEnum):
    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"
    IP = "ip"


class FirewallRule(Record):
    """Security >> Firewall (Table 26); at most 10 input and 10 output rules."""

    table = "firewall_rules"
    limit = 20
    per_direction: ClassVar[int] = 10

    direction: FirewallDirection
    permit: bool = False
    protocol: FirewallProtocol = FirewallProtocol.IP
    src_address: str = Field(default="0.0.0.0", pattern=IPV4)
    src_mask: str = Field(default="0.0.0.0", pattern=IPV4)
    dst_address: str = Field(default="0.0.0.0", pattern=IPV4)
    dst_mask: str = Field(default="0.0.0.0", pattern=IPV4)
    src_port_range: str = Field(default="", pattern=r"^(\d{1,5}(-\d{1,5})?)?$")
    dst_port_range: str = Field(default="", pattern=r"^(\d{1,5}(-\d{1,5})?)?$")


class PlanType(IntEnum):
    RESTART = 0
    UPGRADE = 1
    SOUND_DETECTION = 2
    PLAY_AUDIO = 3


class Repeat(IntEnum):
    ONCE = 0
    DAILY = 1
    WEEKLY = 2
    MONTHLY = 3


class TimePlan(Record):
    """Intercom settings >> Time plan (Table 22)."""

    table = "time_plans"
    limit = 32

    name: str = Field(min_length=1, max_length=64, pattern=SINGLE_LINE)
    type: PlanType
    audio_file: str = Field(default="", max_length=128, description="Uploaded file played by PLAY_AUDIO")
    repeat: Repeat = Repeat.ONCE
    days: str = Field(default="", pattern=r"^[0-9,]*$", description="Weekdays 1-7 or days of month 1-31")
    date: str = Field(default="", pattern=r"^(\d{4}-\d{2}-\d{2})?$", description="Date for ONCE")
    start: str = Field(default="00:00", pattern=HHMM)
    end: str = Field(default="23:59", pattern=HHMM)


class FileKind(StrEnum):
    RINGTONE = "ringtone"
    TRUST_CERTIFICATE = "trust_certificate"
    DEVICE_CERTIFICATE = "device_certificate"
    OPENVPN = "openvpn"
    AUDIO = "audio"


class StoredFile(Record):
    """An uploaded file: ringtone, certificate, VPN file, audio for time plans."""

    table = "files"

    kind: FileKind
    name: str = Field(min_length=1, max_length=128, pattern=r"^[^/\\\x00-\x1f]+$")
    content: bytes


TABLES: tuple[type[Record], ...] = (
    WebUser,
    CallRecord,
    RestrictedIncoming,
    RestrictedOutgoing,
    WebFilterRange,
    FirewallRule,
    TimePlan,
    StoredFile,
)
