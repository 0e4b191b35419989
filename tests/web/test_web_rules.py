"""The web's pure rules, without a browser: the login lock and sessions on a moved clock, the web filter,
form parsing, table rows, the /proc readers, and that the menu covers every setting exactly once."""

from __future__ import annotations

from collections import Counter

from portier.settings.declare import leaves
from portier.settings.document import find
from portier.settings.records import RestrictedIncoming, UserLevel, WebFilterRange
from portier.settings.schema import Settings
from portier.web.auth import Lockout, Sessions
from portier.web.forms import CLEAR, page_leaves, parse, sections
from portier.web.info import duration, parse_default_route, parse_meminfo
from portier.web.menu import MENU
from portier.web.tables import TABLES, parse_row
from portier.web.webfilter import in_ranges, lockout_problem, range_problem


def lock(lockout: Lockout, address: str, user: str, now: float) -> tuple[str, ...]:
    return lockout.failed(address, user, now, attempts=3, lock_seconds=300)


def test_three_failures_from_one_address_lock_it_for_five_minutes() -> None:
    lockout = Lockout()
    assert lock(lockout, "10.0.0.1", "a", 0) == ()
    assert lock(lockout, "10.0.0.1", "b", 1) == ()
    assert lock(lockout, "10.0.0.1", "c", 2) == ("address",)
    assert lockout.locked("10.0.0.1", "admin", 3) == ("address", 299)
    assert lockout.locked("10.0.0.2", "admin", 3) is None
    assert lockout.locked("10.0.0.1", "admin", 302.5) is None
    assert lock(lockout, "10.0.0.1", "d", 303) == ()  # counting starts afresh after the lock


def test_three_failures_for_one_user_name_lock_it_across_addresses() -> None:
    lockout = Lockout()
    for number in range(1, 3):
        assert lock(lockout, f"10.0.0.{number}", "Admin", number) == ()
    assert lock(lockout, "10.0.0.3", "admin", 3) == ("user name",)
    assert lockout.locked("10.0.0.9", "ADMIN", 4) == ("user name", 299)
    assert lockout.locked("10.0.0.9", "viewer", 4) is None


def test_a_good_login_clears_both_counters() -> None:
    lockout = Lockout()
    lock(lockout, "10.0.0.1", "admin", 0)
    lock(lockout, "10.0.0.1", "admin", 1)
    lockout.succeeded("10.0.0.1", "admin")
    assert lock(lockout, "10.0.0.1", "admin", 2) == ()


def test_the_lock_table_stays_bounded() -> None:
    lockout = Lockout()
    for number in range(10_000):
        lock(lockout, "10.0.0.1", f"user{number}", 0)
    assert len(lockout._counters) <= 4096


def test_sessions_time_out_when_idle_or_renew_with_automatic_login() -> None:
    sessions = Sessions()
    session = sessions.create("admin", UserLevel.ADMIN, now=0)
    assert sessions.lookup(session.token, 800, timeout=900, auto_login=False).session is session
    assert sessions.lookup(session.token, 1600, timeout=900, auto_login=False).session is session
    gone = sessions.lookup(session.token, 2501, timeout=900, auto_login=False)
    assert gone.session is None and gone.expired
    assert sessions.lookup(session.token, 2502, timeout=900, auto_login=False).expired is False
    kept = sessions.create("viewer", UserLevel.USER, now=0)
    renewed = sessions.lookup(kept.token, 5000, timeout=900, auto_login=True).session
    assert renewed is kept and kept.renewed == 1
    assert session.csrf != kept.csrf and len(session.token) >= 40


def test_dropping_a_user_keeps_the_session_that_did_it() -> None:
    sessions = Sessions()
    mine = sessions.create("admin", UserLevel.ADMIN, 0)
    other = sessions.create("admin", UserLevel.ADMIN, 0)
    sessions.drop_user("admin", keep=mine.token)
    assert sessions.lookup(mine.token, 1, timeout=60, auto_login=False).session is mine
    assert sessions.lookup(other.token, 1, timeout=60, auto_login=False).session is None


