"""Sound cards through PortAudio (``sounddevice``): the speaker and the microphone of a real device.

``sounddevice`` is imported only when a sound card is asked for, so a device that records to WAV
files (tests, a server) runs without PortAudio; when it is missing, or the named card does not exist,
the error says what to install or which cards there are.

PortAudio calls a stream's callback on its own thread at the card's pace. Nothing there touches the
event loop: the output callback asks the ``Mixer`` (``speaker.py``) for the next block, the input
callback copies each block into the ``SampleRing`` of every open source. One stream per card and
direction is shared by everything that plays or records on it (a call and a ring at once), opened
with the first user and closed with the last. The card runs at its own default rate; calls and
tones at another rate are resampled on the way.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np

from .audio import AudioError, Samples, StreamResampler
from .sample_ring import SampleRing
from .speaker import Mixer, MixerChannel

log = logging.getLogger(__name__)

Kind = Literal["input", "output"]
INPUT_BUFFER_S = 0.2
INPUT_PREBUFFER_S = 0.03


def sounddevice() -> ModuleType:
    """The ``sounddevice`` module, or an ``AudioError`` that says what to install."""
    try:
        return importlib.import_module("sounddevice")
    except ImportError as exc:
        problem = f"sound cards need the Python package sounddevice (pip install sounddevice): {exc}"
        raise AudioError(problem) from None
    except OSError as exc:  # the PortAudio library itself is missing
        raise AudioError(f"sound cards need PortAudio: apt-get install libportaudio2 ({exc})") from None
    except Exception as exc:  # PortAudioError: PortAudio is there but could not start
        raise AudioError(f"PortAudio could not start, so no sound card can be used: {exc}") from None


@dataclass(frozen=True)
class CardInfo:
    """One PortAudio device as a person would pick it."""

    index: int
    name: str
    host_api: str
    inputs: int
    outputs: int
    rate: int

    def __str__(self) -> str:
        where = f"{self.host_api}, {self.inputs} in, {self.outputs} out, {self.rate} Hz"
        return f"{self.index}: {self.name!r} ({where})"


def list_cards() -> list[CardInfo]:
    """Every device PortAudio sees (an ``AudioError`` when PortAudio is missing)."""
    sd = sounddevice()
    apis = [str(api["name"]) for api in sd.query_hostapis()]
    cards = []
    for index, info in enumerate(sd.query_devices()):
        api = int(info["hostapi"])
        cards.append(CardInfo(index, str(info["name"]), apis[api] if api < len(apis) else "?",
                              int(info["max_input_channels"]), int(info["max_output_channels"]),
                              int(info["default_samplerate"])))
    return cards


def _usable(card: CardInfo, kind: Kind) -> bool:
    return (card.inputs if kind == "input" else card.outputs) > 0


def _choices(cards: list[CardInfo], kind: Kind) -> str:
    usable = [str(card) for card in cards if _usable(card, kind)]
    if usable:
        return f"the {kind}s here are: " + "; ".join(usable)
    return (f"PortAudio finds no sound card {kind} on this machine (is one plugged in, and can this user "
            f"open it? `python -m sounddevice` lists what PortAudio sees)")


def find_card(device: str, kind: Kind) -> CardInfo:
    """The card ``sound:DEVICE`` means: empty for the default, an index, an exact name, or a unique
    part of a name (case-insensitive)."""
    sd = sounddevice()
    cards = list_cards()
    if not device:
        default = sd.default.device[0 if kind == "input" else 1]
        index = int(default) if default is not None else -1
        if not 0 <= index < len(cards) or not _usable(cards[index], kind):
            raise AudioError(f"there is no default sound card {kind}; name one as sound:NAME or sound:INDEX; "
                             + _choices(cards, kind))
        return cards[index]
    if device.isdigit():
        index = int(device)
        if index < len(cards) and _usable(cards[index], kind):
            return cards[index]
        raise AudioError(f"sound card {kind} {index} does not exist; " + _choices(cards, kind))
    usable = [card for card in cards if _usable(card, kind)]
    exact = [card for card in usable if card.name == device]
    found = exact or [card for card in usable if device.lower() in card.name.lower()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise AudioError(f"no sound card {kind} is called {device!r}; " + _choices(cards, kind))
    names = ", ".join(repr(card.name) for card in found)
    raise AudioError(f"{device!r} names several sound card {kind}s ({names}); use one's index or full name")


class _Card:
    """One open PortAudio stream, shared by reference count."""

    def __init__(self, info: CardInfo, kind: Kind) -> None:
        self.info = info
        self.kind = kind
        self.rate = info.rate
        self.users = 0
        self.errors = 0
        self._stream: Any = None
        self._channels = 1

    def open(self) -> None:
        sd = sounddevice()
        stream_class = sd.InputStream if self.kind == "input" else sd.OutputStream
        problem: Exception | None = None
        for channels in (1, 2):  # some cards (raw ALSA hw) only take stereo
            try:
                stream = stream_class(device=self.info.index, samplerate=self.rate, channels=channels,
                                      dtype="int16", latency="low", callback=self._callback)
                stream.start()
            except Exception as exc:  # sd.PortAudioError, or ValueError for a bad parameter
                problem = exc
                continue
            self._stream, self._channels = stream, channels
            log.info("sound card %s %s open, %d channel(s)", self.kind, self.info, channels)
            return
        raise AudioError(f"cannot open sound card {self.kind} {self.info}: {problem}")

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception as exc:  # a card unplugged meanwhile: nothing left to release
                log.warning("sound card %s %s did not close cleanly: %s", self.kind, self.info.name, exc)

    def _callback(self, data: Any, frames: int, time: Any, status: Any) -> None:
        try:
            self.process(data, frames)
        except Exception:  # never let an exception into PortAudio's thread; play silence instead
            self.errors += 1
            if self.errors == 1:
                log.exception("sound card %s %s: audio callback failed", self.kind, self.info.name)
            if self.kind == "output":
                data.fill(0)

    def process(self, data: Any, frames: int) -> None:
        raise NotImplementedError


class _Output(_Card):
    def __init__(self, info: CardInfo) -> None:
        super().__init__(info, "output")
        self.mixer = Mixer(self.rate)

    def process(self, data: Any, frames: int) -> None:
        data[:] = self.mixer.mix(frames)[:, None]


class _Input(_Card):
    def __init__(self, info: CardInfo) -> None:
        super().__init__(info, "input")
        self.readers: list[CardSource] = []
        self._lock = threading.Lock()

    def process(self, data: Any, frames: int) -> None:
        block = np.asarray(data)
        mono: Samples = block[:, 0].copy() if block.shape[1] == 1 else block.mean(axis=1).astype(np.int16)
        with self._lock:
            readers = list(self.readers)
        for reader in readers:
            reader.feed(mono)

    def add(self, reader: CardSource) -> None:
        with self._lock:
            self.readers.append(reader)

    def remove(self, reader: CardSource) -> None:
        with self._lock:
            if reader in self.readers:
                self.readers.remove(reader)


_cards: dict[tuple[Kind, int], _Card] = {}
_registry_lock = threading.Lock()


def _acquire(device: str, kind: Kind) -> _Card:
    info = find_card(device, kind)
    with _registry_lock:
        card = _cards.get((kind, info.index))
        if card is None:
            card = _Output(info) if kind == "output" else _Input(info)
            card.open()
            _cards[(kind, info.index)] = card
        card.users += 1
        return card


def _release(card: _Card) -> None:
    with _registry_lock:
        card.users -= 1
        if card.users > 0:
            return
        _cards.pop((card.kind, card.info.index), None)
    card.close()


class CardSink:
    """A sink on a sound card's speaker: one channel of its mixer."""

    def __init__(self, device: str, rate: int, name: str = "") -> None:
        card = _acquire(device, "output")
        assert isinstance(card, _Output)
        self._card: _Output | None = card
        self.channel: MixerChannel = card.mixer.channel(rate, name)

    def write(self, samples: Samples) -> None:
        self.channel.write(samples)

    def close(self) -> None:
        card, self._card = self._card, None
        if card is not None:
            self.channel.close()
            _release(card)


