"""Which Action URL each event asks for (manual 9.19, Table 20): calls, lines, door, device."""

from __future__ import annotations

import pytest

from portier.events import (
    AddressChanged,
    ButtonChanged,
    CallStateChanged,
    CallTransferred,
    DeviceStarted,
    DeviceStopping,
    DndChanged,
    DtmfReceived,
    Event,
    ForwardChanged,
    InputChanged,
    LedChanged,
    LineStatusChanged,
    MessageReceived,
    RelayChanged,
    SettingsChanged,
)
from portier.services.action_url_events import TOGGLES, ActionMapper, CallContext, Trigger, toggle_trigger
from portier.settings.intercom_events import ActionUrl


def call(call_id: str, state: str, direction: str = "incoming", line: int = 1) -> CallStateChanged:
    return CallStateChanged(call_id, line, direction, state, f"sip:{call_id}@pbx", "")


def names(mapper: ActionMapper, *events: Event) -> list[str]:
    return [trigger.setting for event in events for trigger in mapper.triggers(event)]


def test_answered_incoming_call() -> None:
    mapper = ActionMapper()
    assert names(mapper, call("a", "Ringing")) == ["offhook", "incoming_call", "ringing"]
    assert names(mapper, call("a", "Talking")) == ["call_active", "talking"]
    assert names(mapper, call("a", "Ended")) == ["call_stop", "onhook", "idle"]


def test_incoming_call_that_never_talked_is_missed() -> None:
    mapper = ActionMapper()
    names(mapper, call("a", "Ringing"))
    assert names(mapper, call("a", "Ended")) == ["call_stop", "missed_call", "onhook", "idle"]


def test_outgoing_call_unanswered_is_not_missed() -> None:
    mapper = ActionMapper()
    assert names(mapper, call("b", "Calling", "outgoing")) == ["offhook", "outgoing_call"]
    assert names(mapper, call("b", "Alerting", "outgoing")) == []
    assert names(mapper, call("b", "Ended", "outgoing")) == ["call_stop", "onhook", "idle"]


def test_hold_and_resume_do_not_establish_the_call_again() -> None:
    mapper = ActionMapper()
    names(mapper, call("a", "Ringing"), call("a", "Talking"))
    assert names(mapper, call("a", "Held")) == ["hold_on"]
    assert names(mapper, call("a", "Held")) == []
    assert names(mapper, call("a", "Talking")) == ["hold_off"]
    assert names(mapper, call("a", "Talking")) == []


def test_busy_and_idle_follow_the_first_and_last_call() -> None:
    mapper = ActionMapper()
    assert names(mapper, call("a", "Ringing")) == ["offhook", "incoming_call", "ringing"]
    assert names(mapper, call("b", "Ringing")) == ["incoming_call", "ringing"]  # call waiting
    assert names(mapper, call("a", "Talking"), call("a", "Ended")) == ["call_active", "talking", "call_stop"]
    assert names(mapper, call("b", "Ended")) == ["call_stop", "missed_call", "onhook", "idle"]


def test_call_triggers_carry_the_call_and_its_line() -> None:
    mapper = ActionMapper()
    event = CallStateChanged("x@h", 2, "incoming", "Ringing", "sip:102@pbx")
    context = CallContext("x@h", 2, "incoming", "sip:102@pbx")
    assert mapper.triggers(event) == [
        Trigger("offhook", 2, context),
        Trigger("incoming_call", 2, context),
        Trigger("ringing", 2, context),
    ]


def test_end_of_a_call_never_seen_begin_is_only_a_stop() -> None:
    assert names(ActionMapper(), call("z", "Ended")) == ["call_stop"]


def test_dtmf_is_reported_with_its_call() -> None:
    mapper = ActionMapper()
    names(mapper, call("a", "Ringing", line=2), call("a", "Talking", line=2))
    context = CallContext("a", 2, "incoming", "sip:a@pbx")
    assert mapper.triggers(DtmfReceived("a", "5", "rfc4733")) == [Trigger("dtmf_received", 2, context)]
    assert mapper.triggers(DtmfReceived("gone", "5", "info")) == [Trigger("dtmf_received")]


def line(number: int, status: str) -> LineStatusChanged:
    return LineStatusChanged(number, status, "", "127.0.0.1:5060;transport=udp")


def test_registration_events_on_status_changes_only() -> None:
    mapper = ActionMapper()
    assert mapper.triggers(line(1, "Trying")) == []
    assert mapper.triggers(line(1, "Registered")) == [Trigger("reg_on", 1)]
    assert mapper.triggers(line(1, "Registered")) == []  # a refresh
    assert mapper.triggers(line(1, "Trying")) == []
    assert mapper.triggers(line(1, "Registered")) == []
    assert mapper.triggers(line(1, "Unapplied")) == [Trigger("reg_off", 1)]
    assert mapper.triggers(line(2, "Failed")) == [Trigger("reg_failed", 2)]
    assert mapper.triggers(line(2, "Trying")) == []  # the retry
    assert mapper.triggers(line(2, "Failed")) == []
    assert mapper.triggers(line(2, "Timeout")) == []  # still failing
    assert mapper.triggers(line(2, "Unapplied")) == []  # it was never registered
    assert mapper.triggers(line(2, "Timeout")) == [Trigger("reg_failed", 2)]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (DeviceStarted("0.1.0", ("sip",)), ["boot_completed"]),
        (DeviceStopping("reboot"), ["start_reboot"]),
        (DeviceStopping("factory reset"), ["reset"]),
        (DeviceStopping("stop"), []),
        (RelayChanged(1, True, "dtmf"), ["output_triggered"]),
        (RelayChanged(2, False, "duration"), ["output_reset"]),
        (InputChanged(1, True), ["input_triggered"]),
        (InputChanged(2, False), []),
        (InputChanged(0, True), ["tamper_alarm"]),
        (ButtonChanged(1, True), ["button_pressed"]),
        (ButtonChanged(1, False), []),
        (MessageReceived(1, "sip:a@b", "open"), ["sip_message"]),
        (LedChanged("sip", "on"), []),
        (SettingsChanged(("lines.sip1.dnd",)), []),
    ],
)
def test_device_and_door_events(event: Event, expected: list[str]) -> None:
    assert names(ActionMapper(), event) == expected