def test_web_filter_ranges() -> None:
    ranges = [WebFilterRange(start_ip="192.168.1.10", end_ip="192.168.1.20")]
    assert in_ranges("192.168.1.10", ranges) and in_ranges("192.168.1.20", ranges)
    assert in_ranges("::ffff:192.168.1.15", ranges)
    assert not in_ranges("192.168.1.21", ranges) and not in_ranges("not an address", ranges)
    assert lockout_problem(False, [], "10.0.0.1") is None
    assert lockout_problem(True, ranges, "192.168.1.11") is None
    problem = lockout_problem(True, ranges, "10.0.0.1")
    assert problem is not None and "10.0.0.1" in problem
    assert range_problem("10.0.0.9", "10.0.0.1") is not None
    assert range_problem("10.0.0.1", "10.0.0.1") is None


def test_form_parsing_keeps_secrets_unless_cleared_and_reads_absent_boxes_as_off() -> None:
    prefixes = ("lines.sip1.",)
    password, activate = find("SIP1 Register Pswd"), find("SIP1 Enable Reg")
    kept = parse(prefixes, {"lines.sip1.username": "1001"})
    assert password not in kept.values and kept.values[activate] is False
    cleared = parse(prefixes, {CLEAR + password.dotted: "1"})
    assert cleared.values[password] == ""
    bad = parse(prefixes, {"lines.sip1.server1.port": "70000", "lines.sip1.server1.transport": "SCTP"})
    assert (
        bad.errors["lines.sip1.server1.port"]
        == "`SIP1 Register Port` must be a whole number in 1-65535, got '70000'"
    )
    assert "SIP1 Transport" in bad.errors["lines.sip1.server1.transport"]


def test_forms_never_show_a_secret() -> None:
    settings = Settings().model_copy(deep=True)
    settings.lines.sip1.auth_password = "hunter2"
    fields = [f for section in sections(("lines.sip1.",), settings) for f in section.fields]
    secret = next(f for f in fields if f.name == "lines.sip1.auth_password")
    assert secret.kind == "password" and secret.value == "" and secret.has_value


def test_table_rows_are_checked_with_sentences() -> None:
    row, errors = parse_row(TABLES["restricted_incoming"], {"number": "0900", "prefix": "1", "line": "AUTO"})
    assert errors == {} and isinstance(row, RestrictedIncoming) and row.prefix is True
    _, errors = parse_row(TABLES["web_filter"], {"start_ip": "10.0.0.300", "end_ip": "10.0.0.1"})
    assert errors["start_ip"] == "Start IP must be an IPv4 address such as 192.168.1.10, got '10.0.0.300'"
    _, errors = parse_row(TABLES["firewall_rules"], {"direction": "SIDEWAYS"})
    assert errors["direction"].startswith("Direction must be one of INPUT, OUTPUT")


def test_proc_readers() -> None:
    route = (
        "Iface\tDestination\tGateway\tFlags\n"
        "wlan0\t0000A8C0\t00000000\t0001\n"
        "eth0\t00000000\t0101A8C0\t0003\n"
    )
    assert parse_default_route(route) == ("eth0", "192.168.1.1")
    assert parse_default_route("Iface\tDestination\n") is None
    assert parse_meminfo("MemTotal:  2048000 kB\nMemAvailable: 1024000 kB\nHugePages_Total: 0\n") == {
        "MemTotal": 2048000,
        "MemAvailable": 1024000,
    }
    assert duration(90061) == "1 d 01:01:01" and duration(59) == "00:00:59"


def test_every_setting_is_on_exactly_one_page() -> None:
    shown = Counter(leaf.dotted for page in MENU for leaf in page_leaves(page.all_prefixes()))
    assert [leaf.dotted for leaf in leaves(Settings) if shown[leaf.dotted] != 1] == []
    tables = [table for page in MENU for table in page.tables]
    assert sorted(tables) == sorted(TABLES)
