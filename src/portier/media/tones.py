"""Call progress tones from the manual's cadence strings, country presets, and DTMF tone synthesis.

The format (manual 9.22, Intercom settings >> Tone): ``cadence[,cadence]...``, at most eight, each
``Freq1[+Freq2[+Freq3[+Freq4]]]/Duration``. ``+`` sums frequencies; ``Freq1*Freq2`` is Freq1 modulated
by Freq2 (amplitude modulation, 90 % deep as telephone exchanges do it). Frequencies are 200-4000 Hz or
0 (nothing plays); durations 0-30000 ms. The steps repeat; a step of 0 ms holds for ever, so
``350+440/0`` is a continuous dial tone and a final ``0/0`` ends a tone that plays its steps once.
One extension: the *modulating* frequency may be 1-4000 Hz, because the real modulated tones (India
``400*25``, Japan ``400*16``) modulate at a few tens of hertz.

Why phase is computed from the sample index, not accumulated: frames join without clicks and a tone
that has played for hours is as exact as one just started (integer frequencies make ``f * n mod rate``
exact). Step boundaries fall at ``round(ms * rate / 1000)`` of the time since the tone began, so
timing is exact to the sample and does not drift, even at rates such as 44.1 kHz.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MAX_STEPS = 8
MAX_FREQUENCIES = 4
MAX_DURATION_MS = 30000
MODULATION_DEPTH = 0.9
DEFAULT_LEVEL = -13.0
"""dBFS of each frequency's peak: two summed stay below -7 dBFS."""

DTMF_ROWS = (697, 770, 852, 941)
DTMF_COLUMNS = (1209, 1336, 1477, 1633)
DTMF_KEYPAD = ("123A", "456B", "789C", "*0#D")

_NUMBER = re.compile(r"\d{1,5}")


class CadenceError(ValueError):
    """A cadence string that does not follow the manual's tone format; the text says where."""


@dataclass(frozen=True, slots=True)
class ToneComponent:
    """One sounding frequency; ``modulation`` > 0 makes it ``frequency*modulation``."""

    frequency: int
    modulation: int = 0

    def __str__(self) -> str:
        return f"{self.frequency}*{self.modulation}" if self.modulation else str(self.frequency)


@dataclass(frozen=True, slots=True)
class CadenceStep:
    """Frequencies played together for ``duration_ms`` (0: for ever); no components is silence."""

    components: tuple[ToneComponent, ...]
    duration_ms: int

    @property
    def silent(self) -> bool:
        return not self.components

    def __str__(self) -> str:
        sound = "+".join(str(c) for c in self.components) or "0"
        return f"{sound}/{self.duration_ms}"


@dataclass(frozen=True, slots=True)
class Cadence:
    steps: tuple[CadenceStep, ...]

    @property
    def repeats(self) -> bool:
        """True when the steps cycle for ever (no step holds)."""
        return all(step.duration_ms for step in self.steps)

    def __str__(self) -> str:
        return ",".join(str(step) for step in self.steps)


def _frequency(text: str, where: str, *, modulating: bool) -> int:
    if not _NUMBER.fullmatch(text):
        raise CadenceError(f"{where}: {text!r} is not a frequency in whole hertz")
    value = int(text)
    if modulating:
        if not 1 <= value <= 4000:
            raise CadenceError(f"{where}: a modulating frequency must be 1-4000 Hz, got {value}")
    elif value and not 200 <= value <= 4000:
        raise CadenceError(f"{where}: a frequency must be 200-4000 Hz or 0 (silence), got {value}")
    return value


def _step(text: str, where: str) -> CadenceStep:
    sound, slash, duration = text.partition("/")
    if not slash:
        raise CadenceError(f"{where}: missing '/duration' in {text!r} (write 350+440/0 for a tone that "
                           f"does not stop)")
    duration = duration.strip()
    if not _NUMBER.fullmatch(duration) or int(duration) > MAX_DURATION_MS:
        raise CadenceError(f"{where}: the duration must be a whole number of milliseconds 0-30000, "
                           f"got {duration!r}")
    components = []
    count = 0
    for term in sound.split("+"):
        parts = [part.strip() for part in term.split("*")]
        if len(parts) > 2:
            raise CadenceError(f"{where}: {term.strip()!r} modulates more than once; write Freq1*Freq2")
        count += len(parts)
        carrier = _frequency(parts[0], where, modulating=False)
        modulation = _frequency(parts[1], where, modulating=True) if len(parts) == 2 else 0
        if carrier:
            components.append(ToneComponent(carrier, modulation))
    if count > MAX_FREQUENCIES:
        raise CadenceError(f"{where}: a step has at most {MAX_FREQUENCIES} frequencies, got {count}")
    return CadenceStep(tuple(components), int(duration))


