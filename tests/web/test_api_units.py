"""The API's sans-IO parts with a test clock: event history and channels, Digest nonces and header
parsing, Active URI key sequences and source addresses."""

from __future__ import annotations

import asyncio
import gc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portier.events import Event, EventBus, InputChanged, RelayChanged
from portier.web.active_uri import Key, parse_keys, source_allowed
from portier.web.api import record_events
from portier.web.api_digest import DigestAnswer, DigestRefused, NonceTable, parse_params
from portier.web.event_history import EventHistory, UnknownChannel, parse_filter, parse_include

# --- event history ------------------------------------------------------------------------------------


def test_channel_sees_only_new_matching_events_once() -> None:
    history = EventHistory()
    history.record(RelayChanged(1, True, "http"), now=10)
    channel = history.subscribe(frozenset({"RelayChanged"}), "new", 90, now=11)
    history.record(InputChanged(1, True), now=12)
    history.record(RelayChanged(1, False, "http"), now=13)
    found, lost = history.take(channel.id, now=14)
    assert [(e.id, e.event) for e in found] == [(3, RelayChanged(1, False, "http"))] and lost == 0
    assert history.take(channel.id, now=15) == ([], 0)


def test_include_all_and_recent_seconds() -> None:
    history = EventHistory()
    for at in (100, 200, 300):
        history.record(InputChanged(1, at == 200), now=at)
    everything = history.subscribe(None, "all", 90, now=301)
    recent = history.subscribe(None, parse_include("-150"), 90, now=301)
    assert [e.at for e in history.take(everything.id, now=302)[0]] == [100, 200, 300]
    assert [e.at for e in history.take(recent.id, now=302)[0]] == [200, 300]


def test_events_that_left_the_history_are_counted_as_lost() -> None:
    history = EventHistory(capacity=3)
    channel = history.subscribe(None, "new", 90, now=0)
    for n in range(5):
        history.record(InputChanged(1, n % 2 == 0), now=n)
    found, lost = history.take(channel.id, now=6)
    assert [e.id for e in found] == [3, 4, 5] and lost == 2


def test_unpulled_channels_expire_and_the_oldest_gives_way() -> None:
    history = EventHistory(max_channels=2)
    first = history.subscribe(None, "new", 10, now=0)
    second = history.subscribe(None, "new", 10, now=1)
    history.take(first.id, now=5)  # renewed until 15
    third = history.subscribe(None, "new", 10, now=6)  # evicts the second (expires at 11)
    with pytest.raises(UnknownChannel):
        history.take(second.id, now=7)
    with pytest.raises(UnknownChannel):
        history.take(first.id, now=15.5)
    assert history.take(third.id, now=15.5) == ([], 0)


async def test_pull_waits_for_a_matching_event() -> None:
    history = EventHistory()
    channel = history.subscribe(frozenset({"RelayChanged"}), "new", 90, now=0)
    pull = asyncio.create_task(history.pull(channel.id, timeout=10, clock=lambda: 1.0))
    await asyncio.sleep(0)
    history.record(InputChanged(2, True), now=1)  # wakes the pull, which goes back to waiting
    await asyncio.sleep(0)
    assert not pull.done()
    history.record(RelayChanged(2, True, "dtmf"), now=1)
    found, _ = await asyncio.wait_for(pull, 5)
    assert [e.event for e in found] == [RelayChanged(2, True, "dtmf")]
    assert await history.pull(channel.id, timeout=0, clock=lambda: 2.0) == ([], 0)


def test_filter_and_include_errors_name_the_problem() -> None:
    assert parse_filter(" relaychanged ,InputChanged") == frozenset({"RelayChanged", "InputChanged"})
    assert parse_filter("") is None
    with pytest.raises(ValueError, match="DoorBell"):
        parse_filter("RelayChanged,DoorBell")
    with pytest.raises(ValueError, match="-SECONDS"):
        parse_include("-x")


# --- Digest -------------------------------------------------------------------------------------------


