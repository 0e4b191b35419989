"""The speaker's mixer, its FIFOs and the frame-by-frame resampler (no sound card needed)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from portier.media.audio import StreamResampler, ToneSource, resample
from portier.media.sample_ring import SampleRing
from portier.media.speaker import PREBUFFER_S, Mixer


def peak_hz(samples: npt.NDArray[np.int16], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    return float(np.argmax(spectrum) * rate / samples.size)


def ramp(start: int, count: int) -> npt.NDArray[np.int16]:
    return np.arange(start, start + count, dtype=np.int16)


def test_ring_keeps_order_across_the_wrap() -> None:
    ring = SampleRing(10)
    ring.push(ramp(0, 7))
    assert ring.pop(5).tolist() == [0, 1, 2, 3, 4]
    ring.push(ramp(7, 6))  # wraps
    assert len(ring) == 8
    assert ring.pop(100).tolist() == list(range(5, 13))
    assert ring.pop(3).size == 0


def test_ring_drops_the_oldest_when_full() -> None:
    ring = SampleRing(5)
    ring.push(ramp(0, 4))
    ring.push(ramp(4, 4))
    assert ring.pop(5).tolist() == [3, 4, 5, 6, 7]
    assert ring.dropped == 3
    ring.push(ramp(0, 12))
    assert ring.pop(5).tolist() == [7, 8, 9, 10, 11]
    assert ring.dropped == 10
    with pytest.raises(ValueError, match="at least one"):
        SampleRing(0)


@pytest.mark.parametrize(
    ("from_rate", "to_rate"), [(8000, 48000), (16000, 44100), (48000, 8000), (8000, 8000)]
)
def test_resampling_frame_by_frame_joins_like_the_whole(from_rate: int, to_rate: int) -> None:
    tone = ToneSource(440, from_rate).read(from_rate)
    whole = resample(tone, from_rate, to_rate)
    stream = StreamResampler(from_rate, to_rate)
    size = from_rate // 50
    pieces = np.concatenate([stream(tone[i : i + size]) for i in range(0, tone.size, size)])
    assert abs(pieces.size - whole.size) <= to_rate // from_rate + 1  # the stream cannot look past its end
    common = min(pieces.size, whole.size) - 2
    assert np.max(np.abs(pieces[:common].astype(int) - whole[:common].astype(int))) <= 1
    assert peak_hz(pieces, to_rate) == pytest.approx(440, abs=2)


def test_channels_are_summed_and_clipped() -> None:
    mixer = Mixer(8000)
    first, second = mixer.channel(8000, "call"), mixer.channel(8000, "tone")
    first.write(np.full(800, 20000, dtype=np.int16))
    second.write(np.full(800, 20000, dtype=np.int16))
    assert mixer.mix(800).tolist() == [32767] * 800
    first.write(np.full(800, 20000, dtype=np.int16))
    second.write(np.full(800, -30000, dtype=np.int16))
    assert set(mixer.mix(800).tolist()) == {-10000}


def test_a_channel_plays_only_once_it_holds_the_prebuffer_and_again_after_running_dry() -> None:
    mixer = Mixer(8000)
    channel = mixer.channel(8000)
    prebuffer = round(PREBUFFER_S * 8000)
    channel.write(np.full(prebuffer - 1, 1000, dtype=np.int16))
    assert not mixer.mix(80).any()  # priming: silence, nothing consumed
    channel.write(np.full(1, 1000, dtype=np.int16))
    first = mixer.mix(prebuffer + 40)  # runs dry: what there was, then silence
    assert first[:prebuffer].tolist() == [1000] * prebuffer and not first[prebuffer:].any()
    assert channel.underruns == 1
    channel.write(np.full(prebuffer // 2, 1000, dtype=np.int16))
    assert not mixer.mix(10).any()  # waits for a full prebuffer again


def test_closing_a_channel_silences_it_at_once() -> None:
    mixer = Mixer(8000)
    ring, call = mixer.channel(8000, "ring"), mixer.channel(8000, "call")
    ring.write(np.full(800, 5000, dtype=np.int16))
    call.write(np.full(800, 7, dtype=np.int16))
    assert set(mixer.mix(80).tolist()) == {5007}
    ring.close()
    ring.write(np.full(800, 5000, dtype=np.int16))
    assert set(mixer.mix(80).tolist()) == {7}
    assert [c.name for c in mixer.channels] == ["call"]


def test_a_channel_at_the_call_rate_plays_at_the_card_rate() -> None:
    mixer = Mixer(48000)
    channel = mixer.channel(8000)
    source = ToneSource(1000, 8000)
    out = []
    for _ in range(50):
        channel.write(source.read(160))
        out.append(mixer.mix(960))
    played = np.concatenate(out)[48000 // 10 :]
    assert peak_hz(played, 48000) == pytest.approx(1000, abs=2)
