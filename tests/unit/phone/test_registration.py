"""The registration machine with a fake clock: every rule of manual 9.12 in microseconds."""

from __future__ import annotations

from dataclasses import replace

from portier.phone.registration import (
    LineStatus,
    Purpose,
    Registration,
    SendKeepAlive,
    SendRegister,
    StatusChanged,
)
from portier.phone.registration_config import RegistrationConfig, Server
from portier.sip.auth import AuthAccount
from portier.sip.message import Header, SipResponse

S1 = Server("127.0.0.1", 5070, "UDP", 3600)
S2 = Server("127.0.0.2", 5080, "UDP", 600)
CONFIG = RegistrationConfig(
    line=1,
    user="door",
    account=AuthAccount("door", "secret"),
    servers=(S1, S2),
    retry_interval=32.0,
    retry_counts=2,
    failback_interval=60.0,
)


def response(status: int, *headers: tuple[str, str], reason: str = "") -> SipResponse:
    return SipResponse(status=status, reason=reason, headers=[Header(n, v) for n, v in headers])


def sends(actions: list[object]) -> list[SendRegister]:
    return [a for a in actions if isinstance(a, SendRegister)]


def statuses(actions: list[object]) -> list[LineStatus]:
    return [a.status for a in actions if isinstance(a, StatusChanged)]


def registered(machine: Registration, now: float, expires: int = 120) -> list[object]:
    return list(machine.on_response(response(200, ("Expires", str(expires))), now))


def test_start_sends_register_and_reports_trying() -> None:
    machine = Registration(CONFIG)
    actions = machine.start(0.0)
    assert statuses(actions) == [LineStatus.TRYING]
    (send,) = sends(actions)
    assert (send.server, send.purpose, send.expires, send.cseq, send.credentials) == (
        0,
        Purpose.REGISTER,
        3600,
        1,
        (),
    )


def test_registered_refreshes_at_half_the_granted_expiry_with_same_call_id() -> None:
    machine = Registration(CONFIG)
    first = sends(machine.start(0.0))[0]
    assert statuses(registered(machine, 1.0, expires=120)) == [LineStatus.REGISTERED]
    assert machine.granted == 120
    assert machine.next_deadline() == 61.0
    assert machine.handle_timer(60.0) == []
    (refresh,) = sends(machine.handle_timer(61.0))
    assert refresh.call_id == first.call_id and refresh.cseq == first.cseq + 1
    assert statuses(registered(machine, 62.0)) == []  # still Registered: no change reported


def test_contact_expires_wins_over_header_and_server_expire_off_keeps_the_asked_value() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    machine.on_response(response(200, ("Expires", "900")), 0.0, contact_expires=300)
    assert machine.granted == 300
    own = Registration(replace(CONFIG, server_expire=False))
    own.start(0.0)
    own.on_response(response(200, ("Expires", "900")), 0.0, contact_expires=300)
    assert own.granted == 3600


def test_digest_challenge_is_answered_and_a_rejected_password_fails() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    challenge = ("WWW-Authenticate", 'Digest realm="pbx", nonce="abc", qop="auth", algorithm=MD5')
    (retry,) = sends(machine.on_response(response(401, challenge), 0.1))
    names = [name for name, _ in retry.credentials]
    assert names == ["Authorization"] and "nc=00000001" in retry.credentials[0][1]
    assert retry.cseq == 2
    actions = machine.on_response(response(401, ("WWW-Authenticate", 'Digest realm="pbx", nonce="def"')), 0.2)
    assert statuses(actions) == [LineStatus.FAILED]
    assert "rejected" in machine.reason and sends(actions) == []
    assert machine.next_deadline() == 0.2 + 32.0


def test_proxy_challenge_407() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    challenge = ("Proxy-Authenticate", 'Digest realm="proxy", nonce="n1"')
    (retry,) = sends(machine.on_response(response(407, challenge), 0.1))
    assert retry.credentials[0][0] == "Proxy-Authorization"


def test_keep_authentication_sends_credentials_preemptively_on_refresh() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    machine.on_response(
        response(401, ("WWW-Authenticate", 'Digest realm="pbx", nonce="abc", qop="auth"')), 0.1
    )
    registered(machine, 0.2)
    (refresh,) = sends(machine.handle_timer(1000.0))
    assert refresh.credentials and "nc=00000002" in refresh.credentials[0][1]
    plain = Registration(replace(CONFIG, keep_authentication=False))
    plain.start(0.0)
    plain.on_response(response(401, ("WWW-Authenticate", 'Digest realm="pbx", nonce="abc", qop="auth"')), 0.1)
    registered(plain, 0.2)
    assert sends(plain.handle_timer(1000.0))[0].credentials == ()


def test_423_asks_again_with_min_expires_and_remembers_it() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    (again,) = sends(machine.on_response(response(423, ("Min-Expires", "7200")), 0.1))
    assert again.expires == 7200
    registered(machine, 0.2, expires=7200)
    assert sends(machine.handle_timer(5000.0))[0].expires == 7200


