"""In-band DTMF detection (sans-IO): int16 samples in, each keypress out once.

Method: windows of 25.6 ms (205 samples at 8 kHz, 410 at 16 kHz, the classic Goertzel block) every half
window; in each, the power at the eight DTMF frequencies -- what the Goertzel filter computes, done
here as one matrix product over all pending windows, which numpy runs far faster than the scalar
recurrence. A window shows a digit when the strongest row and column tones
- are each above ``min_level`` dBFS,
- differ by no more than the twist limits (column up to 8 dB louder, row up to 4 dB louder),
- stand 8 dB above the other tones of their group (relative peak),
- together hold at least 60 % of the window's energy (speech and noise spread theirs).
A digit is reported once it shows in consecutive windows spanning ``min_duration`` (40 ms: two
windows), and again only after two windows without it, so a held key gives one digit and a short
interruption inside a tone does not split it.

Why windows are analysed in batches (``batch``, 40 ms: three windows at a time): the detector runs on
every frame of every call, and a numpy call costs about as much for three windows as for one, so
frames are only collected until a batch is complete. The windows and so the digits are exactly those
of frame-by-frame analysis; a digit just comes out up to one batch later (it takes 40 ms of tone anyway).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .tones import DTMF_COLUMNS, DTMF_KEYPAD, DTMF_ROWS

_FREQUENCIES = DTMF_ROWS + DTMF_COLUMNS
_RELEASE_WINDOWS = 2


def tone_power(samples: npt.NDArray[np.floating] | npt.NDArray[np.integer], frequencies: tuple[int, ...],
               rate: int) -> npt.NDArray[np.float64]:
    """|X(f)|^2 of one block at each frequency: the Goertzel filter's output power."""
    n = np.arange(len(samples))
    basis = np.exp(-2j * np.pi * np.outer(n, np.asarray(frequencies, dtype=np.float64)) / rate)
    spectrum = np.asarray(samples, dtype=np.float64) @ basis
    return np.asarray(np.abs(spectrum) ** 2, dtype=np.float64)


class DtmfDetector:
    def __init__(
        self,
        rate: int = 8000,
        *,
        min_duration: float = 0.04,
        min_level: float = -40.0,
        twist: float = 8.0,
        reverse_twist: float = 4.0,
        relative_peak: float = 8.0,
        energy_ratio: float = 0.6,
        batch: float = 0.04,
    ) -> None:
        self.rate = rate
        self.block = round(0.0256 * rate)
        self.hop = self.block // 2
        self.hits_needed = max(2, round((min_duration * rate - self.block) / self.hop) + 1)
        self._min_amplitude = 32768.0 * 10.0 ** (min_level / 20.0)
        self._twist = 10.0 ** (twist / 10.0)
        self._reverse_twist = 10.0 ** (reverse_twist / 10.0)
        self._relative_peak = 10.0 ** (relative_peak / 10.0)
        self._ratio_block = energy_ratio * self.block
        frequencies = np.asarray(_FREQUENCIES, dtype=np.float64)
        angles = 2.0 * np.pi * np.outer(np.arange(self.block), frequencies) / rate
        self._basis = np.concatenate((np.cos(angles), np.sin(angles)), axis=1)
        """Real and imaginary parts of the eight DFT bins side by side: one real matrix product."""
        self._minimum = (self._min_amplitude * self.block / 2.0) ** 2
        """DFT power of a sinusoid at ``min_level``: A = 2|X| / N."""
        self._quiet = self._minimum / self.block
        """Below this window energy no tone can reach the minimum (|X|^2 <= N * energy): no DFT needed."""
        self._windows: dict[int, npt.NDArray[np.intp]] = {}
        self._ready = self.block + (max(1, round(batch * rate / self.hop)) - 1) * self.hop
        """Samples that make a batch of windows."""
        self._pending: list[npt.NDArray[np.float64] | npt.NDArray[np.int16]] = []
        self._held = 0
        self._candidate: str | None = None
        self._count = 0
        self._current: str | None = None
        self._misses = 0

    def reset(self) -> None:
        self._pending = []
        self._held = 0
        self._candidate = self._current = None
        self._count = self._misses = 0

    def feed(self, samples: npt.NDArray[np.int16]) -> list[str]:
        """Digits whose tones were confirmed in these samples (usually none).

        Called for every frame of a call, so it is written for few numpy calls: frames wait until
        a batch of windows is complete, the window indices are built once per window count, and a
        quiet batch skips the DFT.
        """
        self._pending.append(samples)
        self._held += samples.shape[0]
        if self._held < self._ready:
            return []
        pending = np.concatenate(self._pending, dtype=np.float64)
        count = 1 + (pending.shape[0] - self.block) // self.hop
        index = self._windows.get(count)
        if index is None:
            index = np.arange(count)[:, None] * self.hop + np.arange(self.block)[None, :]
            self._windows[count] = index
        windows = pending[index]
        rest = pending[count * self.hop:]
        self._pending = [rest]
        self._held = rest.shape[0]
        energies: list[float] = np.einsum("ij,ij->i", windows, windows).tolist()
        digits: list[str] = []
        if max(energies) < self._quiet:
            classified: list[str | None] = [None] * count
        else:
            projection = windows @ self._basis
            squared = projection * projection
            powers: list[list[float]] = (squared[:, :8] + squared[:, 8:]).tolist()
            classified = [self._classify(p, e) for p, e in zip(powers, energies, strict=True)]
        for digit in classified:
            if digit is None and self._current is None:  # nothing then and nothing now: the usual case
                self._candidate = None
                self._count = 0
                continue
            found = self._debounce(digit)
            if found is not None:
                digits.append(found)
        return digits

    def _classify(self, power: list[float], energy: float) -> str | None:
        r0, r1, r2, r3, c0, c1, c2, c3 = power
        row_power = max(r0, r1, r2, r3)
        column_power = max(c0, c1, c2, c3)
        # fraction of the window's energy in the two tones: 2|X|^2 / (N * energy) per tone
        if 2.0 * (row_power + column_power) < self._ratio_block * energy:
            return None
        rows = power[:4]
        columns = power[4:]
        minimum = self._minimum
        if row_power < minimum or column_power < minimum:
            return None
        if column_power > row_power * self._twist or row_power > column_power * self._reverse_twist:
            return None
        r = rows.index(row_power)
        c = columns.index(column_power)
        for group, peak, at in ((rows, row_power, r), (columns, column_power, c)):
            for j in range(4):
                if j != at and group[j] * self._relative_peak > peak:
                    return None
        return DTMF_KEYPAD[r][c]

    def _debounce(self, digit: str | None) -> str | None:
        if digit is not None and digit == self._candidate:
            self._count += 1
        else:
            self._candidate = digit
            self._count = 1 if digit is not None else 0
        if self._current is not None:
            if digit == self._current:
                self._misses = 0
            else:
                self._misses += 1
                if self._misses >= _RELEASE_WINDOWS:
                    self._current = None
                    self._misses = 0
        candidate = self._candidate
        if candidate is not None and candidate != self._current and self._count >= self.hits_needed:
            self._current = candidate
            self._misses = 0
            return candidate
        return None
