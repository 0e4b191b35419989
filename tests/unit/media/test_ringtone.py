"""Ringtones: built-in ring types, and uploaded WAV/MP3 files checked, stored and decoded with PyAV."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.audio.stream import AudioStream

from portier.media.audio import AudioError, LoopSource
from portier.media.ringtone import (
    BUILTIN_RINGS,
    MAX_RINGTONES,
    builtin_ring,
    decode_audio,
    delete_ringtone,
    list_ringtones,
    ring_source,
    ringtone_data,
    store_ringtone,
)
from portier.media.tones import ToneGenerator, parse_cadence
from portier.settings.records import FileKind, StoredFile
from portier.storage import Storage

Samples = npt.NDArray[np.int16]


def encoded(container: str, codec: str, frequency: float, seconds: float, rate: int = 22050) -> bytes:
    """A mono file of a sine, written by PyAV's FFmpeg (what a person would upload)."""
    count = round(seconds * rate)
    samples = (12000 * np.sin(2 * np.pi * frequency * np.arange(count) / rate)).astype(np.int16)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, AudioStream)
        for start in range(0, count, 1152):
            frame = av.AudioFrame.from_ndarray(
                samples[None, start : start + 1152], format="s16", layout="mono"
            )
            frame.rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def peak_hz(samples: Samples, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    return float(np.argmax(spectrum) * rate / samples.size)


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path)


def test_builtin_rings_are_valid_cadences_and_sound_different() -> None:
    rendered = {}
    for name, cadence in BUILTIN_RINGS.items():
        parse_cadence(cadence)
        assert builtin_ring(name) == cadence
        source = ring_source(name, 16000)
        assert isinstance(source, ToneGenerator)
        rendered[name] = source.read(16000 * 6).tobytes()
    assert len(set(rendered.values())) == len(BUILTIN_RINGS)
    assert builtin_ring("type 3") == builtin_ring("Type3") == BUILTIN_RINGS["Type 3"]
    assert builtin_ring("doorbell.mp3") is None


@pytest.mark.parametrize(("container", "codec"), [("wav", "pcm_s16le"), ("mp3", "libmp3lame")])
def test_uploaded_audio_decodes_to_the_output_rate(container: str, codec: str) -> None:
    data = encoded(container, codec, 660, 1.0)
    samples = decode_audio(data, 16000)
    assert abs(samples.size - 16000) < 16000 * 0.1  # MP3 adds its encoder delay and padding
    assert peak_hz(samples, 16000) == pytest.approx(660, rel=0.01)


def test_store_list_load_and_delete(storage: Storage) -> None:
    wav = encoded("wav", "pcm_s16le", 500, 0.5)
    mp3 = encoded("mp3", "libmp3lame", 900, 0.5)
    assert store_ringtone(storage, " doorbell.wav ", wav) == "doorbell.wav"
    assert store_ringtone(storage, "Chime.mp3", mp3) == "Chime.mp3"
    assert list_ringtones(storage) == [*BUILTIN_RINGS, "Chime.mp3", "doorbell.wav"]
    assert ringtone_data(storage, "doorbell.wav") == wav
    source = ring_source("Chime.mp3", 16000, ringtone_data(storage, "Chime.mp3"))
    assert isinstance(source, LoopSource)
    assert peak_hz(source.read(16000), 16000) == pytest.approx(900, rel=0.01)
    assert store_ringtone(storage, "doorbell.wav", mp3) == "doorbell.wav"  # replaces, one row
    assert ringtone_data(storage, "doorbell.wav") == mp3
    assert [row.name for _, row in storage.rows(StoredFile)] == ["doorbell.wav", "Chime.mp3"]
    assert delete_ringtone(storage, "doorbell.wav")
    assert not delete_ringtone(storage, "doorbell.wav")
    assert not delete_ringtone(storage, "Type 1")
    assert list_ringtones(storage) == [*BUILTIN_RINGS, "Chime.mp3"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01garbage" * 500, "not WAV or MP3"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not WAV or MP3"),
    ],
)
def test_what_is_not_audio_is_refused_and_nothing_is_stored(
    storage: Storage, data: bytes, reason: str
) -> None:
    with pytest.raises(AudioError, match=reason):
        store_ringtone(storage, "bad.wav", data)
    assert list_ringtones(storage) == list(BUILTIN_RINGS)


def test_other_formats_silence_and_bad_names_are_refused(storage: Storage) -> None:
    with pytest.raises(AudioError, match="only WAV and MP3"):
        store_ringtone(storage, "tone.flac", encoded("flac", "flac", 440, 0.5))
    with pytest.raises(AudioError, match="only silence"):
        store_ringtone(storage, "quiet.wav", encoded("wav", "pcm_s16le", 0.0, 0.5))
    with pytest.raises(AudioError, match="built-in"):
        store_ringtone(storage, "type 2", encoded("wav", "pcm_s16le", 440, 0.5))
    with pytest.raises(AudioError, match="without /"):
        store_ringtone(storage, "../etc/passwd", encoded("wav", "pcm_s16le", 440, 0.5))
    assert list_ringtones(storage) == list(BUILTIN_RINGS)


def test_the_list_has_a_limit(storage: Storage) -> None:
    wav = encoded("wav", "pcm_s16le", 440, 0.1)
    for number in range(MAX_RINGTONES):
        store_ringtone(storage, f"ring{number}.wav", wav)
    with pytest.raises(AudioError, match="delete one first"):
        store_ringtone(storage, "one-more.wav", wav)
    store_ringtone(storage, "ring0.wav", wav)  # replacing still works
    other = StoredFile(kind=FileKind.TRUST_CERTIFICATE, name="ca.pem", content=b"x")
    storage.add(other)
    assert len(list_ringtones(storage)) == len(BUILTIN_RINGS) + MAX_RINGTONES


def test_an_unknown_ring_says_which_there_are() -> None:
    with pytest.raises(AudioError, match=r"no ringtone called 'Type 12'.*Type 1, Type 2"):
        ring_source("Type 12", 8000)