def parse_cadence(text: str) -> Cadence:
    """Parse ``350+440/0``, ``440+480/2000,0/4000``...; raises ``CadenceError`` with the step at fault."""
    if not text.strip():
        raise CadenceError("a tone cadence is empty; give at least one Freq/Duration step")
    pieces = text.split(",")
    if len(pieces) > MAX_STEPS:
        raise CadenceError(f"tone {text!r} has {len(pieces)} steps; the manual allows at most {MAX_STEPS}")
    return Cadence(tuple(_step(piece.strip(), f"tone {text!r}, step {i}")
                         for i, piece in enumerate(pieces, 1)))


def _amplitude(level: float) -> float:
    return float(32767.0 * 10.0 ** (level / 20.0))


def _sine(frequency: int, start: int, count: int, rate: int) -> npt.NDArray[np.float64]:
    n = np.arange(start, start + count, dtype=np.int64)
    phase = (n * frequency) % rate  # exact for integer frequencies, however long the tone has played
    return np.sin(2.0 * np.pi * phase.astype(np.float64) / rate)


def _render(components: tuple[ToneComponent, ...], start: int, count: int, rate: int,
            amplitude: float) -> npt.NDArray[np.float64]:
    out = np.zeros(count, dtype=np.float64)
    for component in components:
        wave = _sine(component.frequency, start, count, rate)
        if component.modulation:
            envelope = 1.0 + MODULATION_DEPTH * _sine(component.modulation, start, count, rate)
            wave *= envelope / (1.0 + MODULATION_DEPTH)
        out += wave
    return out * amplitude


def _to_int16(samples: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)


class ToneGenerator:
    """Plays a cadence as int16 samples, frame after frame, for as long as it is read."""

    def __init__(self, cadence: Cadence | str, rate: int = 8000, level: float = DEFAULT_LEVEL) -> None:
        self.cadence = parse_cadence(cadence) if isinstance(cadence, str) else cadence
        self.rate = rate
        self._amplitude = _amplitude(level)
        self._starts_ms = list(itertools.accumulate((step.duration_ms for step in self.cadence.steps),
                                                    initial=0))
        self._cycle_ms = self._starts_ms[-1]
        self._cycle = 0
        self._step = 0
        self._offset = 0
        self._length = self._step_length()
        self._skip_empty()

    def _edge(self, cycle: int, step: int) -> int:
        """Sample index where ``step`` of ``cycle`` begins: rounded from absolute time, so no drift."""
        return ((cycle * self._cycle_ms + self._starts_ms[step]) * self.rate + 500) // 1000

    def _step_length(self) -> int:
        return self._edge(self._cycle, self._step + 1) - self._edge(self._cycle, self._step)

    def _holds(self) -> bool:
        return self.cadence.steps[self._step].duration_ms == 0

    def _advance(self) -> None:
        self._step += 1
        if self._step == len(self.cadence.steps):
            self._step = 0
            self._cycle += 1
        self._offset = 0
        self._length = self._step_length()

    def _skip_empty(self) -> None:
        # a step shorter than one sample at this rate plays nothing
        for _ in range(2 * len(self.cadence.steps)):
            if self._holds() or self._length > 0:
                return
            self._advance()

    @property
    def finished(self) -> bool:
        """True once the tone holds a silent step for ever (it ended with ``0/0``)."""
        step = self.cadence.steps[self._step]
        return step.duration_ms == 0 and step.silent

    def read(self, count: int) -> npt.NDArray[np.int16]:
        """The next ``count`` samples."""
        out = np.zeros(count, dtype=np.float64)
        done = 0
        while done < count:
            step = self.cadence.steps[self._step]
            holds = self._holds()
            take = count - done if holds else min(count - done, self._length - self._offset)
            if take <= 0:  # every step rounds to zero samples at this rate: nothing to play
                break
            if step.components:
                out[done:done + take] = _render(step.components, self._offset, take, self.rate,
                                                self._amplitude)
            done += take
            self._offset += take
            if not holds and self._offset >= self._length:
                self._advance()
                self._skip_empty()
        return _to_int16(out)

    def frames(self, size: int) -> Iterator[npt.NDArray[np.int16]]:
        """Frames of ``size`` samples until the tone has finished (for ever if it repeats or holds)."""
        while not self.finished:
            yield self.read(size)

    def close(self) -> None:
        """Nothing to release; a generator is also an audio ``Source``."""
        return None


