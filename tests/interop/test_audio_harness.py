"""The audio harness proves itself with peers only: baresip calls baresip, linphonec and baresip call
each other, and every recording must hold the far end's tone, for the whole call, without holes.

These are the checks portier's own calls will face (issue 4, "Proven by"); if they pass here, a
failure there is portier's. The analysis is also shown to fail on a hole, a wrong tone and silence.
"""

from __future__ import annotations

import time
import wave
from pathlib import Path

import numpy as np
import pytest

from .audio_check import analyse, assert_tone, make_tone_wav
from .baresip import Baresip, Srtp
from .conftest import KamailioFactory
from .linphone import Linphone

pytestmark = pytest.mark.interop

CALLER_HZ = 1000.0
CALLEE_HZ = 440.0
TALK_S = 3.0
SOURCE_S = 20.0  # baresip's aufile plays its file once: longer than any call here
CODEC_RATES = {"pcmu": 8000, "pcma": 8000, "g722": 16000, "g726": 8000, "opus": 48000}


# -- the analysis itself ---------------------------------------------------------------------------


def _write(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.round(samples * 32767).astype("<i2").tobytes())
    return path


def test_a_clean_tone_passes_and_is_measured(tmp_path: Path) -> None:
    path = make_tone_wav(tmp_path / "tone.wav", 440, 2.0, rate=16000)
    report = assert_tone(path, 440, duration=2.0)
    assert report.rate == 16000
    assert abs(report.peak_hz - 440) < 0.5
    assert abs(report.level_dbfs - -13.0) < 0.2  # -10 dBFS peak is -13 dBFS RMS
    assert report.snr_db > 60
    assert report.gaps == []


def test_a_60ms_hole_is_a_gap_and_fails(tmp_path: Path) -> None:
    rate = 8000
    tone = 0.3 * np.sin(2 * np.pi * 1000 * np.arange(3 * rate) / rate)
    tone[rate : rate + 480] = 0.0  # three lost 20 ms packets, played as silence
    path = _write(tmp_path / "hole.wav", tone, rate)
    report = analyse(path)
    assert len(report.gaps) == 1
    start, length = report.gaps[0]
    assert abs(start - 1.0) <= 0.005 and 0.05 <= length <= 0.06
    with pytest.raises(AssertionError, match=r"silent gap.*longer than 40 ms[\s\S]*report: hole\.wav"):
        assert_tone(path, 1000)


def test_a_20ms_hole_is_reported_but_tolerated(tmp_path: Path) -> None:
    rate = 8000
    tone = 0.3 * np.sin(2 * np.pi * 1000 * np.arange(2 * rate) / rate)
    tone[8000:8160] = 0.0
    report = assert_tone(_write(tmp_path / "blip.wav", tone, rate), 1000)
    assert len(report.gaps) == 1


def test_wrong_tone_short_sound_and_silence_fail(tmp_path: Path) -> None:
    path = make_tone_wav(tmp_path / "tone.wav", 1000, 2.0)
    with pytest.raises(AssertionError, match=r"peak at 1000\.0 Hz, not 440"):
        assert_tone(path, 440)
    with pytest.raises(AssertionError, match=r"lasts 2\.000 s, not 3\.000 s"):
        assert_tone(path, 1000, duration=3.0)
    silent = _write(tmp_path / "silent.wav", np.zeros(16000), 8000)
    with pytest.raises(AssertionError, match=r"only 0\.000 s of sound"):
        assert_tone(silent, 1000)


def test_noise_is_not_a_tone(tmp_path: Path) -> None:
    noise = np.random.default_rng(1).uniform(-0.3, 0.3, 16000)
    with pytest.raises(AssertionError, match=r"dB above the rest"):
        assert_tone(_write(tmp_path / "noise.wav", noise, 8000), 1000, tolerance=1.0)


