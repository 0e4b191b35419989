"""The local 3-way conference: every remote party hears the others and the device; the device hears all.

Each party is one call's RTP stream. Joining swaps the stream's source and sink for the party's: the
stream keeps ticking as before, reading a frame to send and writing the frame it received, and the
mixer does the rest. What a party receives is fanned out into one ``Feed`` per listener: every other
party, and the device's speaker. What a party sends is mix-minus: its own microphone plus every other
party's feed, never its own voice back. Sums are taken in int32 and clipped to int16, never wrapped.

Why feeds and not one shared bus: the streams tick on their own timers, at their own codec rates (a
G.722 party at 16 kHz with a G.711 one at 8 kHz), so each listener drains its feeds at its own pace
and rate. A feed starts to play only once it holds ``PREBUFFER_S`` and after running dry waits to hold
that much again (the streams' ticks are a few milliseconds apart and jitter), and it drops the oldest
audio beyond ``CAPACITY_S``, so the added latency stays bounded.

The speaker: the device has one, and it should hear the conference once. It is the *lead* party's
(the first to join): on each of the lead's ticks the mixer writes the sum of every party's speaker
feed into the lead's sink; the other parties' sinks hear nothing while they are in the conference.
When the lead leaves, the next party leads. A lead on hold sends nothing, so its ticks read no audio
and the speaker is quiet until it is resumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from .audio import Samples, Sink, Source, StreamResampler
from .sample_ring import SampleRing

PREBUFFER_S = 0.04
CAPACITY_S = 0.3
SPEAKER = ""
"""The listener name of the device's speaker among the feeds."""


class Feed:
    """One talker's audio on its way to one listener, at the listener's rate."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self._resample = StreamResampler(from_rate, to_rate)
        self.ring = SampleRing(max(1, round(CAPACITY_S * to_rate)))
        self.prebuffer = max(1, round(PREBUFFER_S * to_rate))
        self.playing = False
        self.underruns = 0

    def push(self, samples: Samples) -> None:
        self.ring.push(self._resample(samples))

    def take(self, count: int) -> Samples | None:
        """``count`` samples (zero-padded after an underrun), or None while it primes."""
        if not self.playing:
            if len(self.ring) < self.prebuffer:
                return None
            self.playing = True
        out = self.ring.pop(count)
        if out.size < count:
            self.playing = False
            self.underruns += 1
        return out


def mix(base: Samples, parts: list[Samples | None]) -> Samples:
    """``base`` plus every part (shorter parts count as silence after their end), clipped to int16."""
    total: npt.NDArray[np.int32] = base.astype(np.int32)
    for part in parts:
        if part is not None and part.size:
            size = min(part.size, total.size)
            total[:size] += part[:size]
    mixed: Samples = np.clip(total, -32768, 32767).astype(np.int16)
    return mixed


@dataclass
class Party:
    """One call in the conference: its original microphone and speaker, and the source and sink
    that replace them on its stream while it takes part."""

    name: str
    rate: int
    microphone: Source
    speaker: Sink
    mixer: ConferenceMixer
    joined: bool = True
    closed: bool = False
    source: PartySource = field(init=False)
    sink: PartySink = field(init=False)

    def __post_init__(self) -> None:
        self.source = PartySource(self)
        self.sink = PartySink(self)

    def close(self) -> None:
        """The stream stopped (the call ended): leave, and close the microphone and speaker."""
        if self.closed:
            return
        self.closed = True
        self.mixer.leave(self.name)
        self.microphone.close()
        self.speaker.close()


class PartySource:
    """What the party's stream sends: its microphone and everyone else (mix-minus)."""

    def __init__(self, party: Party) -> None:
        self.party = party

    def read(self, count: int) -> Samples:
        return self.party.mixer.read(self.party, count)

    def close(self) -> None:
        self.party.close()


class PartySink:
    """What the party's stream received: fanned out to the others and the speaker."""

    def __init__(self, party: Party) -> None:
        self.party = party

    def write(self, samples: Samples) -> None:
        self.party.mixer.write(self.party, samples)

    def close(self) -> None:
        self.party.close()


class ConferenceMixer:
    """The parties of one conference and the feeds between them. Everything runs on the event loop
    (the streams' ticks), so nothing here needs a lock beyond the rings' own."""

    def __init__(self) -> None:
        self.parties: dict[str, Party] = {}
        self._feeds: dict[tuple[str, str], Feed] = {}

    @property
    def lead(self) -> Party | None:
        return next(iter(self.parties.values()), None)

    def join(self, name: str, rate: int, microphone: Source, speaker: Sink) -> Party:
        """Add a party; install ``party.source`` and ``party.sink`` on its stream."""
        if name in self.parties:
            raise ValueError(f"{name} is already in the conference")
        party = Party(name, rate, microphone, speaker, self)
        self.parties[name] = party
        self._rewire()
        return party

    def leave(self, name: str) -> Party | None:
        """Take a party out without closing anything (its stream gets its own source and sink back)."""
        party = self.parties.pop(name, None)
        if party is not None:
            party.joined = False
            self._rewire()
        return party

    def feed(self, talker: str, listener: str) -> Feed | None:
        return self._feeds.get((talker, listener))

    def _rewire(self) -> None:
        """Feeds for every (talker, listener) pair of the current parties; kept ones keep their audio."""
        lead = self.lead
        wanted: dict[tuple[str, str], tuple[int, int]] = {}
        for talker in self.parties.values():
            for listener in self.parties.values():
                if listener is not talker:
                    wanted[(talker.name, listener.name)] = (talker.rate, listener.rate)
            if lead is not None:
                wanted[(talker.name, SPEAKER)] = (talker.rate, lead.rate)
        kept = {key: feed for key, feed in self._feeds.items() if key in wanted and key[1] != SPEAKER}
        for key, (from_rate, to_rate) in wanted.items():
            if key not in kept:
                kept[key] = Feed(from_rate, to_rate)
        self._feeds = kept

    def write(self, party: Party, samples: Samples) -> None:
        """``party``'s stream received ``samples``: queue them for every listener."""
        if not party.joined or samples.size == 0:
            return
        for (talker, _), feed in self._feeds.items():
            if talker == party.name:
                feed.push(samples)

    def read(self, party: Party, count: int) -> Samples:
        """The frame ``party``'s stream sends: its microphone plus every other party. On the lead's
        tick the speaker gets the sum of every party's audio too."""
        microphone = party.microphone.read(count)
        if not party.joined:
            return microphone
        others = [feed.take(count) for (talker, listener), feed in self._feeds.items()
                  if listener == party.name and talker != party.name]  # fmt: skip
        if party is self.lead:
            heard = [feed.take(count) for (_, listener), feed in self._feeds.items() if listener == SPEAKER]
            party.speaker.write(mix(np.zeros(count, dtype=np.int16), heard))
        return mix(microphone, others)
