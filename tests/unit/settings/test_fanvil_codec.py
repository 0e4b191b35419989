"""Fanvil config files: format, round trip, partial import, XML variants, every kind of error."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portier.settings import document, fanvil
from portier.settings.declare import Leaf, leaves
from portier.settings.document import ConfigErrors
from portier.settings.schema import Settings
from portier.settings.values import check

HEAD = "<<VOIP CONFIG FILE>>Version:2.0000000000\r\n"
FOOT = "<<END OF FILE>>\r\n"


def cfg(*lines: str) -> str:
    return HEAD + "".join(line + "\r\n" for line in lines) + FOOT


def errors_of(text: str | bytes) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        fanvil.import_file(Settings(), text)
    return caught.value.problems


def test_export_has_fanvil_frame_crlf_and_modules() -> None:
    text = fanvil.export_text(Settings())
    lines = text.split("\r\n")
    assert lines[0] == "<<VOIP CONFIG FILE>>Version:2.0000000000"
    assert lines[-2:] == ["<<END OF FILE>>", ""]
    assert "\n" not in text.replace("\r\n", "")
    for module in (
        "SIP CONFIG MODULE",
        "NET CONFIG MODULE",
        "MMI CONFIG MODULE",
        "AUTOUPDATE CONFIG MODULE",
        "DSSKEY CONFIG MODULE",
        "MCAST CFG MODULE",
        "CTI CONFIG MODULE",
    ):
        assert f"<{module}>" in lines, module
    assert "--SIP Line List--  :" in lines
    assert "SIP1 Register Port      :5060" in lines
    assert "SIP2 Enable Reg         :0" in lines


def test_every_setting_is_exported_once() -> None:
    text = fanvil.export_text(Settings())
    keys = [
        line.split(":", 1)[0].strip()
        for line in text.split("\r\n")
        if ":" in line and not line.startswith(("<", "--"))
    ]
    assert sorted(keys) == sorted(leaf.key for leaf in leaves(Settings))


def test_export_import_export_is_a_fixed_point_on_defaults() -> None:
    first = fanvil.export_text(Settings())
    result = fanvil.import_file(Settings(), first)
    assert result.changed == [] and result.warnings == []
    assert fanvil.export_text(result.settings) == first


def _valid_value(leaf: Leaf, draw: Any) -> Any:
    annotation = leaf.annotation
    if annotation is bool:
        return draw(st.booleans())
    if annotation is int:
        lo = leaf.bound("ge") if leaf.bound("ge") is not None else -1000
        hi = leaf.bound("le") if leaf.bound("le") is not None else 100000
        return draw(st.integers(min_value=lo, max_value=hi))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return draw(st.sampled_from(list(annotation)))
    if getattr(annotation, "__origin__", None) is list:
        (item,) = annotation.__args__
        return draw(st.lists(st.sampled_from(list(item)), unique=True))
    return None


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_round_trip_of_changed_settings(data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.sampled_from(leaves(Settings)), min_size=1, max_size=25, unique=True))
    values: dict[Leaf, Any] = {}
    for leaf in chosen:
        value = _valid_value(leaf, data.draw)
        if value is None:  # text: keep what the pattern allows
            value = data.draw(st.from_regex(r"\A[A-Za-z0-9.@_-]{0,12}\Z"))
        try:
            values[leaf] = check(leaf, value)
        except ValueError:
            continue
    try:
        original = document.with_values(Settings(), values)
    except ConfigErrors:  # a cross-field rule refused the combination: nothing to round-trip
        return
    text = fanvil.export_text(original)
    again = fanvil.import_file(Settings(), text)
    assert again.settings == original
    assert fanvil.export_text(again.settings) == text


def test_partial_file_changes_only_what_it_names() -> None:
    before = document.with_values(Settings(), {document.find("SIP2 Register Addr"): "10.9.9.9"})
    result = fanvil.import_file(
        before,
        cfg(
            "<SIP CONFIG MODULE>",
            "--SIP Line List--  :",
            "SIP1 Register Addr      :127.0.0.2",
            "SIP1 Register Port :5070",
        ),
    )
    assert [leaf.dotted for leaf in result.changed] == [
        "lines.sip1.server1.address",
        "lines.sip1.server1.port",
    ]
    assert result.settings.lines.sip2.server1.address == "10.9.9.9"


def test_keys_match_case_and_spacing_insensitively_and_values_may_hold_colons() -> None:
    result = fanvil.import_file(Settings(), cfg("sip  port:5062", "SIP1   register   addr :[::1]:5060"))
    assert result.settings.lines.sip.local_sip_port == 5062
    assert result.settings.lines.sip1.server1.address == "[::1]:5060"


def test_enum_by_code_or_name_and_codec_lists() -> None:
    result = fanvil.import_file(
        Settings(), cfg("SIP1 Transport :tls", "SIP2 Transport :1", "SIP1 VoiceCodecMap :PCMA, G722 ,opus")
    )
    assert result.settings.lines.sip1.server1.transport.name == "TLS"
    assert result.settings.lines.sip2.server1.transport.name == "TCP"
    assert [codec.value for codec in result.settings.lines.sip1.codecs] == ["PCMA", "G722", "opus"]


def test_unknown_keys_and_repeats_are_warnings() -> None:
    result = fanvil.import_file(
        Settings(), cfg("Fancy New Key :1", "SIP1 Register Port :5070", "SIP1 Register Port :5071")
    )
    assert result.settings.lines.sip1.server1.port == 5071
    assert result.warnings == [
        "line 2: unknown key `Fancy New Key` is ignored",
        "line 4: `SIP1 Register Port` repeats line 3; the last value is used",
    ]


def test_every_bad_value_is_reported_with_its_line_and_nothing_is_applied() -> None:
    text = cfg(
        "<SIP CONFIG MODULE>",
        "SIP1 Register Addr :127.0.0.9",
        "SIP1 Register Port :70000",
        "SIP1 Enable Reg :maybe",
        "SIP1 DTMF Mode :7",
        "SIP1 NoAnswerTime :abc",
        "SIP1 VoiceCodecMap :PCMU,G999",
        "SIP1 Register TTL :-5",
        "garbage line without separator",
    )
    assert errors_of(text) == ["line 10: expected `Key :value`, got 'garbage line without separator'"]
    problems = errors_of(text.replace("garbage line without separator\r\n", ""))
    assert problems == [
        "line 4: `SIP1 Register Port` must be a whole number in 1-65535, got '70000'",
        "line 5: `SIP1 Enable Reg` must be 0 or 1, got 'maybe'",
        "line 6: `SIP1 DTMF Mode` must be one of INBAND, RFC2833, SIP_INFO, AUTO (codes 0, 1, 2, 3), got '7'",
        "line 7: `SIP1 NoAnswerTime` must be a whole number in 0-120 s, got 'abc'",
        "line 8: `SIP1 VoiceCodecMap` must be one of PCMU, PCMA, G729, ILBC, OPUS, G722, G726_16, G726_24, "
        "G726_32, G726_40, G723, MPA, got 'G999'",
        "line 9: `SIP1 Register TTL` must be a whole number in 30-604800 s, got '-5'",
    ]


def test_text_values_must_be_one_line_and_fit() -> None:
    leaf = document.find("SIP1 Register Addr")
    with pytest.raises(ValueError, match="one line without leading or trailing blanks"):
        check(leaf, "a\nb")


def test_truncated_and_foreign_files_are_refused() -> None:
    assert errors_of(HEAD + "SIP1 Register Port :5070\r\n") == [
        "the file ends without `<<END OF FILE>>`: it looks truncated, so nothing was applied"
    ]
    assert errors_of("hello world\n") == [
        "line 1: not a Fanvil config file: it must start with `<<VOIP CONFIG FILE>>` or be XML"
    ]
    assert errors_of(HEAD.encode() + b"SIP1 Display Name :\xff\xfe\r\n" + FOOT.encode()) == [
        "line 2: the file is not UTF-8 text"
    ]


def test_text_after_the_end_is_ignored_with_a_warning() -> None:
    result = fanvil.import_file(Settings(), cfg("SIP1 Register Port :5070") + "SIP1 Register Port :5099\r\n")
    assert result.settings.lines.sip1.server1.port == 5070
    assert result.warnings == ["line 4: text after `<<END OF FILE>>` is ignored"]


XML_VOIP = """<?xml version="1.0" encoding="UTF-8"?>
<VOIP_CONFIG_FILE>
  <version>2.0002</version>
  <SIP_CONFIG_MODULE>
    <SIP__Port>5072</SIP__Port>
    <SIP_Line_List>
      <SIP_Line_List_Entry>
        <ID>SIP2</ID>
        <Phone_Number>2002</Phone_Number>
        <Register_Addr>127.0.0.5</Register_Addr>
        <Enable_Reg>1</Enable_Reg>
      </SIP_Line_List_Entry>
    </SIP_Line_List>
  </SIP_CONFIG_MODULE>