def test_stereo_float_with_a_header_left_unfinished_reads(tmp_path: Path) -> None:
    """What a killed libsndfile leaves behind: float samples, data size still 0."""
    rate = 48000
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype("<f4")
    frames = np.repeat(tone[:, None], 2, axis=1).tobytes()
    fmt = (3).to_bytes(2, "little") + (2).to_bytes(2, "little") + rate.to_bytes(4, "little")
    fmt += (rate * 8).to_bytes(4, "little") + (8).to_bytes(2, "little") + (32).to_bytes(2, "little")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt + b"data" + bytes(4) + frames
    path = tmp_path / "float.wav"
    path.write_bytes(b"RIFF" + bytes(4) + body)
    report = assert_tone(path, 440, duration=1.0)
    assert (report.rate, report.channels) == (rate, 2)


# -- real peers ------------------------------------------------------------------------------------


def _talk(caller: Baresip, callee: Baresip) -> tuple[float, float]:
    """Call, talk TALK_S, hang up from the caller; each side's established-to-closed time."""
    caller.dial(callee.uri)
    caller_up = caller.wait_event("CALL_ESTABLISHED")["received_at"]
    callee_up = callee.wait_event("CALL_ESTABLISHED")["received_at"]
    time.sleep(TALK_S)
    caller.hangup()
    caller_down = caller.wait_event("CALL_CLOSED")["received_at"]
    callee_down = callee.wait_event("CALL_CLOSED")["received_at"]
    return caller_down - caller_up, callee_down - callee_up


def _only(files: list[Path], who: str) -> Path:
    assert len(files) == 1, f"{who} should have recorded exactly one call, found {files}"
    return files[0]


@pytest.mark.parametrize(
    ("codec", "srtp"),
    [
        ("pcmu", None),
        ("pcma", None),
        ("g722", None),
        ("g726", None),
        ("opus", None),
        ("pcmu", "srtp-mand"),
    ],
    ids=["pcmu", "pcma", "g722", "g726-32", "opus", "pcmu-srtp"],
)
def test_baresip_calls_baresip_and_both_hear_the_other(
    tmp_path: Path, codec: str, srtp: Srtp | None
) -> None:
    rate = CODEC_RATES[codec]
    caller = Baresip(
        tmp_path / "alice",
        user="alice",
        audio_source_wav=make_tone_wav(tmp_path / "1k.wav", CALLER_HZ, SOURCE_S, rate),
        record_dir=tmp_path / "alice" / "rec",
        codecs=[codec],
        srtp=srtp,
        lifetime=30,
    )
    callee = Baresip(
        tmp_path / "bob",
        user="bob",
        audio_source_wav=make_tone_wav(tmp_path / "440.wav", CALLEE_HZ, SOURCE_S, rate),
        record_dir=tmp_path / "bob" / "rec",
        codecs=[codec],
        srtp=srtp,
        answer_mode="auto",
        lifetime=30,
    )
    with caller, callee:
        caller_talk, callee_talk = _talk(caller, callee)
        heard_by_caller = _only(caller.recordings(), "alice")
        heard_by_callee = _only(callee.recordings(), "bob")
        codecs_used = caller.audio_codecs() + callee.audio_codecs()
        secured = caller.srtp_enabled() and callee.srtp_enabled()

    name = {"g726": "G726-32", "opus": "opus"}.get(codec, codec.upper())
    assert codecs_used and all(used == name for _, used in codecs_used), codecs_used
    assert secured == (srtp is not None)
    assert_tone(heard_by_caller, CALLEE_HZ, duration=caller_talk)
    assert_tone(heard_by_callee, CALLER_HZ, duration=callee_talk)


