"""Cadence strings (manual 9.22), the tone generator's frequencies and timing, country presets."""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pytest

from portier.media.tones import (
    COUNTRY_TONES,
    Cadence,
    CadenceError,
    CadenceStep,
    ToneComponent,
    ToneGenerator,
    country_tones,
    dtmf_frequencies,
    dtmf_tone,
    parse_cadence,
)
from portier.settings.intercom_tone import TONE_PATTERN, ToneStandard


def peaks(samples: npt.NDArray[np.int16], rate: int, count: int) -> list[float]:
    """The ``count`` strongest spectral peaks, in Hz, lowest first."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    local = [i for i in range(1, len(spectrum) - 1) if spectrum[i - 1] < spectrum[i] >= spectrum[i + 1]]
    strongest = sorted(local, key=lambda i: spectrum[i], reverse=True)[:count]
    return sorted(float(freqs[i]) for i in strongest)


def test_parse_the_manuals_examples() -> None:
    assert parse_cadence("350+440/0") == Cadence((CadenceStep((ToneComponent(350), ToneComponent(440)), 0),))
    ring = parse_cadence("440+480/2000,0/4000")
    assert ring.steps[1] == CadenceStep((), 4000) and ring.steps[1].silent
    assert ring.repeats and not parse_cadence("350+440/0").repeats
    assert str(ring) == "440+480/2000,0/4000"
    assert parse_cadence("400*25/400, 0/200").steps[0].components == (ToneComponent(400, 25),)
    assert str(parse_cadence(" 0+440 / 100 ")) == "440/100"  # 0 Hz plays nothing


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("440", "missing '/duration'"),
        ("440/x", "0-30000"),
        ("440/30001", "0-30000"),
        ("440/-1", "0-30000"),
        ("100/10", "200-4000 Hz or 0"),
        ("4001/10", "200-4000 Hz or 0"),
        ("abc/10", "not a frequency"),
        ("440+/10", "not a frequency"),
        ("400*0/10", "modulating frequency must be 1-4000"),
        ("400*25*3/10", "modulates more than once"),
        ("300+400+500+600+700/10", "at most 4 frequencies"),
        ("400*25+500*30+600/10", "at most 4 frequencies"),
        (",".join(["440/10"] * 9), "at most 8"),
    ],
)
def test_parse_errors_name_the_step_and_the_rule(text: str, reason: str) -> None:
    with pytest.raises(CadenceError, match=re.escape(reason)):
        parse_cadence(text)


def test_error_names_the_step() -> None:
    with pytest.raises(CadenceError, match="step 2"):
        parse_cadence("440/100,44/100")


def reference(frequencies: tuple[int, ...], periods: list[tuple[int, int]], total: int, rate: int,
              level: float = -13.0) -> npt.NDArray[np.float64]:
    """What a cadence should sound like: each on period (start, end) in samples, phase from its start."""
    out = np.zeros(total)
    for start, end in periods:
        end = min(end, total)
        n = np.arange(end - start)
        out[start:end] = sum(np.sin(2 * np.pi * f * n / rate) for f in frequencies)
    return out * 32767 * 10 ** (level / 20)


def test_ringback_frequencies_and_timing_to_the_sample() -> None:
    generator = ToneGenerator("440+480/2000,0/4000", rate=8000)
    samples = np.concatenate([generator.read(160) for _ in range(600)])  # 12 s: two cycles
    expected = reference((440, 480), [(0, 16000), (48000, 64000)], 96000, 8000)
    assert np.max(np.abs(samples - expected)) <= 0.5 + 1e-9
    assert np.all(samples[16000:48000] == 0) and np.all(samples[64000:] == 0)
    for found, wanted in zip(peaks(samples[:16000], 8000, 2), (440, 480), strict=True):
        assert abs(found - wanted) <= 0.01 * wanted


def test_frames_join_without_a_seam() -> None:
    whole = ToneGenerator("350+440/0", rate=16000).read(48000)
    pieces = ToneGenerator("350+440/0", rate=16000)
    chunked = np.concatenate([pieces.read(size) for size in [97, 160, 1, 320, 7422] * 6])
    assert np.array_equal(chunked, whole[:len(chunked)])
    n = np.arange(48000)
    ideal = 32767 * 10 ** (-13 / 20) * (np.sin(2 * np.pi * 350 * n / 16000)
                                        + np.sin(2 * np.pi * 440 * n / 16000))
    assert np.max(np.abs(whole - ideal)) <= 0.5 + 1e-9  # only the rounding to int16


def test_a_tone_that_ends_with_0_0_plays_once() -> None:
    generator = ToneGenerator("440/300,0/1000,440/300,0/0", rate=8000)
    frames = list(generator.frames(160))
    assert generator.finished
    samples = np.concatenate(frames)
    assert len(frames) == (300 + 1000 + 300) * 8 // 160
    expected = reference((440,), [(0, 2400), (10400, 12800)], 12800, 8000)
    assert np.max(np.abs(samples - expected)) <= 0.5 + 1e-9


def test_timing_does_not_drift_at_44100() -> None:
    samples = ToneGenerator("1000/1,0/2", rate=44100).read(44100 * 2)
    # a 3 ms cycle is 132.3 samples: rounding per cycle would drift 200 samples in 2 s; edges rounded
    # from absolute time (half up) do not
    def edge(ms: int) -> int:
        return (ms * 44100 + 500) // 1000

    periods = [(edge(ms), edge(ms + 1)) for ms in range(0, 2000, 3)]
    assert np.max(np.abs(samples - reference((1000,), periods, 88200, 44100))) <= 0.5 + 1e-6


def test_modulated_tone_has_its_sidebands() -> None:
    samples = ToneGenerator("400*25/0", rate=8000).read(8000)
    assert peaks(samples, 8000, 3) == pytest.approx([375, 400, 425], abs=2)


def test_level_is_the_peak_of_each_frequency() -> None:
    samples = ToneGenerator("1000/0", rate=8000, level=-6.0).read(8000)
    assert abs(int(np.max(np.abs(samples))) - round(32767 * 10 ** (-6 / 20))) <= 1


def test_every_country_preset_parses_within_the_manuals_limits() -> None:
    assert set(COUNTRY_TONES) == {s.name for s in ToneStandard} - {"CUSTOM"}
    for tones in COUNTRY_TONES.values():
        for text in (tones.dial, tones.ringback, tones.busy, tones.congestion, tones.call_waiting):
            cadence = parse_cadence(text)
            assert 1 <= len(cadence.steps) <= 8
            if "*" not in text:  # modulated ones use a modulating frequency under 200 Hz
                assert re.fullmatch(TONE_PATTERN, text), (tones.name, text)


def test_country_lookup_by_name_or_code() -> None:
    assert country_tones("us") is country_tones("USA")
    assert country_tones("USA").dial == "350+440/0"
    assert country_tones("UK") is country_tones("gb")
    assert country_tones("UK").ringback == "400+450/400,0/200,400+450/400,0/2000"
    assert country_tones("de").busy == "425/480,0/480"
    assert country_tones("France").call_waiting == "440/300,0/10000"
    assert country_tones("CN").dial == "450/0"
    assert country_tones("new zealand").code == "NZ"
    with pytest.raises(ValueError, match="no tone presets for 'Atlantis'"):
        country_tones("Atlantis")


def test_german_busy_tone_plays_425_hz_for_480_ms() -> None:
    samples = ToneGenerator(country_tones("DE").busy, rate=8000).read(8000 * 2)
    periods = [(start, start + 3840) for start in range(0, 16000, 7680)]
    assert np.max(np.abs(samples - reference((425,), periods, 16000, 8000))) <= 0.5 + 1e-9
    assert abs(peaks(samples[:3840], 8000, 1)[0] - 425) <= 4.25


@pytest.mark.parametrize("rate", [8000, 16000])
def test_dtmf_tones_have_their_two_frequencies(rate: int) -> None:
    for digit in "0123456789*#ABCD":
        samples = dtmf_tone(digit, 0.1, rate, level=-20.0)
        assert len(samples) == rate // 10
        for found, wanted in zip(peaks(samples, rate, 2), dtmf_frequencies(digit), strict=True):
            assert abs(found - wanted) <= 0.01 * wanted, digit
    with pytest.raises(ValueError, match="not a DTMF digit"):
        dtmf_frequencies("E")
