"""Intercom settings >> Time/Date (manual 9.20, Table 21).

Time plans (manual 9.21, Table 22) are rows of a storage table, not settings: they are not declared here.
"""

from __future__ import annotations

from enum import IntEnum

from .declare import Page, group, setting

CLOCK = "the system clock (timedatectl)"
IANA_ZONE = r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*$"


class DstSetType(IntEnum):
    AUTO = 0
    MANUAL = 1


class Weekday(IntEnum):
    SUNDAY = 0
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6


class DhcpTime(Page):
    """Time Synchronized via DHCP (Table 21); Fanvil files keep it with the DHCP client settings."""

    fanvil_module = "NET CONFIG MODULE"

    enable: bool = setting(False, key="DHCP Auto Time", label="Time Synchronized via DHCP",
                           help="Take the time server and offset from the DHCP lease.", host=CLOCK)


class Dst(Page):
    """Daylight Saving Time Settings of Table 21 (only used by zones given as fixed offsets)."""

    location: int = setting(0, key="DST Location", label="Location", ge=0,
                            help="Preset DST region (Fanvil's list); with an IANA time zone the zone's own "
                                 "rules apply.", host=CLOCK)
    set_type: DstSetType = setting(DstSetType.AUTO, key="DST Type", label="DST Set Type",
                                   help="AUTO follows the preset rules of the location; MANUAL uses the "
                                        "start and end below.", host=CLOCK)
    offset: int = setting(60, key="DST Min Offset", label="Offset", unit="min", ge=1, le=180,
                          help="How far clocks go forward during DST.", host=CLOCK)
    start_month: int = setting(3, key="DST Start Mon", label="Month Start", help="Month DST starts.",
                               host=CLOCK, ge=1, le=12)
    start_week: int = setting(5, key="DST Start Week", label="Week Start",
                              help="Week of the month DST starts (5 = last).", host=CLOCK, ge=1, le=5)
    start_weekday: Weekday = setting(Weekday.SUNDAY, key="DST Start Wday", label="Weekday Start",
                                     help="Weekday DST starts.", host=CLOCK)
    start_hour: int = setting(2, key="DST Start Hour", label="Hour Start", unit="h",
                              help="Hour DST starts.", host=CLOCK, ge=0, le=23)
    end_month: int = setting(10, key="DST End Mon", label="Month End", help="Month DST ends.",
                             host=CLOCK, ge=1, le=12)
    end_week: int = setting(5, key="DST End Week", label="Week End",
                            help="Week of the month DST ends (5 = last).", host=CLOCK, ge=1, le=5)
    end_weekday: Weekday = setting(Weekday.SUNDAY, key="DST End Wday", label="Weekday End",
                                   help="Weekday DST ends.", host=CLOCK)
    end_hour: int = setting(2, key="DST End Hour", label="Hour End", unit="h",
                            help="Hour DST ends.", host=CLOCK, ge=0, le=23)


class TimeDate(Page):
    """Intercom settings >> Time/Date (manual 9.20, Table 21)."""

    fanvil_module = "PHONE FEATURE MODULE"
    fanvil_section = "--DateTime Config--"

    sntp: bool = setting(False, key="Enable SNTP", label="Time Synchronized via SNTP",
                         help="Set the clock from the time servers below. Off by default: it reaches out "
                              "to the network.", host=CLOCK)
    dhcp: DhcpTime = group(DhcpTime, help="DHCP time")
    primary_server: str = setting("", key="SNTP Server", label="Primary Time Server",
                                  help="Time server asked first.", host=CLOCK)
    secondary_server: str = setting("", key="Second SNTP Server", label="Secondary Time Server",
                                    help="Time server asked when the primary one does not answer.",
                                    host=CLOCK)
    time_zone: str = setting("UTC", key="Time Zone Name", label="Time zone", pattern=IANA_ZONE,
                             help='IANA time zone name, e.g. "Europe/Berlin".', host=CLOCK)
    resync_period: int = setting(60, key="SNTP Timeout", label="Resync Period", unit="s", ge=60,
                                 le=86400, help="Interval between synchronisations with the time server.",
                                 host=CLOCK)
    dst: Dst = group(Dst, help="Daylight Saving Time Settings")
