"""/api/log/*: subscribe to the device's events and long-poll for them (see :mod:`.event_history`).

No ``from __future__ import annotations`` here: FastAPI reads the route annotations at run time.
"""

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from portier.device import Device

from .api_auth import Principal
from .api_common import ERRORS, ApiError, Ok, get_and_post
from .event_history import (
    DEFAULT_DURATION,
    EventHistory,
    LoggedEvent,
    UnknownChannel,
    event_kinds,
    parse_filter,
    parse_include,
)

MAX_TIMEOUT = 120


class LogCaps(BaseModel):
    events: list[str] = Field(description="Event types a channel may filter on.")


class Subscription(BaseModel):
    id: int = Field(description="The channel to pull from.")


class EventItem(BaseModel):
    id: int = Field(description="Increases by one with every event on the device.")
    utc_time: float = Field(description="Unix time of the event.")
    event: str = Field(description="The event type, e.g. CallStateChanged.")
    params: dict[str, Any]


class Pulled(BaseModel):
    events: list[EventItem]
    lost: int = Field(description="Events that left the history before this channel read them.")


class Closed(BaseModel):
    closed: bool


def _item(logged: LoggedEvent) -> EventItem:
    return EventItem(id=logged.id, utc_time=logged.at, event=logged.kind, params=logged.params())


ChannelParam = Annotated[int, Query(ge=1, le=2**32 - 1, description="Channel id from /api/log/subscribe.")]


def log_routes(router: APIRouter, device: Device, history: EventHistory, user: Any) -> None:
    """Add the log routes; ``user`` admits users and administrators."""
    del device

    @get_and_post(router, "/api/log/caps", responses=ERRORS, summary="The event types")
    async def log_caps(_: Annotated[Principal, Depends(user)]) -> Ok[LogCaps]:
        return Ok(result=LogCaps(events=list(event_kinds())))

    @get_and_post(
        router,
        "/api/log/subscribe",
        responses=ERRORS,
        summary="Open a channel of events, optionally filtered by type",
    )
    async def log_subscribe(
        _: Annotated[Principal, Depends(user)],
        filter: Annotated[
            str | None, Query(max_length=1024, description="Event types, comma separated.")
        ] = None,
        include: Annotated[
            str, Query(max_length=16, description="new, all (the history) or -SECONDS.")
        ] = "new",
        duration: Annotated[
            int, Query(ge=1, le=3600, description="Seconds the channel lives unpulled.")
        ] = int(DEFAULT_DURATION),
    ) -> Ok[Subscription]:
        try:
            kinds = parse_filter(filter)
        except ValueError as exc:
            raise ApiError(400, str(exc), param="filter") from None
        try:
            start = parse_include(include)
        except ValueError as exc:
            raise ApiError(400, str(exc), param="include") from None
        channel = history.subscribe(kinds, start, float(duration), time.time())
        return Ok(result=Subscription(id=channel.id))

    @get_and_post(
        router,
        "/api/log/pull",
        responses=ERRORS,
        summary="The channel's new events; waits up to timeout seconds for one",
    )
    async def log_pull(
        _: Annotated[Principal, Depends(user)],
        id: ChannelParam,
        timeout: Annotated[
            int, Query(ge=0, le=MAX_TIMEOUT, description="Seconds to wait if none is new.")
        ] = 0,
    ) -> Ok[Pulled]:
        try:
            found, lost = await history.pull(id, float(timeout))
        except UnknownChannel:
            raise ApiError(
                404, f"no channel {id}: it expired or was never opened; subscribe again", param="id"
            ) from None
        return Ok(result=Pulled(events=[_item(logged) for logged in found], lost=lost))

    @get_and_post(router, "/api/log/unsubscribe", responses=ERRORS, summary="Close a channel")
    async def log_unsubscribe(_: Annotated[Principal, Depends(user)], id: ChannelParam) -> Ok[Closed]:
        if not history.unsubscribe(id):
            raise ApiError(404, f"no channel {id}", param="id")
        return Ok(result=Closed(closed=True))
