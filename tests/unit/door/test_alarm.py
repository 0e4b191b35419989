"""The alarm message text and where "Input & Tamper Server Address" sends it (9.31, issue 5)."""

from __future__ import annotations

import pytest

from portier.door.alarm import SipTarget, UdpTarget, alarm_target, alarm_text, mac_with_colons, port_name


def test_the_text_is_fanvils_format() -> None:
    text = alarm_text(model="A12", user="", mac="0c383e3a0665", ip="", port="Input")
    assert text == "Alarm_Info:Description=A12;SIP User=;Mac=0c:38:3e:3a:06:65;IP=;port=Input"
    text = alarm_text(model="portier-A12", user="alice", mac="0C-38-3E-3A-06-65", ip="10.0.0.9",
                      port=port_name(1))  # fmt: skip
    assert text == (
        "Alarm_Info:Description=portier-A12;SIP User=alice;Mac=0c:38:3e:3a:06:65;IP=10.0.0.9;port=Input1"
    )


def test_port_names() -> None:
    assert [port_name(n) for n in (1, 2, 0)] == ["Input1", "Input2", "Tamper"]
    assert mac_with_colons("aabbccddeeff") == "aa:bb:cc:dd:ee:ff"


@pytest.mark.parametrize(
    ("address", "target"),
    [
        ("", None),
        ("   ", None),
        ("192.168.1.20:5000", UdpTarget("192.168.1.20", 5000)),
        (" alarm.example.org:9000 ", UdpTarget("alarm.example.org", 9000)),
        ("[2001:db8::1]:7000", UdpTarget("2001:db8::1", 7000)),
        ("8000", SipTarget("8000")),
        ("desk@pbx.example.org", SipTarget("desk@pbx.example.org")),
        ("sip:desk@192.168.1.20:5060", SipTarget("sip:desk@192.168.1.20:5060")),
        ("sips:desk@pbx.example.org", SipTarget("sips:desk@pbx.example.org")),
        ("192.168.1.20", SipTarget("192.168.1.20")),
        ("100:5060", SipTarget("100:5060")),
    ],
)
def test_targets(address: str, target: UdpTarget | SipTarget | None) -> None:
    assert alarm_target(address) == target


def test_a_port_out_of_range_is_an_error_that_names_the_setting() -> None:
    with pytest.raises(ValueError, match=r"Input & Tamper Server Address.*70000"):
        alarm_target("10.0.0.1:70000")
