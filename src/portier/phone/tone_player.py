"""The device service "tones": what the local speaker plays around calls (manual 7.2, 7.5, 9.16, 9.22).

It listens to ``CallStateChanged`` and keeps one cue at a time, decided by ``cue_for`` from the live
calls alone, in this order:

- a second call rings while another is talking: the call-waiting tone ("Enable Call Waiting Tone"),
  mixed over the call's audio;
- an incoming call rings: its ring ("SIPn Ring Type", else "Default Ring Type") at the "Speakerphone
  Ring Volume", unless "Enable Silent Mode";
- an outgoing call is alerting (180/183): the ringback tone of the Tone page, unless the far end's
  early media plays (the call re-announced Alerting with the reason ``EARLY_MEDIA``);
- an outgoing call just ended busy or declined (486, 600, 603): the busy tone for ``BUSY_SECONDS``.

An intercom call never rings: when it arrives, "Enable Intercom Tone" plays ``INTERCOM_TONE`` once
(manual 8.1, Table 6), whether it is answered at once or after the delay it asked for, and with the
setting off it arrives silently. One-off sounds (the intercom tone, door alarm rings, the command mode
beep and announcements) play over whatever else plays, each to its own file: ``play_ring``,
``play_cadence`` and ``play_samples``.

A cue stops the moment a state change makes it wrong: the sink is closed there and then, not on the
next frame. Tones are rendered in 20 ms frames on the event loop, paced from their start time, at
``TONE_RATE``. Where they go follows ``--audio-out``: a sound card mixes them with the call's audio
(``speaker.py``); a WAV directory records each playback to its own file under ``tones/`` (e.g.
``tones/ring-<call>.wav``), beside the calls' recordings; null plays nothing and costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portier.events import CallStateChanged
from portier.media.audio import (
    AudioError,
    AudioSpec,
    LoopSource,
    Samples,
    Sink,
    Source,
    apply_gain,
    volume_db,
)
from portier.media.ringtone import DEFAULT_RING, builtin_ring, ring_source, ringtone_data
from portier.media.tones import ToneGenerator, effective_cadence
from portier.settings.declare import Leaf
from portier.settings.intercom_tone import ToneStandard
from portier.settings.schema import Settings

if TYPE_CHECKING:
    from portier.device import Device

log = logging.getLogger(__name__)

TONE_RATE = 16000
FRAME_S = 0.02
LEAD_S = 0.04
"""Frames are written this far ahead of the clock, so a sound card's mixer starts playing at once."""
START_GRACE_S = 0.1
BUSY_SECONDS = 3.0
BUSY_CODES = (486, 600, 603)
"""Final responses to our INVITE that mean the far end is busy or declined: the busy tone follows."""

RING, RINGBACK, BUSY, CALL_WAITING = "ring", "ringback", "busy", "call-waiting"
INTERCOM = "intercom"
INTERCOM_TONE = "1000/150,0/100,1000/150,0/0"
"""Two short 1 kHz beeps, once: an intercom call has arrived (the Tone page has no such cadence)."""
EARLY_MEDIA = "early media"
"""The reason of an Alerting ``CallStateChanged`` whose early media plays: the far end's own ringback
(or announcement) is heard instead of ours."""


@dataclass(frozen=True)
class CallView:
    """What the tone player knows of a live call: its last ``CallStateChanged``."""

    call_id: str
    line: int
    direction: str
    state: str
    reason: str = ""
    intercom: bool = False
    """An intercom call (it asked to be answered automatically): it gets the intercom tone, no ring."""


@dataclass(frozen=True)
class Cue:
    """One thing for the speaker to play: ``kind`` for the call ``call_id``."""

    kind: str
    call_id: str
    line: int


def cue_for(calls: Mapping[str, CallView], busy: Cue | None) -> Cue | None:
    """The cue the live ``calls`` ask for (oldest call first); ``busy`` plays when nothing else does."""
    talking = any(call.state in ("Talking", "Held") for call in calls.values())
    for call in calls.values():
        if call.direction == "incoming" and call.state == "Ringing" and not call.intercom:
            return Cue(CALL_WAITING if talking else RING, call.call_id, call.line)
    for call in calls.values():
        if call.direction == "outgoing" and call.state == "Alerting" and call.reason != EARLY_MEDIA:
            return Cue(RINGBACK, call.call_id, call.line)
    return busy


