"""The looping source (``--audio-in wav:FILE``, uploaded ringtones): a file played over and over."""

from __future__ import annotations

import numpy as np
import pytest

from portier.media.audio import AudioError, LoopSource


def test_frames_of_any_size_join_into_the_file_repeated() -> None:
    audio = np.arange(-500, 500, dtype=np.int16)
    source = LoopSource(audio)
    sizes = [160, 160, 7, 999, 1000, 1, 2500, 160] * 5
    joined = np.concatenate([source.read(size) for size in sizes])
    assert np.array_equal(joined, np.resize(audio, joined.size))


def test_frames_are_read_only_and_the_callers_array_is_left_writable() -> None:
    audio = np.zeros(1000, dtype=np.int16)
    source = LoopSource(audio)
    inside, across = source.read(600), source.read(600)  # the second wraps around: a copy
    with pytest.raises(ValueError, match="read-only"):
        inside[:] = 1
    across[:] = 1  # a copy belongs to the caller
    audio[:] = 2  # the array handed in is still the caller's to change
    assert np.array_equal(source.read(200), np.full(200, 2, dtype=np.int16))


def test_no_audio_is_refused() -> None:
    with pytest.raises(AudioError, match="no audio"):
        LoopSource(np.zeros(0, dtype=np.int16))