</VOIP_CONFIG_FILE>
"""


def test_xml_voip_config_file_variant() -> None:
    result = fanvil.import_file(Settings(), XML_VOIP)
    line = result.settings.lines.sip2
    assert (line.username, line.server1.address, line.activate) == ("2002", "127.0.0.5", True)
    assert result.settings.lines.sip.local_sip_port == 5072


def test_xml_sysconf_variant_with_named_items() -> None:
    text = (
        '<sysConf>\n<item name="SIP1 Phone Number">1001</item>\n'
        '<item name="SIP1 Auto Answer">0</item>\n</sysConf>'
    )
    result = fanvil.import_file(Settings(), text)
    assert result.settings.lines.sip1.username == "1001"
    assert result.settings.lines.sip1.auto_answer is False


def test_xml_errors_carry_line_numbers() -> None:
    assert errors_of(XML_VOIP.replace("<Enable_Reg>1", "<Enable_Reg>x")) == [
        "line 11: `SIP2 Enable Reg` must be 0 or 1, got 'x'"
    ]
    assert errors_of("<VOIP_CONFIG_FILE>\n<SIP_CONFIG_MODULE>\n</VOIP_CONFIG_FILE>")[0].startswith(
        "line 3: not well-formed XML"
    )
    assert errors_of("<html><body/></html>") == [
        "line 1: XML config files must have a <VOIP_CONFIG_FILE> or <sysConf> root element"
    ]


def test_xml_entities_are_refused() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n'
        '<sysConf><item name="SIP1 Phone Number">&a;</item></sysConf>'
    )
    assert errors_of(bomb) == ["line 2: DOCTYPE declarations are not accepted"]


def test_cross_field_conflicts_are_reported_and_nothing_is_applied() -> None:
    problems = errors_of(
        cfg("Web Port :8080", "Https Web Port :8080", "RTP Initial Port :5000", "RTP Port Quantity :200")
    )
    assert problems == [
        "the file as a whole: `Web Port` and `Https Web Port` are both 8080; they must differ; "
        "`SIP  Port` 5060 lies inside the RTP port range 5000-5199; move one of them; "
        "`SIP1 Signal Port` 5060 lies inside the RTP port range 5000-5199; move one of them; "
        "`SIP2 Signal Port` 5060 lies inside the RTP port range 5000-5199; move one of them"
    ]
