"""The 3-way conference (manual 9.12 line settings "Conference Type", "Server Conference Number").

LOCAL: the device mixes. Both calls are taken off hold, and each call's RTP stream is wired through
one ``ConferenceMixer`` (``media/mixer.py``): each remote party hears the other and the device's
microphone; the device's speaker hears both. When one party hangs up, the other gets its own
microphone and speaker back and simply goes on talking to the device.

SERVER: the line's conference room does the mixing. The device dials the Server Conference Number,
then blind-transfers (REFER) each of the two parties to that number, so all three meet in the room;
the device's own leg to the room stays up. A party whose transfer fails stays in its call with the
device (the failure is reported by ``CallTransferred``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from portier.media.mixer import ConferenceMixer, Party, PartySource
from portier.phone.call import Call, CallState
from portier.settings.sip_line import ConferenceType

if TYPE_CHECKING:
    from portier.phone.calls import CallManager

log = logging.getLogger(__name__)


@dataclass
class LocalConference:
    """Two (or more) calls mixed on the device; ``members`` maps Call-ID to its party."""

    mixer: ConferenceMixer = field(default_factory=ConferenceMixer)
    members: dict[str, tuple[Call, Party]] = field(default_factory=dict)

    def add(self, call: Call) -> None:
        stream = call.stream
        if stream is None:
            raise ValueError(f"call {call.call_id} has no media stream to mix")
        if isinstance(stream.source, PartySource):
            raise ValueError(f"call {call.call_id} is already in a conference")
        rate = stream.encoder.info.sample_rate
        party = self.mixer.join(call.call_id, rate, stream.source, stream.sink)
        stream.source, stream.sink = party.source, party.sink
        self.members[call.call_id] = (call, party)

        def changed(state: CallState, reason: str) -> None:
            self._changed(call, state)

        call.watch(changed)

    def _changed(self, call: Call, state: CallState) -> None:
        if state is not CallState.ENDED or call.call_id not in self.members:
            return
        del self.members[call.call_id]  # its stream's stop closes the party (and leaves the mixer)
        if len(self.members) == 1:
            self.dissolve()

    def dissolve(self) -> None:
        """Give every remaining call its own microphone and speaker back."""
        for call, party in list(self.members.values()):
            self.mixer.leave(party.name)
            stream = call.stream
            if stream is not None and stream.source is party.source:
                stream.source, stream.sink = party.microphone, party.speaker
            log.info("call %s: back from the conference to a plain call", call.call_id)
        self.members.clear()


async def start(manager: CallManager, a: Call, b: Call) -> LocalConference | Call:
    """Conference ``a`` and ``b`` the way ``a``'s line says: a local mix (returned), or the server's
    room (the device's call to the room is returned)."""
    if a is b:
        raise ValueError("a conference needs two different calls")
    for call in (a, b):
        if call.state not in (CallState.TALKING, CallState.HELD) or call.dialog is None:
            raise ValueError(f"call {call.call_id} is {call.state}: only talking or held calls can confer")
    line = manager.lines.get(a.line)
    if line is not None and line.settings.conference_type == ConferenceType.SERVER:
        number = line.settings.server_conference_number.strip()
        if not number:
            raise ValueError(f"line {line.number} has Conference Type SERVER but no Server Conference Number")
        return await _on_server(manager, a, b, number, line.number)
    return await _locally(manager, a, b)


async def _locally(manager: CallManager, a: Call, b: Call) -> LocalConference:
    for call in (a, b):
        if call.state is CallState.HELD:
            await manager.hold(call.call_id, resume=True)
        call.held_for = None
    conference = LocalConference()
    for call in (a, b):
        conference.add(call)
    log.info("calls %s and %s: local conference", a.call_id, b.call_id)
    return conference


async def _on_server(manager: CallManager, a: Call, b: Call, number: str, line: int) -> Call:
    room = await manager.dial(number, line=line)
    await room.settled()
    if room.state is not CallState.TALKING:
        raise ValueError(f"the conference room {number} did not answer: {room.reason or room.state}")
    for call in (a, b):
        if call.state is CallState.ENDED:
            continue
        outcome = await manager.transfer(call.call_id, number)
        log.info("call %s to the conference room %s: %s %s", call.call_id, number, outcome.result,
                 outcome.reason)  # fmt: skip
    return room
