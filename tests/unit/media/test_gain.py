"""Volumes as gains (Media page: Speakerphone Volume, Ring Volume, Hands-free microphone gain)."""

from __future__ import annotations

import numpy as np
import pytest

from portier.media.audio import (
    AudioSpec,
    GainSink,
    GainSource,
    NullSource,
    Samples,
    ToneSource,
    apply_gain,
    gain_of,
    microphone_db,
    volume_db,
)


def rms_db(samples: Samples) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(samples.astype(np.float64) ** 2)) / 32768))


class Recorder:
    def __init__(self) -> None:
        self.frames: list[Samples] = []
        self.closed = False

    def write(self, samples: Samples) -> None:
        self.frames.append(samples)

    def close(self) -> None:
        self.closed = True


def test_volume_steps_are_3_db_with_unity_at_the_defaults() -> None:
    assert [volume_db(step) for step in range(1, 10)] == [-12, -9, -6, -3, 0, 3, 6, 9, 12]
    assert [microphone_db(step) for step in range(1, 10)] == [-6, -3, 0, 3, 6, 9, 12, 15, 18]
    for bad in (0, 10):
        with pytest.raises(ValueError, match="1-9"):
            volume_db(bad)


def test_gain_scales_the_level_by_its_decibels() -> None:
    tone = ToneSource(1000, 8000, level=-20).read(8000)
    for db in (-12.0, -3.0, 6.0, 12.0):
        assert rms_db(apply_gain(tone, db)) - rms_db(tone) == pytest.approx(db, abs=0.05)


def test_zero_db_is_the_samples_untouched() -> None:
    tone = ToneSource(440, 8000).read(160)
    assert apply_gain(tone, 0.0) is tone


def test_loud_audio_clips_at_full_scale_and_never_wraps_around() -> None:
    full = np.array([32767, -32768, 30000, -30000, 100, 0], dtype=np.int16)
    louder = apply_gain(full, 12.0)
    assert louder.dtype == np.int16
    assert louder.tolist() == [32767, -32768, 32767, -32768, 398, 0]
    quieter = apply_gain(full, -60.0)
    assert np.all(np.abs(quieter) <= 33)
    assert np.all(np.sign(quieter[:4]) == np.sign(full[:4]))


def test_gain_wrappers_read_the_gain_each_frame_so_a_change_applies_at_once() -> None:
    gain = [0.0]
    sink = Recorder()
    wrapped = GainSink(sink, lambda: gain[0])
    frame = np.full(160, 1000, dtype=np.int16)
    wrapped.write(frame)
    gain[0] = -6.0
    wrapped.write(frame)
    assert sink.frames[0][0] == 1000 and sink.frames[1][0] == 501
    wrapped.close()
    assert sink.closed
    source = GainSource(ToneSource(500, 8000, level=-20), lambda: gain[0])
    assert rms_db(source.read(800)) == pytest.approx(-23 - 6, abs=0.1)


def test_spec_wraps_sources_and_sinks_only_when_a_gain_is_given(tmp_path: object) -> None:
    spec = AudioSpec.parse("tone:440")
    assert isinstance(spec.source(8000), ToneSource)
    assert isinstance(spec.source(8000, gain=lambda: 3.0), GainSource)
    assert isinstance(AudioSpec.parse("null").source(8000, gain=lambda: 3.0), NullSource)
    assert str(AudioSpec.parse("sound:USB Audio")) == "sound:USB Audio"
    assert AudioSpec.parse("sound") == AudioSpec("sound")


def test_a_gain_of_the_settings_is_worked_out_again_only_when_they_change() -> None:
    class Document:
        def __init__(self, step: int) -> None:
            self.step = step

    current = [Document(5)]
    worked_out: list[int] = []

    def gain(document: Document) -> float:
        worked_out.append(document.step)
        return volume_db(document.step)

    now = gain_of(lambda: current[0], gain)
    assert [now() for _ in range(50)] == [0.0] * 50
    assert worked_out == [5]
    current[0] = Document(7)  # a saved change is a new document: heard on the next frame
    assert now() == 6.0 and now() == 6.0
    assert worked_out == [5, 7]
