"""Ringtones: the built-in ring types and the WAV/MP3 files a person uploads (manual 9.16, 9.8 Upgrade).

A ring is named the way the settings name it ("Default Ring Type", "SIPn Ring Type", the door's
alarm ringtones): ``Type 1`` ... ``Type 8`` are built in, anything else is an uploaded file in the
storage's ``files`` table (kind ``ringtone``). Built-in rings are cadences in the Tone page's own
format (``tones.py``), so they cost no storage and can be checked by their frequencies.

Uploads are decoded with PyAV before anything is stored: a file FFmpeg cannot decode as WAV or MP3
audio, or one without a sound in it, is refused with the reason and leaves the table as it was.
Decoding a few megabytes takes a moment of CPU, so callers on the event loop run ``store_ringtone``
and ``ring_source`` in a thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.error import FFmpegError

from ..settings.records import FileKind, StoredFile
from .audio import AudioError, LoopSource, Samples, Source
from .tones import ToneGenerator

if TYPE_CHECKING:
    from ..storage import Storage

RING_LEVEL = -10.0
"""dBFS peak of each frequency of a built-in ring (before the ring volume)."""

BUILTIN_RINGS: dict[str, str] = {
    "Type 1": "1000*20/1000,0/2000",  # an electromechanical bell: a 20 Hz hammer on a 1 kHz gong
    "Type 2": "800/400,0/200,800/400,0/2000",  # double ring
    "Type 3": "1200*25/400,0/200,1200*25/400,0/2000",  # double trill
    "Type 4": "660/150,880/150,1320/300,0/1500",  # rising chime
    "Type 5": "1400/100,0/100,1400/100,0/100,1400/100,0/1500",  # triple beep
    "Type 6": "523/250,659/250,784/250,1047/500,0/1750",  # arpeggio
    "Type 7": "950+1400/500,0/500,950+1400/500,0/2500",  # two-tone
    "Type 8": "2000*10/1500,0/1500",  # buzzer
}
"""Ring types 1-8 as Tone-page cadences (Freq*Mod is Freq modulated by Mod)."""

DEFAULT_RING = "Type 1"
MAX_RINGTONE_BYTES = 4 * 1024 * 1024
MAX_RINGTONES = 16
FORMATS = ("wav", "mp3")


def _int16(frame: AudioFrame) -> Samples:
    samples: Samples = frame.to_ndarray().reshape(-1).astype(np.int16)
    return samples


def decode_audio(data: bytes, rate: int) -> Samples:
    """A WAV or MP3 file's audio as mono int16 at ``rate``; ``AudioError`` if it is neither, or silent."""
    if not data:
        raise AudioError("the file is empty")
    chunks: list[Samples] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            names = set(container.format.name.split(","))
            if not names & set(FORMATS):
                kind = container.format.long_name
                raise AudioError(f"only WAV and MP3 files can be ringtones; this is {kind}")
            if not container.streams.audio:
                raise AudioError("the file has no audio stream")
            resampler = AudioResampler(format="s16", layout="mono", rate=rate)
            for frame in container.decode(container.streams.audio[0]):
                chunks.extend(_int16(out) for out in resampler.resample(frame))
            chunks.extend(_int16(out) for out in resampler.resample(None))
    except FFmpegError as exc:
        raise AudioError(f"the file is not WAV or MP3 audio that can be decoded: {exc}") from None
    samples: Samples = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, dtype=np.int16)
    if samples.size < rate // 20:
        raise AudioError("the file holds less than 50 ms of audio")
    if not np.any(samples):
        raise AudioError("the file holds only silence")
    return samples


def _check_name(name: str) -> str:
    name = name.strip()
    try:
        StoredFile(kind=FileKind.RINGTONE, name=name, content=b"")
    except ValueError:
        raise AudioError(f"{name!r} cannot name a ringtone: use 1-128 characters without / or \\") from None
    if name.casefold() in (builtin.casefold() for builtin in BUILTIN_RINGS) or name.casefold() == "default":
        raise AudioError(f"{name!r} is the name of a built-in ring; give the file another name")
    return name


def _stored(storage: Storage) -> list[tuple[int, StoredFile]]:
    return [(ident, row) for ident, row in storage.rows(StoredFile) if row.kind is FileKind.RINGTONE]


def store_ringtone(storage: Storage, name: str, data: bytes) -> str:
    """Keep an uploaded WAV or MP3 as the ringtone ``name`` (replacing one of that name) and return the
    name as stored. Raises ``AudioError`` with the reason, storing nothing, when the file is too big,
    not decodable audio, or the ringtone list is full."""
    name = _check_name(name)
    if len(data) > MAX_RINGTONE_BYTES:
        raise AudioError(f"the file has {len(data)} bytes; a ringtone may have at most {MAX_RINGTONE_BYTES}")
    decode_audio(data, 8000)
    row = StoredFile(kind=FileKind.RINGTONE, name=name, content=data)
    existing = _stored(storage)
    for ident, stored in existing:
        if stored.name == name:
            storage.update(ident, row)
            return name
    if len(existing) >= MAX_RINGTONES:
        raise AudioError(f"there are already {MAX_RINGTONES} ringtones; delete one first")
    storage.add(row)
    return name


def list_ringtones(storage: Storage) -> list[str]:
    """Every ring a setting may name: the built-in types, then the uploaded files by name."""
    return [*BUILTIN_RINGS, *sorted((row.name for _, row in _stored(storage)), key=str.casefold)]


def delete_ringtone(storage: Storage, name: str) -> bool:
    """Remove an uploaded ringtone; False when there is none of that name (built-ins stay)."""
    for ident, row in _stored(storage):
        if row.name == name:
            return storage.delete(StoredFile, ident)
    return False


def ringtone_data(storage: Storage, name: str) -> bytes | None:
    """The uploaded file called ``name``, as it was uploaded (None if there is none)."""
    return next((row.content for _, row in _stored(storage) if row.name == name), None)


def builtin_ring(name: str) -> str | None:
    """The cadence of a built-in ring type (``Type 3``, also ``type3``), or None."""
    key = name.strip().casefold().replace(" ", "")
    found = (cadence for ring, cadence in BUILTIN_RINGS.items() if ring.casefold().replace(" ", "") == key)
    return next(found, None)


def ring_source(name: str, rate: int, data: bytes | None = None) -> Source:
    """A source that plays the ring ``name`` for ever at ``rate``: a built-in type, or ``data`` (the
    uploaded file of that name, from ``ringtone_data``). Unknown names raise ``AudioError``."""
    cadence = builtin_ring(name)
    if cadence is not None:
        return ToneGenerator(cadence, rate, RING_LEVEL)
    if data is None:
        raise AudioError(f"there is no ringtone called {name!r}; the rings are {', '.join(BUILTIN_RINGS)} "
                         f"and the uploaded files")
    return LoopSource(decode_audio(data, rate))