def ends_busy(reason: str) -> bool:
    """Whether an outgoing call that ended with ``reason`` ("486 Busy Here") heard busy or decline."""
    match = re.match(r"\s*(\d{3})\b", reason)
    return match is not None and int(match.group(1)) in BUSY_CODES


def ring_name(settings: Settings, line: int) -> str:
    """The ring of ``line``: its own Ring Type unless that is empty or ``default``, else the Default Ring
    Type of the Media page."""
    if line in (1, 2):
        own: str = getattr(settings.lines, f"sip{line}").ring_type.strip()
        if own and own.casefold() != "default":
            return own
    return settings.intercom.media.volume.default_ring_type.strip() or DEFAULT_RING


def country_of(settings: Settings) -> str | None:
    standard = settings.intercom.tone.standard
    return None if standard is ToneStandard.CUSTOM else standard.name


def tone_generator(settings: Settings, kind: str) -> ToneGenerator | None:
    """The Tone page's ``kind`` tone (its custom cadence, else the country's) at ``TONE_RATE``."""
    field = kind.replace("-", "_")
    cadence = effective_cadence(field, getattr(settings.intercom.tone, field), country_of(settings))
    return ToneGenerator(cadence, TONE_RATE) if cadence is not None else None


def _file_part(call_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", call_id.split("@")[0])[:60] or "call"


class Playback:
    """One cue on the speaker: a source rendered frame by frame into its own sink until stopped.

    Nothing is opened for the first ``START_GRACE_S``: a call answered at once (auto answer 0, an
    intercom call) or a 180 followed at once by a 200 leaves no blip of ring and no file."""

    def __init__(self, cue: Cue, sink: Callable[[], Sink], source: Callable[[], Awaitable[Source | None]],
                 gain: Callable[[], float], duration: float | None, done: Callable[[Playback], None]) -> None:
        self.cue = cue
        self._open_sink = sink
        self._sink: Sink | None = None
        self._stopped = False
        self.completed = False
        """True when the playback ended by itself (a tone that plays once, a duration run out)."""
        self._source = source
        self._gain = gain
        self._duration = duration
        self._done = done
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"tone {cue.kind}")

    async def _run(self) -> None:
        source: Source | None = None
        try:
            await asyncio.sleep(START_GRACE_S)
            source = await self._source()
            if source is None or self._stopped:
                return
            self._sink = self._open_sink()
            loop = asyncio.get_running_loop()
            size = round(FRAME_S * TONE_RATE)
            start, frames = loop.time(), 0
            while self._sink is not None and (self._duration is None or frames * FRAME_S < self._duration):
                self._sink.write(apply_gain(source.read(size), self._gain()))
                frames += 1
                if isinstance(source, ToneGenerator) and source.finished:
                    break
                await asyncio.sleep(max(0.0, start + frames * FRAME_S - LEAD_S - loop.time()))
        except asyncio.CancelledError:
            raise
        except AudioError as exc:
            log.error("tones: cannot play %s: %s", self.cue.kind, exc)
        except Exception:
            log.exception("tones: playing %s failed", self.cue)
        finally:
            if source is not None:
                source.close()
            self.completed = not self._stopped
            self.stop()
            self._done(self)

    def stop(self) -> None:
        """Silence now: the sink is closed at once (the task, if still running, ends on its next frame)."""
        self._stopped = True
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()