def dtmf_frequencies(digit: str) -> tuple[int, int]:
    """(row, column) frequencies of a keypad digit ``0-9 * # A-D``."""
    key = digit.upper()
    for row, keys in zip(DTMF_ROWS, DTMF_KEYPAD, strict=True):
        column = keys.find(key) if len(key) == 1 else -1
        if column >= 0:
            return row, DTMF_COLUMNS[column]
    raise ValueError(f"{digit!r} is not a DTMF digit (0-9, *, #, A-D)")


def dtmf_tone(digit: str, duration: float, rate: int = 8000, level: float = -10.0,
              twist: float = 0.0) -> npt.NDArray[np.int16]:
    """``duration`` seconds of a digit's two tones, each ``level`` dBFS peak; the column tone is
    ``twist`` dB louder than the row tone (negative: quieter)."""
    row, column = dtmf_frequencies(digit)
    count = round(duration * rate)
    samples = _amplitude(level) * _sine(row, 0, count, rate)
    samples += _amplitude(level + twist) * _sine(column, 0, count, rate)
    return _to_int16(samples)


@dataclass(frozen=True, slots=True)
class CountryTones:
    """One country's call progress tones as cadence strings (manual 9.22 "Select Your Tone")."""

    name: str
    code: str
    dial: str
    ringback: str
    busy: str
    congestion: str
    call_waiting: str


def _country(name: str, code: str, dial: str, ringback: str, busy: str, congestion: str,
             call_waiting: str) -> CountryTones:
    return CountryTones(name, code, dial, ringback, busy, congestion, call_waiting)


