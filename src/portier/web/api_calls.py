"""/api/call/* and /api/phone/status: the calls and lines of the running SIP service.

A call is named by its SIP Call-ID (``session``). ``dial`` takes a number (sent through a line: the
one given, else the first registered line), an IP address (a direct call, manual "Allow IP Call") or
a SIP URI; ``answer`` and ``hangup`` act on the session given, or on the first call that fits.

No ``from __future__ import annotations`` here: FastAPI reads the route annotations at run time.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from portier.device import Device
from portier.phone.call import Call, CallState
from portier.phone.calls import CallManager

from .api_auth import Principal
from .api_common import ERRORS, ApiError, Ok, get_and_post, running


class Session(BaseModel):
    session: str = Field(description="The call's SIP Call-ID.")
    direction: str = Field(description="incoming or outgoing.")
    state: str = Field(description="Ringing, Calling, Alerting, Talking or Held.")
    remote: str
    line: int = Field(description="1 or 2 for SIP lines, 0 for a direct IP call.")


class Sessions(BaseModel):
    sessions: list[Session]


class SessionRef(BaseModel):
    session: str


class LineStatus(BaseModel):
    line: int
    status: str = Field(description="Registered, Unapplied, Trying, Timeout or Failed.")
    reason: str
    server: str
    contact: str
    expires: int
    public: str = Field(description="The public address learned by STUN or received/rport, if any.")


class Lines(BaseModel):
    lines: list[LineStatus]


def _sip(device: Device) -> Any:
    return running(device, "sip", "SIP service")


def call_manager(device: Device) -> CallManager:
    manager: CallManager | None = _sip(device).calls
    if manager is None:
        raise ApiError(503, "the SIP service is starting; try again in a moment")
    return manager


def live_calls(manager: CallManager) -> list[Call]:
    return [call for call in manager.calls.values() if call.state is not CallState.ENDED]


def _find(manager: CallManager, session: str | None, state: CallState | None) -> Call:
    for call in live_calls(manager):
        if (session is None or call.call_id == session) and (state is None or call.state is state):
            return call
    what = "ringing call" if state is CallState.RINGING else "call"
    raise ApiError(404, f"no {what} {session!r}" if session else f"no {what} now", param="session")


def _session(call: Call) -> Session:
    return Session(
        session=call.call_id,
        direction=call.direction,
        state=str(call.state),
        remote=call.remote,
        line=call.line,
    )


async def dial(device: Device, number: str, line: int | None) -> Call:
    """Place a call the way /api/call/dial and the Active URI do; ApiError says why it cannot."""
    sip = _sip(device)
    manager = call_manager(device)
    if line is not None and line not in manager.lines:
        raise ApiError(
            400, f"line {line} is not enabled and registered; enable it or dial without a line", param="line"
        )
    chosen = line if line is not None else min(manager.lines, default=None)
    try:
        agent = sip.agent()
    except KeyError:
        raise ApiError(503, "the SIP service has no listening port right now; try again") from None
    try:
        return await manager.dial(number, line=chosen, agent=agent)
    except ValueError as exc:
        raise ApiError(400, f"cannot dial {number!r}: {exc}", param="number") from None


def answer(device: Device, session: str | None) -> Call:
    manager = call_manager(device)
    call = _find(manager, session, CallState.RINGING)
    manager.answer(call.call_id)
    return call


async def hangup(device: Device, session: str | None) -> Call:
    manager = call_manager(device)
    call = _find(manager, session, None)
    await manager.hangup(call.call_id)
    return call


SessionParam = Annotated[
    str | None, Query(max_length=256, description="Call-ID; the first fitting call if absent.")
]


def call_routes(router: APIRouter, device: Device, user: Any) -> None:
    """Add the call and phone routes; ``user`` admits users and administrators."""

    @get_and_post(router, "/api/call/status", responses=ERRORS, summary="The calls in progress")
    async def call_status(_: Annotated[Principal, Depends(user)]) -> Ok[Sessions]:
        return Ok(result=Sessions(sessions=[_session(call) for call in live_calls(call_manager(device))]))

    @get_and_post(
        router, "/api/call/dial", responses=ERRORS, summary="Call a number, an IP address or a SIP URI"
    )
    async def call_dial(
        _: Annotated[Principal, Depends(user)],
        number: Annotated[str, Query(min_length=1, max_length=256, description="Number, IP or SIP URI.")],
        line: Annotated[
            int | None, Query(ge=1, le=2, description="SIP line; the first registered if absent.")
        ] = None,
    ) -> Ok[SessionRef]:
        call = await dial(device, number, line)
        return Ok(result=SessionRef(session=call.call_id))

    @get_and_post(router, "/api/call/answer", responses=ERRORS, summary="Answer a ringing call")
    async def call_answer(
        _: Annotated[Principal, Depends(user)], session: SessionParam = None
    ) -> Ok[SessionRef]:
        return Ok(result=SessionRef(session=answer(device, session).call_id))

    @get_and_post(
        router, "/api/call/hangup", responses=ERRORS, summary="End a call (or refuse a ringing one)"
    )
    async def call_hangup(
        _: Annotated[Principal, Depends(user)], session: SessionParam = None
    ) -> Ok[SessionRef]:
        call = await hangup(device, session)
        return Ok(result=SessionRef(session=call.call_id))

    @get_and_post(
        router, "/api/phone/status", responses=ERRORS, summary="The registration state of each SIP line"
    )
    async def phone_status(_: Annotated[Principal, Depends(user)]) -> Ok[Lines]:
        lines = [
            LineStatus(
                line=state.line, status=str(state.status), reason=state.reason, server=state.server,
                contact=state.contact, expires=state.expires, public=state.public,
            )
            for state in _sip(device).line_states()
        ]  # fmt: skip
        return Ok(result=Lines(lines=lines))