class TonePlayer:
    name = "tones"
    watches: tuple[str, ...] = ()
    """Settings are read when a cue starts and gains on every frame, so nothing needs re-applying."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.output = AudioSpec.parse(device.options.audio_out or "null")
        self.calls: dict[str, CallView] = {}
        self.playing: Playback | None = None
        self.alarms: set[Playback] = set()
        self._busy: Cue | None = None
        self._busy_timer: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._held: Sink | None = None
        self._names: set[str] = set()
        self._spent: Cue | None = None
        """A cue whose playback came to its end: not started again while the calls still ask for it."""

    async def start(self) -> None:
        self._unsubscribe = self.device.bus.subscribe(CallStateChanged, self._on_call)
        if self.output.kind == "sound":  # keep the card open, so a call or a ring starts without a wait
            try:
                self._held = self.output.sink(TONE_RATE, "tones-idle")
            except AudioError as exc:
                log.error("tones: the speaker cannot be opened: %s", exc)

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._busy_timer is not None:
            self._busy_timer.cancel()
        playbacks = [p for p in (self.playing, *self.alarms) if p is not None]
        for playback in playbacks:
            playback.stop()
            playback.task.cancel()
        await asyncio.gather(*(p.task for p in playbacks), return_exceptions=True)
        self.playing, self._busy = None, None
        self.calls.clear()
        if self._held is not None:
            self._held.close()
            self._held = None

    async def apply(self, changed: list[Leaf]) -> None:
        return None

    # --- what the calls ask for ---------------------------------------------------------------------

    def _on_call(self, event: CallStateChanged) -> None:
        if self._busy is not None and event.call_id != self._busy.call_id:
            self._end_busy()
        if event.state == "Ended":
            previous = self.calls.pop(event.call_id, None)
            dialling = previous is not None and previous.state in ("Calling", "Alerting")
            if dialling and event.direction == "outgoing" and ends_busy(event.reason):
                self._busy = Cue(BUSY, event.call_id, event.line)
                # the playback ends the cue; this ends it too when nothing plays (null output, no busy tone)
                self._busy_timer = asyncio.get_running_loop().call_later(BUSY_SECONDS + 1, self._end_busy)
        else:
            previous = self.calls.get(event.call_id)
            if previous is not None:
                intercom = previous.intercom
            else:
                intercom = event.direction == "incoming" and self._is_intercom(event.call_id)
            view = CallView(event.call_id, event.line, event.direction, event.state, event.reason, intercom)
            self.calls[event.call_id] = view
            if intercom and previous is None and event.state == "Ringing":
                self._intercom_tone(event.call_id)
        self._follow()

    def _is_intercom(self, call_id: str) -> bool:
        """Whether the SIP service took ``call_id`` as an intercom call (its events do not say)."""
        try:
            manager = self.device.service("sip").calls
        except LookupError:
            return False
        call = manager.calls.get(call_id) if manager is not None else None
        return bool(call is not None and call.intercom)

    def _intercom_tone(self, call_id: str) -> None:
        if self.device.settings.current.intercom.features.intercom.tone:
            self.play_cadence(f"{INTERCOM}-{_file_part(call_id)}", INTERCOM_TONE)

    def _end_busy(self) -> None:
        if self._busy_timer is not None:
            self._busy_timer.cancel()
            self._busy_timer = None
        self._busy = None
        self._follow()

    def _follow(self) -> None:
        """Make the speaker play what the calls ask for now."""
        wanted = cue_for(self.calls, self._busy)
        if wanted != self._spent:
            self._spent = None
        current = self.playing.cue if self.playing is not None else None
        if wanted == current or (wanted is not None and wanted == self._spent):
            return
        if self.playing is not None:
            self.playing.stop()
            self.playing.task.cancel()
            self.playing = None
        if wanted is not None and self.output.kind != "null":
            self.playing = self._start(wanted)

    def _ring_gain(self) -> float:
        return volume_db(self.device.settings.current.intercom.media.volume.speakerphone_ring_volume)

    def _speaker_gain(self) -> float:
        return volume_db(self.device.settings.current.intercom.media.volume.speakerphone_volume)

    def _start(self, cue: Cue) -> Playback | None:
        settings = self.device.settings.current
        if cue.kind == RING:
            if settings.intercom.features.basic.silent_mode:
                return None
            ring = ring_name(settings, cue.line)
            return self._play(cue, lambda: self._ring_source(ring), self._ring_gain)
        if cue.kind == CALL_WAITING and not settings.intercom.features.tones.call_waiting_tone:
            return None
        generator = tone_generator(settings, cue.kind)
        if generator is None:
            return None

        async def tone() -> Source:
            return generator

        return self._play(cue, tone, self._speaker_gain, duration=BUSY_SECONDS if cue.kind == BUSY else None)

    def _play(self, cue: Cue, source: Callable[[], Awaitable[Source | None]], gain: Callable[[], float],
              duration: float | None = None) -> Playback:
        def sink() -> Sink:
            return self.output.sink(TONE_RATE, self._sink_name(cue.kind, cue.call_id))

        return Playback(cue, sink, source, gain, duration, self._finished)

    def _sink_name(self, kind: str, call_id: str) -> str:
        """``tones/ring-<call>`` (``-2``, ``-3``... when the same call hears the same tone again)."""
        return self._unique(f"tones/{kind}-{_file_part(call_id)}")

    def _unique(self, base: str) -> str:
        name, count = base, 1
        while name in self._names:
            count += 1
            name = f"{base}-{count}"
        self._names.add(name)
        if len(self._names) > 1000:  # a door station runs for years; only recent names can collide
            self._names = {name}
        return name

    def _finished(self, playback: Playback) -> None:
        self.alarms.discard(playback)
        if self.playing is playback:
            self.playing = None
            if playback.completed:
                self._spent = playback.cue
            if playback.cue.kind == BUSY and self._busy == playback.cue:
                self._end_busy()

    async def _ring_source(self, ring: str) -> Source | None:
        """The ring's source (an upload is decoded in a thread); the default ring if it cannot play."""
        data = None if builtin_ring(ring) is not None else ringtone_data(self.device.storage, ring)
        if builtin_ring(ring) is None and data is None:
            log.warning("tones: there is no ringtone %r; playing %s", ring, DEFAULT_RING)
            ring = DEFAULT_RING
        try:
            return await asyncio.to_thread(ring_source, ring, TONE_RATE, data)
        except AudioError as exc:
            log.error("tones: ringtone %r cannot play (%s); playing %s", ring, exc, DEFAULT_RING)
            return ring_source(DEFAULT_RING, TONE_RATE)

    # --- for the door: alarm rings (tamper, inputs, outputs) ------------------------------------------

    def play_ring(self, ring: str, seconds: float) -> None:
        """Play ``ring`` for ``seconds`` at the ring volume, over whatever else plays (door alarms)."""
        if self.output.kind == "null" or seconds <= 0:
            return
        cue = Cue("alarm", f"alarm-{ring}", 0)
        self.alarms.add(self._play(cue, lambda: self._ring_source(ring), self._ring_gain, duration=seconds))

    # --- one-off sounds: the intercom tone, command mode beeps and announcements -----------------------

    def play_cadence(self, name: str, cadence: str, seconds: float | None = None) -> Playback | None:
        """Play a cadence string (``1000/200,0/800``) at the speaker volume over whatever else plays, until
        it ends by itself (``...,0/0``), ``seconds`` run out, or ``stop()`` on the playback; its file is
        ``tones/<name>.wav``. None when the output is null (nothing plays)."""
        generator = ToneGenerator(cadence, TONE_RATE)

        async def source() -> Source:
            return generator

        return self._extra(name, source, seconds)

    def play_samples(self, name: str, samples: Samples) -> Playback | None:
        """Play ``samples`` (mono int16 at ``TONE_RATE``) once at the speaker volume over whatever else
        plays (a spoken announcement); its file is ``tones/<name>.wav``. None when nothing plays."""
        if samples.size == 0:
            return None

        async def source() -> Source:
            return LoopSource(samples)

        return self._extra(name, source, samples.size / TONE_RATE)

    def _extra(self, name: str, source: Callable[[], Awaitable[Source | None]],
               seconds: float | None) -> Playback | None:
        if self.output.kind == "null" or (seconds is not None and seconds <= 0):
            return None
        cue = Cue(name, name, 0)

        def sink() -> Sink:
            return self.output.sink(TONE_RATE, self._unique(f"tones/{name}"))

        playback = Playback(cue, sink, source, self._speaker_gain, seconds, self._finished)
        self.alarms.add(playback)
        return playback