@pytest.mark.parametrize(("linphone_codec", "baresip_codec"), [("PCMU", "pcmu"), ("G726-32", "g726")])
def test_linphonec_calls_baresip_and_both_hear_the_other(
    tmp_path: Path, linphone_codec: str, baresip_codec: str
) -> None:
    """G.726 too: two unrelated implementations agreeing on its bit packing (RFC 3551) is what
    makes baresip a fair judge of portier's."""
    linphone = Linphone(
        tmp_path / "linphone",
        audio_source_wav=make_tone_wav(tmp_path / "1k.wav", CALLER_HZ, SOURCE_S),
        record_wav=tmp_path / "linphone" / "heard.wav",
        codecs=[linphone_codec],
        lifetime=30,
    )
    baresip = Baresip(
        tmp_path / "bob",
        audio_source_wav=make_tone_wav(tmp_path / "440.wav", CALLEE_HZ, SOURCE_S),
        record_dir=tmp_path / "bob" / "rec",
        codecs=[baresip_codec],
        lifetime=30,
    )
    with baresip, linphone:
        linphone.call(baresip.uri)
        up = baresip.wait_event("CALL_ESTABLISHED")["received_at"]
        linphone.wait_connected()
        time.sleep(TALK_S)
        linphone.terminate()
        linphone.wait_ended()
        talk = baresip.wait_event("CALL_CLOSED")["received_at"] - up
        heard_by_baresip = _only(baresip.recordings(), "baresip")
        codecs_used = baresip.audio_codecs()
    assert codecs_used and all(used == linphone_codec for _, used in codecs_used), codecs_used
    assert_tone(heard_by_baresip, CALLER_HZ, duration=talk)
    assert_tone(linphone.record_wav, CALLEE_HZ, duration=talk)


def test_baresip_calls_linphonec_and_both_hear_the_other(tmp_path: Path) -> None:
    linphone = Linphone(
        tmp_path / "linphone",
        audio_source_wav=make_tone_wav(tmp_path / "440.wav", CALLEE_HZ, SOURCE_S),
        record_wav=tmp_path / "linphone" / "heard.wav",
        codecs=["PCMU"],
        auto_answer=True,
        lifetime=30,
    )
    baresip = Baresip(
        tmp_path / "alice",
        user="alice",
        audio_source_wav=make_tone_wav(tmp_path / "1k.wav", CALLER_HZ, SOURCE_S),
        record_dir=tmp_path / "alice" / "rec",
        codecs=["pcmu"],
        lifetime=30,
    )
    with baresip, linphone:
        baresip.dial(linphone.uri)
        up = baresip.wait_event("CALL_ESTABLISHED")["received_at"]
        linphone.wait_connected()
        time.sleep(TALK_S)
        baresip.hangup()
        talk = baresip.wait_event("CALL_CLOSED")["received_at"] - up
        linphone.wait_ended()
        heard_by_baresip = _only(baresip.recordings(), "baresip")
    assert_tone(heard_by_baresip, CALLEE_HZ, duration=talk)
    assert_tone(linphone.record_wav, CALLER_HZ, duration=talk)


def test_baresips_registered_at_kamailio_call_through_it(
    tmp_path: Path, kamailio_factory: KamailioFactory
) -> None:
    """The ``registrar`` option: both register (401), the INVITE is challenged (407) and relayed."""
    kamailio = kamailio_factory()
    peers = [
        Baresip(
            tmp_path / user,
            user=user,
            registrar=kamailio.uri(),
            password=f"{user}-secret",
            audio_source_wav=make_tone_wav(tmp_path / f"{hz:.0f}.wav", hz, SOURCE_S),
            record_dir=tmp_path / user / "rec",
            lifetime=30,
        )
        for user, hz in (("alice", CALLER_HZ), ("bob", CALLEE_HZ))
    ]
    caller, callee = peers
    with caller, callee:
        caller.wait_registered()
        callee.wait_registered()
        assert kamailio.registered("bob"), kamailio.tail()
        caller_talk, callee_talk = _talk(caller, callee)
        heard_by_caller = _only(caller.recordings(), "alice")
        heard_by_callee = _only(callee.recordings(), "bob")
    assert "SIP/2.0 407 " in caller.log, "Kamailio should have challenged the INVITE"
    assert_tone(heard_by_caller, CALLEE_HZ, duration=caller_talk)
    assert_tone(heard_by_callee, CALLER_HZ, duration=callee_talk)