def test_message_is_about_its_line() -> None:
    assert ActionMapper().triggers(MessageReceived(2, "sip:a@b", "x")) == [Trigger("sip_message", 2)]


def test_toggles() -> None:
    assert toggle_trigger(1, "dnd", True) == Trigger("dnd_on", 1)
    assert toggle_trigger(2, "forward_busy", False) == Trigger("busy_fwd_off", 2)


def test_feature_codes_dialled_for_dnd_and_forward_are_reported_like_the_switches() -> None:
    """With "Use Feature Code" the server keeps DND and forward and the settings do not change, so
    the events say it; a change of the settings themselves is reported from the settings alone."""
    mapper = ActionMapper()
    assert mapper.triggers(DndChanged(2, True, via="code")) == [Trigger("dnd_on", 2)]
    assert mapper.triggers(DndChanged(1, False, via="code")) == [Trigger("dnd_off", 1)]
    coded = [ForwardChanged(1, kind, on, "200", via="code") for kind in ("unconditional", "busy", "no-answer")
             for on in (True, False)]  # fmt: skip
    assert names(mapper, *coded) == ["always_fwd_on", "always_fwd_off", "busy_fwd_on", "busy_fwd_off",
                                     "no_answer_fwd_on", "no_answer_fwd_off"]  # fmt: skip
    assert names(mapper, DndChanged(1, True), ForwardChanged(1, "busy", True, "200")) == []


def test_every_named_setting_exists() -> None:
    """A typo in a setting name would only show when the event happens; catch it here."""
    mapper = ActionMapper()
    events: list[Event] = [
        call("a", "Ringing"),
        call("a", "Talking"),
        call("a", "Held"),
        call("a", "Talking"),
        call("a", "Ended"),
        call("b", "Calling", "outgoing"),
        call("b", "Ended", "outgoing"),
        call("c", "Ringing"),
        call("c", "Ended"),
        line(1, "Registered"),
        line(1, "Unapplied"),
        line(1, "Failed"),
        DtmfReceived("a", "1", "info"),
        DeviceStarted("0", ()),
        DeviceStopping("reboot"),
        DeviceStopping("factory reset"),
        RelayChanged(1, True, ""),
        RelayChanged(1, False, ""),
        InputChanged(1, True),
        InputChanged(0, True),
        ButtonChanged(1, True),
        MessageReceived(1, "", ""),
        AddressChanged("192.0.2.10", "198.51.100.20"),
        CallTransferred("a", "sip:c@pbx", "blind", "succeeded"),
    ]
    used = set(names(mapper, *events))
    used |= {toggle_trigger(1, name, on).setting for name in TOGGLES for on in (True, False)}
    assert used <= set(ActionUrl.model_fields)
    unreported = set(ActionUrl.model_fields) - used - {"restrict_active_uri_ip"}
    assert unreported == {"mute_on", "mute_off"}


def test_ip_changed_when_the_device_has_a_new_address() -> None:
    mapper = ActionMapper()
    assert mapper.triggers(AddressChanged("192.0.2.10", "198.51.100.20")) == [Trigger("ip_change")]
    assert mapper.triggers(AddressChanged(None, "192.0.2.30")) == [Trigger("ip_change")]  # it came back
    assert mapper.triggers(AddressChanged("198.51.100.20", None)) == []  # lost: no address to report


def test_a_transfer_is_reported_with_its_call_even_after_the_call_ended() -> None:
    mapper = ActionMapper()
    event = CallStateChanged("a", 2, "incoming", "Ringing", "sip:102@pbx", "", "Front Desk")
    context = CallContext("a", 2, "incoming", "sip:102@pbx", "Front Desk")
    names(mapper, event, call("a", "Talking", line=2))
    moved = CallTransferred("a", "sip:103@pbx", "blind", "succeeded")
    assert mapper.triggers(moved) == [Trigger("transfer", 2, context)]
    names(mapper, CallStateChanged("a", 2, "incoming", "Ended", "sip:102@pbx", "", "Front Desk"))
    assert mapper.triggers(moved) == [Trigger("transfer", 2, context)]
    transferee = CallTransferred("a", "sip:103@pbx", "blind", "succeeded", role="transferee")
    assert mapper.triggers(transferee) == [Trigger("transfer", 2, context)]
    assert mapper.triggers(CallTransferred("a", "sip:103@pbx", "attended", "failed", reason="486")) == []
    unknown = CallTransferred("gone", "sip:103@pbx", "attended", "succeeded", role="target")
    assert mapper.triggers(unknown) == [Trigger("transfer", None, CallContext("gone", 0, "", ""))]


def test_call_triggers_carry_the_remote_display_name() -> None:
    event = CallStateChanged("x@h", 1, "incoming", "Ringing", "sip:102@pbx", "", "Front Desk")
    (first, *_) = ActionMapper().triggers(event)
    assert first.call == CallContext("x@h", 1, "incoming", "sip:102@pbx", "Front Desk")
