"""What the speaker should play for the calls there are (phone/tone_player.py's pure part), and which
cadence a Tone page setting means."""

from __future__ import annotations

import pytest

from portier.media.tones import country_tones, effective_cadence, parse_cadence
from portier.phone.tone_player import (
    BUSY,
    CALL_WAITING,
    EARLY_MEDIA,
    RING,
    RINGBACK,
    CallView,
    Cue,
    country_of,
    cue_for,
    ends_busy,
    ring_name,
    tone_generator,
)
from portier.settings.document import find, with_values
from portier.settings.schema import Settings
from portier.settings.values import from_text


def calls(*views: CallView) -> dict[str, CallView]:
    return {view.call_id: view for view in views}


def settings(**values: str) -> Settings:
    return with_values(Settings(), {find(key): from_text(find(key), value) for key, value in values.items()})


def test_an_incoming_call_rings_and_an_alerting_one_hears_ringback() -> None:
    assert cue_for({}, None) is None
    assert cue_for(calls(CallView("a", 1, "incoming", "Ringing")), None) == Cue(RING, "a", 1)
    assert cue_for(calls(CallView("b", 0, "outgoing", "Alerting")), None) == Cue(RINGBACK, "b", 0)
    assert cue_for(calls(CallView("b", 0, "outgoing", "Calling")), None) is None
    assert cue_for(calls(CallView("b", 0, "outgoing", "Alerting", EARLY_MEDIA)), None) is None
    assert cue_for(calls(CallView("a", 1, "incoming", "Talking")), None) is None


def test_a_second_call_during_a_call_gets_call_waiting_not_a_ring() -> None:
    for state in ("Talking", "Held"):
        live = calls(CallView("a", 1, "incoming", state), CallView("b", 2, "incoming", "Ringing"))
        assert cue_for(live, None) == Cue(CALL_WAITING, "b", 2)


def test_ringing_comes_before_ringback_and_busy_plays_only_when_nothing_else_does() -> None:
    busy = Cue(BUSY, "old", 1)
    assert cue_for({}, busy) == busy
    live = calls(CallView("b", 0, "outgoing", "Alerting"), CallView("a", 1, "incoming", "Ringing"))
    assert cue_for(live, busy) == Cue(RING, "a", 1)


@pytest.mark.parametrize(
    ("reason", "busy"),
    [
        ("486 Busy Here", True),
        ("600 Busy Everywhere", True),
        ("603 Decline", True),
        ("404 Not Found", False),
        ("remote hangup", False),
        ("", False),
    ],
)
def test_busy_follows_busy_and_decline(reason: str, busy: bool) -> None:
    assert ends_busy(reason) is busy


def test_a_line_rings_with_its_own_ring_type_else_the_default() -> None:
    plain = Settings()
    assert ring_name(plain, 1) == "Type 1"
    assert ring_name(plain, 0) == "Type 1"
    chosen = settings(**{"Ring Type": "Type 4", "SIP2 Ring Type": "doorbell.mp3"})
    assert ring_name(chosen, 1) == "Type 4"  # SIP1 Ring Type is "default"
    assert ring_name(chosen, 2) == "doorbell.mp3"
    assert ring_name(chosen, 0) == "Type 4"


def test_tones_come_from_the_country_unless_a_custom_cadence_is_set() -> None:
    uk = settings(**{"Select Your Tone": "UK"})
    assert country_of(uk) == "UK"
    generator = tone_generator(uk, RINGBACK)
    assert generator is not None and str(generator.cadence) == country_tones("UK").ringback
    custom = settings(**{"Select Your Tone": "UK", "Busy Tone": "480+620/500,0/500"})
    busy = tone_generator(custom, BUSY)
    assert busy is not None and str(busy.cadence) == "480+620/500,0/500"
    waiting = tone_generator(Settings(), CALL_WAITING)
    assert waiting is not None and str(waiting.cadence) == country_tones("USA").call_waiting
    assert tone_generator(settings(**{"Select Your Tone": "CUSTOM"}), RINGBACK) is None


def test_effective_cadence_falls_back_to_the_preset_when_the_custom_one_is_unplayable() -> None:
    assert effective_cadence("dial", "", "GERMANY") == parse_cadence("425/0")
    assert effective_cadence("dial", "440*0/0", "GERMANY") == parse_cadence("425/0")
    assert effective_cadence("dial", "350+440/0", None) == parse_cadence("350+440/0")
    assert effective_cadence("holding", "", "USA") is None
    assert effective_cadence("dial", "", None) is None
