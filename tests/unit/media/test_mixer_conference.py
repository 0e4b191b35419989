"""The conference mixer: mix-minus per party across codec rates, the speaker on the lead's ticks,
int16 clipping, and leaving. Streams are simulated by calling each party's sink and source once per
20 ms tick, as ``RtpStream`` does; the audio is judged by its spectrum."""

from __future__ import annotations

import numpy as np

from portier.media.audio import Samples, ToneSource
from portier.media.mixer import ConferenceMixer, Feed, Party, mix


class Recorder:
    def __init__(self) -> None:
        self.frames: list[Samples] = []
        self.closed = False

    def write(self, samples: Samples) -> None:
        self.frames.append(samples.copy())

    def close(self) -> None:
        self.closed = True

    @property
    def audio(self) -> Samples:
        return np.concatenate(self.frames) if self.frames else np.zeros(0, dtype=np.int16)


class ClosingTone(ToneSource):
    closed = False

    def close(self) -> None:
        self.closed = True


def band_level(samples: Samples, rate: int, hz: float) -> float:
    """Power near ``hz`` relative to the strongest component, in dB (0 = the peak)."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size))) ** 2
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    near = spectrum[np.abs(freqs - hz) < 15].max()
    return float(10 * np.log10(near / spectrum.max()))


def run(
    mixer_ticks: int, parties: list[tuple[Party, ToneSource, int]], outputs: dict[str, list[Samples]]
) -> None:
    for _ in range(mixer_ticks):
        for party, remote, rate in parties:
            frame = rate // 50
            party.sink.write(remote.read(frame))
            outputs[party.name].append(party.source.read(frame))


def test_each_party_hears_the_others_and_the_microphone_never_itself() -> None:
    mixer = ConferenceMixer()
    speaker_a, speaker_b = Recorder(), Recorder()
    a = mixer.join("a", 8000, ToneSource(440, 8000), speaker_a)  # G.711 call
    b = mixer.join("b", 16000, ToneSource(440, 16000), speaker_b)  # G.722 call
    assert mixer.lead is a
    outputs: dict[str, list[Samples]] = {"a": [], "b": []}
    run(100, [(a, ToneSource(1000, 8000), 8000), (b, ToneSource(700, 16000), 16000)], outputs)
    sent_a = np.concatenate(outputs["a"][20:])
    sent_b = np.concatenate(outputs["b"][20:])
    assert band_level(sent_a, 8000, 440) > -3 and band_level(sent_a, 8000, 700) > -3
    assert band_level(sent_a, 8000, 1000) < -40, "A must not hear itself back"
    assert band_level(sent_b, 16000, 440) > -3 and band_level(sent_b, 16000, 1000) > -3
    assert band_level(sent_b, 16000, 700) < -40, "B must not hear itself back"
    heard = speaker_a.audio[8000 // 2 :]
    assert heard.size >= 8000, "the lead's speaker is written on every tick of the lead"
    assert band_level(heard, 8000, 1000) > -3 and band_level(heard, 8000, 700) > -3
    assert band_level(heard, 8000, 440) < -40, "the device does not hear its own microphone"
    assert not speaker_b.frames, "only the lead's speaker plays the conference"


def test_sums_are_clipped_not_wrapped() -> None:
    loud = np.full(160, 30000, dtype=np.int16)
    assert mix(loud, [loud, None, loud[:80]]).tolist() == [32767] * 160
    assert mix(-loud, [-loud]).min() == -32768
    assert mix(loud, [np.zeros(0, dtype=np.int16)]).tolist() == loud.tolist()


def test_a_feed_primes_then_plays_and_reprimes_after_running_dry() -> None:
    feed = Feed(8000, 8000)
    frame = np.ones(160, dtype=np.int16)
    feed.push(frame)
    assert feed.take(160) is None  # 20 ms buffered, 40 ms wanted before playing
    feed.push(frame)
    first = feed.take(160)
    assert first is not None and first.size == 160
    partial = feed.take(320)
    assert partial is not None and partial.size == 160 and feed.underruns == 1
    assert feed.take(160) is None
    upsampled = Feed(8000, 16000)
    upsampled.push(np.ones(320, dtype=np.int16))
    assert 638 <= len(upsampled.ring) <= 640  # twice the samples (the resampler keeps the last one back)


def test_leaving_stops_the_audio_and_closing_closes_the_originals() -> None:
    mixer = ConferenceMixer()
    mic_a, mic_b = ClosingTone(440, 8000), ClosingTone(440, 8000)
    speaker_a, speaker_b = Recorder(), Recorder()
    a = mixer.join("a", 8000, mic_a, speaker_a)
    b = mixer.join("b", 8000, mic_b, speaker_b)
    outputs: dict[str, list[Samples]] = {"a": [], "b": []}
    run(20, [(a, ToneSource(1000, 8000), 8000), (b, ToneSource(700, 8000), 8000)], outputs)
    a.sink.close()  # a's stream stopped: its call ended
    assert mic_a.closed and speaker_a.closed and not mic_b.closed
    assert mixer.lead is b and list(mixer.parties) == ["b"]
    outputs = {"a": [], "b": []}
    run(50, [(b, ToneSource(700, 8000), 8000)], outputs)
    alone = np.concatenate(outputs["b"][10:])
    assert band_level(alone, 8000, 440) > -1 and band_level(alone, 8000, 1000) < -40
    assert band_level(speaker_b.audio[-4000:], 8000, 700) > -3, "the new lead's speaker plays"
    left = mixer.leave("b")
    assert left is b and not b.joined and mixer.lead is None
    after = np.concatenate([b.source.read(160) for _ in range(25)])  # a party that left hears only its mic
    assert band_level(after, 8000, 440) > -1 and band_level(after, 8000, 700) < -40
    b.source.close()
    assert mic_b.closed and speaker_b.closed
