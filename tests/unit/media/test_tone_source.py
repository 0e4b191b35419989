"""The tone source (``--audio-in tone:HZ``): a sine that continues from frame to frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from portier.media.audio import ToneSource


def sine(frequency: float, rate: int, level: float, samples: int) -> np.ndarray:
    """The tone as one long sine: what every frame, joined, must equal sample for sample."""
    amplitude = 32767 * 10 ** (level / 20)
    n = np.arange(samples)
    return np.round(amplitude * np.sin(2 * math.pi * frequency * n / rate)).astype(np.int16)


@pytest.mark.parametrize(
    ("frequency", "rate"),
    [(440, 8000), (1000, 8000), (440, 16000), (440, 48000), (440.5, 8000), (697.3, 8000), (0.1, 8000)],
)
def test_frames_of_any_size_join_into_one_sine(frequency: float, rate: int) -> None:
    """Short periods come from a table, long ones (697.3 Hz, 0.1 Hz) are computed: the same samples."""
    tone = ToneSource(frequency, rate, level=-12.0)
    sizes = [160, 160, 7, 320, 5000, 1, 160] * 30
    joined = np.concatenate([tone.read(size) for size in sizes])
    assert joined.dtype == np.int16
    assert np.array_equal(joined, sine(frequency, rate, -12.0, joined.size))


def test_a_frame_cannot_be_written_into_so_the_tone_stays_whole() -> None:
    """Frames are read-only views of the tone table (no copy 50 times a second): writing into one
    fails loudly, and the tone is unchanged; a caller that changes samples copies first."""
    tone = ToneSource(1000, 8000)
    first = tone.read(160)
    with pytest.raises(ValueError, match="read-only"):
        first[:] = 0
    own = first.copy()
    own[:] = 0  # what the RTP stream does before writing a DTMF digit over the audio
    tone.read(8000 - 160)
    assert np.array_equal(tone.read(160), sine(1000, 8000, -10.0, 8160)[8000:])
