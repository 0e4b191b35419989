"""What is offered is what runs here; what is not is explained, codec by codec."""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Literal

import av
import pytest

from portier.media.codecs import (
    CodecError,
    CodecUnavailable,
    available,
    codec_info,
    decoder,
    encoder,
    g711,
    g729,
    rescan,
    unavailable,
)
from portier.settings.choices import DEFAULT_CODECS, Codec


def ffmpeg_has(name: str, mode: Literal["r", "w"]) -> bool:
    try:
        av.Codec(name, mode)
    except Exception:
        return False
    return True


def loads(*names: str) -> bool:
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def test_every_fanvil_codec_is_either_offered_or_explained() -> None:
    offered, missing = available(), unavailable()
    assert set(offered) | set(missing) == {c.value for c in Codec}
    assert not set(offered) & set(missing)
    for name, reason in missing.items():
        assert reason.startswith(f"{name}:") and len(reason) > len(name) + 10


def test_offered_codecs_keep_the_fanvil_order_and_names() -> None:
    offered = available()
    assert list(offered) == [c.value for c in Codec if c.value in offered]
    for name, info in offered.items():
        assert info.name == name and info.fanvil is Codec(name)


def test_ilbc_is_offered_exactly_when_this_ffmpeg_can_encode_it() -> None:
    can_encode = ffmpeg_has("libilbc", "w") or ffmpeg_has("ilbc", "w")
    assert ("iLBC" in available()) == can_encode
    if not can_encode:
        assert "no iLBC encoder" in unavailable()["iLBC"]
        with pytest.raises(CodecUnavailable, match="no iLBC encoder"):
            encoder(Codec.ILBC)


def test_g729_is_offered_exactly_when_libbcg729_loads() -> None:
    present = loads("libbcg729.so.0", ctypes.util.find_library("bcg729") or "libbcg729.so")
    assert ("G729" in available()) == present
    if not present:
        assert "apt install libbcg729-0" in unavailable()["G729"]


def test_g726_is_offered_exactly_when_spandsp_loads() -> None:
    fallback = ctypes.util.find_library("spandsp") or "libspandsp.so"
    present = loads("libspandsp.so.2", "libspandsp.so.3", fallback)
    assert ("G726-32" in available()) == present
    if not present:
        assert "apt install libspandsp2" in unavailable()["G726-32"]


def test_the_manuals_default_codecs_other_than_ilbc_and_g729_are_always_offered() -> None:
    assert {c.value for c in DEFAULT_CODECS} - {"iLBC", "G729"} <= set(available())


def test_static_payload_types_and_rtpmaps_follow_rfc_3551() -> None:
    offered = available()
    expected = {"PCMU": 0, "PCMA": 8, "G722": 9, "G723": 4, "G729": 18, "MPA": 14, "opus": None}
    for name, payload_type in expected.items():
        if name in offered:
            assert offered[name].static_payload_type == payload_type
    assert offered["G722"].rtpmap == "G722/8000" and offered["G722"].sample_rate == 16000
    assert offered["opus"].rtpmap == "opus/48000/2"
    assert offered["PCMU"].rtpmap == "PCMU/8000"


def test_names_are_found_whatever_their_case_or_form() -> None:
    assert encoder("pcmu").info.name == "PCMU"
    assert decoder(Codec.OPUS).info.name == "opus"
    assert codec_info("OPUS").name == "opus"


def test_unknown_codecs_and_options_are_refused_with_what_is_known() -> None:
    with pytest.raises(CodecError, match="unknown codec 'GSM'"):
        encoder("GSM")
    with pytest.raises(CodecError, match="opus has no option colour; it takes bitrate, fec, sample_rate"):
        encoder("opus", colour="red")
    with pytest.raises(CodecError, match="sample_rate must be one of"):
        encoder("opus", sample_rate=44100)
    with pytest.raises(CodecError, match="no option"):
        decoder("PCMA", bitrate=1)


def test_a_missing_library_takes_its_codec_off_the_offer_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(g729, "library", lambda: None)
    rescan()
    try:
        assert "G729" not in available()
        assert unavailable()["G729"] == "G729: libbcg729 is not installed (apt install libbcg729-0)"
        with pytest.raises(CodecUnavailable, match=r"apt install libbcg729-0"):
            encoder("G729")
    finally:
        monkeypatch.undo()
        rescan()
    assert ("G729" in available()) == (g729.library() is not None)


def test_a_codec_that_fails_its_trial_run_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("encoder exploded")

    monkeypatch.setattr(g711.G711Factory, "encoder", broken)
    rescan()
    try:
        assert not {"PCMU", "PCMA"} & set(available())
        assert unavailable()["PCMU"] == "PCMU: failed its encode/decode check here: encoder exploded"
    finally:
        monkeypatch.undo()
        rescan()
    assert {"PCMU", "PCMA"} <= set(available())