def test_nonces_expire_and_counts_are_single_use() -> None:
    table = NonceTable(lifetime=300, capacity=2)
    nonce = table.issue(now=0)
    assert table.use(nonce, "00000002", now=1)
    assert table.use(nonce, "00000001", now=2)  # out of order is fine
    assert not table.use(nonce, "00000002", now=3)  # twice is not
    assert not table.use(nonce, "00000003", now=300)  # expired
    first, second, third = table.issue(0), table.issue(0), table.issue(0)
    assert not table.use(first, "00000001", now=1)  # forgotten: past capacity
    assert table.use(second, "00000001", now=1) and table.use(third, "00000001", now=1)


def test_digest_parameters_with_quotes_and_commas() -> None:
    params = parse_params('username="a\\"b", realm="x, y", nc=00000001 , qop=auth,uri="/p?a=1,2"')
    assert params == {"username": 'a"b', "realm": "x, y", "nc": "00000001", "qop": "auth", "uri": "/p?a=1,2"}
    with pytest.raises(DigestRefused):
        parse_params("username")


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text(st.characters(codec="ascii")),
                       max_size=6))  # fmt: skip
def test_quoted_parameters_read_back(values: dict[str, str]) -> None:
    text = ", ".join(f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                     for k, v in values.items())  # fmt: skip
    assert parse_params(text) == values


@pytest.mark.parametrize(
    ("header", "why"),
    [
        ('username="a", realm="portier", nonce="n", uri="/", response="r"', "qop=auth"),
        ('username="a", realm="portier", nonce="n", uri="/", response="r", qop=auth, nc=1, cnonce="c"', "nc"),
        ('username="a", realm="portier", nonce="n", uri="/", response="r", qop=auth, nc=00000001, '
         'cnonce="c", algorithm=SHA-512-256', "algorithm"),
        ('username="a", realm="portier", nonce="n", uri="/", response="r", userhash=true', "userhash"),
        ('realm="portier", nonce="n", uri="/", response="r"', "username"),
    ],
)  # fmt: skip
def test_unusable_digest_answers_say_why(header: str, why: str) -> None:
    with pytest.raises(DigestRefused, match=why):
        DigestAnswer.parse(header)


# --- Active URI ---------------------------------------------------------------------------------------


def test_key_sequences() -> None:
    assert parse_keys("SPEAKER;1001;ENTER") == [Key("SPEAKER"), Key("TEXT", "1001"), Key("ENTER")]
    assert parse_keys("offhook; 1 ;STAR;pound;ok;onhook") == [
        Key("SPEAKER"), Key("TEXT", "1"), Key("TEXT", "*"), Key("TEXT", "#"), Key("ENTER"), Key("RELEASE"),
    ]  # fmt: skip
    assert parse_keys("sip:door@192.0.2.1:5062;ENTER")[0] == Key("TEXT", "sip:door@192.0.2.1:5062")
    for bad in ("", ";;", "F1", "SPEAKER;DND", "1 2"):
        with pytest.raises(ValueError):
            parse_keys(bad)


def test_source_addresses_and_networks() -> None:
    assert source_allowed("192.0.2.7", "192.0.2.7")
    assert source_allowed("192.0.2.7", "198.51.100.1, 192.0.2.0/24")
    assert source_allowed("::1", "::1")
    assert not source_allowed("192.0.2.7", "")
    assert not source_allowed("192.0.2.7", "not-an-address 192.0.2.8")
    assert not source_allowed(None, "192.0.2.7")


async def test_a_dropped_history_stops_listening() -> None:
    bus = EventBus()
    bus.start()
    history: EventHistory | None = EventHistory()
    assert history is not None
    record_events(bus, history)
    bus.publish(InputChanged(1, True))
    await bus.drain()
    assert history.last_id == 1
    history = None
    gc.collect()
    bus.publish(InputChanged(1, False))  # the first event after the drop unsubscribes the recorder
    await bus.drain()
    assert bus._handlers[Event] == []  # white-box: no subscriber is left behind
    await bus.stop()


async def test_interrupt_answers_a_waiting_pull() -> None:
    history = EventHistory()
    channel = history.subscribe(frozenset({"RelayChanged"}), "new", 90, now=0)
    pull = asyncio.create_task(history.pull(channel.id, timeout=60, clock=lambda: 1.0))
    await asyncio.sleep(0)
    history.interrupt()
    assert await asyncio.wait_for(pull, 5) == ([], 0)