# Values from ITU-T E.180 Supplement 2 as collected in Asterisk's indications.conf; sequences that play
# once there ("!") end with 0/0 here, and ones longer than eight steps keep their repeating core.
# Names are those of the web list (settings ToneStandard); code is ISO 3166-1.
COUNTRY_TONES: dict[str, CountryTones] = {t.name: t for t in (
    _country("AUSTRALIA", "AU", "413+438/0", "413+438/400,0/200,413+438/400,0/2000", "425/375,0/375",
             "425/375,0/375,420/375,0/375", "425/200,0/200,425/200,0/4400"),
    _country("AUSTRIA", "AT", "420/0", "420/1000,0/5000", "420/400,0/400", "420/200,0/200", "420/40,0/1960"),
    _country("BRAZIL", "BR", "425/0", "425/1000,0/4000", "425/250,0/250", "425/250,0/250,425/750,0/250",
             "425/50,0/1000"),
    _country("BELGIUM", "BE", "425/0", "425/1000,0/3000", "425/500,0/500", "425/167,0/167",
             "1400/175,0/175,1400/175,0/3500"),
    _country("CHINA", "CN", "450/0", "450/1000,0/4000", "450/350,0/350", "450/700,0/700", "450/400,0/4000"),
    _country("CHILE", "CL", "400/0", "400/1000,0/3000", "400/500,0/500", "400/200,0/200", "400/250,0/8750"),
    _country("CZECH", "CZ", "425/330,0/330,425/660,0/660", "425/1000,0/4000", "425/330,0/330",
             "425/165,0/165", "425/330,0/9000"),
    _country("DENMARK", "DK", "425/0", "425/1000,0/4000", "425/500,0/500", "425/200,0/200",
             "425/200,0/600,425/200,0/3000,425/200,0/200,425/200,0/0"),
    _country("FINLAND", "FI", "425/0", "425/1000,0/4000", "425/300,0/300", "425/200,0/200",
             "425/150,0/150,425/150,0/8000"),
    _country("FRANCE", "FR", "440/0", "440/1500,0/3500", "440/500,0/500", "440/250,0/250", "440/300,0/10000"),
    _country("GERMANY", "DE", "425/0", "425/1000,0/4000", "425/480,0/480", "425/240,0/240",
             "425/200,0/200,425/200,0/5000"),
    _country("UK", "GB", "350+440/0", "400+450/400,0/200,400+450/400,0/2000", "400/375,0/375",
             "400/400,0/350,400/225,0/525", "400/100,0/4000"),
    _country("GREECE", "GR", "425/200,0/300,425/700,0/800", "425/1000,0/4000", "425/300,0/300",
             "425/200,0/200", "425/150,0/150,425/150,0/8000"),
    _country("HUNGARY", "HU", "425/0", "425/1250,0/3750", "425/300,0/300", "425/300,0/300", "425/40,0/1960"),
    _country("LITHUANIA", "LT", "425/0", "425/1000,0/4000", "425/350,0/350", "425/200,0/200",
             "425/150,0/150,425/150,0/4000"),
    _country("INDIA", "IN", "400*25/0", "400*25/400,0/200,400*25/400,0/2000", "400/750,0/750",
             "400/250,0/250", "400/200,0/100,400/200,0/7500"),
    _country("ITALY", "IT", "425/200,0/200,425/600,0/1000", "425/1000,0/4000", "425/500,0/500",
             "425/200,0/200", "425/400,0/100,425/250,0/100,425/150,0/14000"),
    _country("JAPAN", "JP", "400/0", "400*16/1000,0/2000", "400/500,0/500", "400/500,0/500",
             "400*16/500,0/8000"),
    _country("MEXICO", "MX", "425/0", "425/1000,0/4000", "425/250,0/250", "425/250,0/250",
             "425/200,0/600,425/200,0/10000"),
    _country("NEW_ZEALAND", "NZ", "400/0", "400+450/400,0/200,400+450/400,0/2000", "400/500,0/500",
             "400/250,0/250", "400/200,0/3000,400/200,0/3000,400/200,0/3000,400/200,0/0"),
    _country("NETHERLANDS", "NL", "425/0", "425/1000,0/4000", "425/500,0/500", "425/250,0/250",
             "425/500,0/9500"),
    _country("NORWAY", "NO", "425/0", "425/1000,0/4000", "425/500,0/500", "425/200,0/200",
             "425/200,0/600,425/200,0/10000"),
    _country("PORTUGAL", "PT", "425/0", "425/1000,0/5000", "425/500,0/500", "425/200,0/200",
             "440/300,0/10000"),
    _country("SPAIN", "ES", "425/0", "425/1500,0/3000", "425/200,0/200",
             "425/200,0/200,425/200,0/200,425/200,0/600",
             "425/175,0/175,425/175,0/3500"),
    _country("SWITZERLAND", "CH", "425/0", "425/1000,0/4000", "425/500,0/500", "425/200,0/200",
             "425/200,0/200,425/200,0/4000"),
    _country("SWEDEN", "SE", "425/0", "425/1000,0/5000", "425/250,0/250", "425/250,0/750",
             "425/200,0/500,425/200,0/9100"),
    _country("RUSSIA", "RU", "425/0", "425/1000,0/4000", "425/350,0/350", "425/175,0/175", "425/200,0/5000"),
    _country("USA", "US", "350+440/0", "440+480/2000,0/4000", "480+620/500,0/500", "480+620/250,0/250",
             "440/300,0/10000"),
)}


def country_tones(country: str) -> CountryTones:
    """Presets by web-list name (``GERMANY``, ``NEW_ZEALAND``) or ISO code (``DE``, ``US``, also ``UK``)."""
    key = country.strip().upper().replace(" ", "_")
    if key in COUNTRY_TONES:
        return COUNTRY_TONES[key]
    for tones in COUNTRY_TONES.values():
        if tones.code == key:
            return tones
    known = ", ".join(sorted(COUNTRY_TONES))
    raise ValueError(f"no tone presets for {country!r}; known countries: {known}")


PROGRESS_TONES = ("dial", "ringback", "busy", "congestion", "call_waiting")
"""The call progress tones a country preset gives (the Tone page has more, set by hand only)."""


def effective_cadence(kind: str, custom: str, country: str | None) -> Cadence | None:
    """What plays as tone ``kind``: the Tone page's ``custom`` cadence when set and valid, else the
    ``country`` preset (None: the page is on CUSTOM), else nothing."""
    if custom.strip():
        try:
            return parse_cadence(custom)
        except CadenceError:
            pass  # the settings pattern lets a few malformed ones through (440*0); the preset still plays
    if country is None or kind not in PROGRESS_TONES:
        return None
    return parse_cadence(getattr(country_tones(country), kind))