def test_423_without_a_larger_min_expires_fails_instead_of_looping() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    actions = machine.on_response(response(423, ("Min-Expires", "60")), 0.1)
    assert statuses(actions) == [LineStatus.FAILED] and sends(actions) == []


def test_403_fails_with_the_reason_and_retries_after_the_retry_time() -> None:
    machine = Registration(replace(CONFIG, servers=(S1,)))
    machine.start(0.0)
    actions = machine.on_response(response(403, reason="Forbidden"), 1.0)
    assert statuses(actions) == [LineStatus.FAILED] and machine.reason == "403 Forbidden"
    assert machine.next_deadline() == 33.0
    again = machine.handle_timer(33.0)
    assert statuses(again) == [LineStatus.TRYING] and len(sends(again)) == 1


def test_503_retry_after_delays_the_next_attempt() -> None:
    machine = Registration(replace(CONFIG, servers=(S1,), retry_interval=1.0))
    machine.start(0.0)
    machine.on_response(response(503, ("Retry-After", "5 (maintenance);duration=10")), 1.0)
    assert machine.next_deadline() == 6.0


def test_timeouts_fail_over_to_server_2_after_retry_counts_then_fail_back() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    assert statuses(machine.on_failure("no response (timer F)", True, 32.0)) == [LineStatus.TIMEOUT]
    assert machine.next_deadline() == 64.0
    (second,) = sends(machine.handle_timer(64.0))
    assert second.server == 0
    actions = machine.on_failure("no response (timer F)", True, 96.0)
    (switch,) = sends(actions)
    assert switch.server == 1 and switch.expires == 600
    assert statuses(registered(machine, 97.0, expires=600)) == [LineStatus.REGISTERED]
    assert machine.server == 1
    # Failback probe after the interval; a failed probe keeps the line where it is.
    (probe,) = sends(machine.handle_timer(157.0))
    assert (probe.server, probe.purpose) == (0, Purpose.PROBE)
    assert machine.on_failure("no response", True, 189.0) == []
    assert machine.status is LineStatus.REGISTERED and machine.server == 1
    (probe2,) = sends(machine.handle_timer(249.0))
    assert probe2.purpose is Purpose.PROBE
    assert statuses(registered(machine, 250.0)) == [LineStatus.REGISTERED]
    assert machine.server == 0


def test_failback_off_stays_on_server_2() -> None:
    machine = Registration(replace(CONFIG, enable_failback=False, retry_counts=1))
    machine.start(0.0)
    machine.on_failure("refused", False, 0.1)
    registered(machine, 0.2, expires=100000)
    assert machine.server == 1
    assert all(s.server == 1 for s in sends(machine.handle_timer(60000.0)))


def test_unregister_on_boot_clears_all_bindings_first() -> None:
    machine = Registration(replace(CONFIG, unregister_on_boot=True))
    (clear,) = sends(machine.start(0.0))
    assert (clear.purpose, clear.expires) == (Purpose.CLEAR, 0)
    (register,) = sends(machine.on_response(response(200), 0.1))
    assert register.purpose is Purpose.REGISTER and register.expires == 3600


def test_stop_unregisters_a_bound_line() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    registered(machine, 0.1)
    actions = machine.stop(1.0)
    (bye,) = sends(actions)
    assert (bye.purpose, bye.expires) == (Purpose.UNREGISTER, 0)
    assert statuses(actions) == [LineStatus.UNAPPLIED]
    assert machine.next_deadline() is None


def test_keepalive_only_while_registered() -> None:
    machine = Registration(replace(CONFIG, keepalive_interval=30.0))
    machine.start(0.0)
    assert machine.next_deadline() is None  # waiting for the response, nothing scheduled
    registered(machine, 1.0, expires=3600)
    assert machine.next_deadline() == 31.0
    assert machine.handle_timer(31.0) == [SendKeepAlive(0)]
    machine.handle_timer(1801.0)  # refresh goes out
    machine.on_response(response(403), 1802.0)
    assert machine.next_deadline() == 1802.0 + 32.0  # keep-alive stopped, retry scheduled


def test_no_server_configured_fails_clearly() -> None:
    machine = Registration(replace(CONFIG, servers=()))
    actions = machine.start(0.0)
    assert statuses(actions) == [LineStatus.FAILED] and "no SIP server" in machine.reason


def test_unregister_answers_a_challenge_once() -> None:
    machine = Registration(CONFIG)
    machine.start(0.0)
    registered(machine, 0.1)
    machine.stop(1.0)
    challenge = ("WWW-Authenticate", 'Digest realm="pbx", nonce="abc"')
    (again,) = sends(machine.on_response(response(401, challenge), 1.1))
    assert again.purpose is Purpose.UNREGISTER and again.expires == 0 and again.credentials
    assert (
        machine.on_response(response(401, ("WWW-Authenticate", 'Digest realm="pbx", nonce="x"')), 1.2) == []
    )