class CardSource:
    """A source on a sound card's microphone, at the call's rate; ``read`` never waits: it hands out
    silence until the card has delivered enough, and again after the card fell behind."""

    def __init__(self, device: str, rate: int) -> None:
        card = _acquire(device, "input")
        assert isinstance(card, _Input)
        self.rate = rate
        self._resample = StreamResampler(card.rate, rate)
        self.ring = SampleRing(max(1, round(INPUT_BUFFER_S * rate)))
        self._prebuffer = round(INPUT_PREBUFFER_S * rate)
        self._playing = False
        self._card: _Input | None = card
        card.add(self)

    def feed(self, samples: Samples) -> None:
        """Audio thread: one block from the card."""
        self.ring.push(self._resample(samples))

    def read(self, count: int) -> Samples:
        if not self._playing and len(self.ring) < count + self._prebuffer:
            return np.zeros(count, dtype=np.int16)
        self._playing = True
        out = self.ring.pop(count)
        if out.size < count:
            self._playing = False
            out = np.concatenate((out, np.zeros(count - out.size, dtype=np.int16)))
        return out

    def close(self) -> None:
        card, self._card = self._card, None
        if card is not None:
            card.remove(self)
            _release(card)


def open_output(device: str, rate: int, name: str = "") -> CardSink:
    """A new sink at ``rate`` on the speaker ``sound:DEVICE`` names (mixed with its other sinks)."""
    return CardSink(device, rate, name)


def open_input(device: str, rate: int) -> CardSource:
    """A new source at ``rate`` from the microphone ``sound:DEVICE`` names."""
    return CardSource(device, rate)
