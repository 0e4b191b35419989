"""Call waiting (manual 7.5, Table 17; "Use 182 Response for Call waiting", Table 15).

A second incoming call while another is up rings as a waiting call when "Enable Call Waiting" is on
(180, or 182 Queued when the line says so) and is never answered automatically, so the resident
decides; with it off the caller gets the Busy Response Code. Answering the waiting call puts the
call that was talking on hold; when the answered call ends, "Auto Resume Current" takes the held
one off hold. One waiting call at a time: a third caller gets busy. "Enable Intercom Barge": an
intercom call during an ordinary call is answered as it asks (the other goes on hold); a second
intercom call during an intercom call is busy.

Whether a second call may ring at all is ``policy.decide_incoming``'s verdict; this module holds
and resumes around it.
"""

from __future__ import annotations

from collections.abc import Iterable

from portier.phone.call import Call, CallState


def live(calls: Iterable[Call]) -> list[Call]:
    return [call for call in calls if call.state is not CallState.ENDED]


def to_hold(answered: Call, calls: Iterable[Call]) -> list[Call]:
    """The calls to put on hold before ``answered`` is taken: every other call that is talking."""
    return [c for c in calls if c is not answered and c.state is CallState.TALKING]


def to_resume(ended: Call, calls: Iterable[Call], auto_resume: bool) -> Call | None:
    """The call held for ``ended`` that "Auto Resume Current" takes off hold now that it is over."""
    if not auto_resume:
        return None
    for call in calls:
        if call.held_for == ended.call_id and call.state is CallState.HELD:
            return call
    return None
