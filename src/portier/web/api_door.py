"""/api/switch/* and /api/io/*: the relay outputs and the alarm inputs, through the door service.

Switches are the two relay outputs (Security Settings >> Output1/2); io ports are named ``input1``,
``input2``, ``tamper`` (read only) and ``relay1``, ``relay2`` (outputs, the same relays). Both
groups answer GET and POST with the parameters in the query, as 2N devices do. Every change goes
through the door service's ``switch()`` with cause ``http``, so the relay's own rules (duration,
NO/NC, Output Response) apply and a RelayChanged event reports it.

``/api/switch/uri?message=TEXT`` is the manual's "Trigger by URI" (Security Settings, Table 27; the
manual names no URL for it, so this is portier's): TEXT is compared with each output's Trigger
Message and Reset Message, and the outputs with "Trigger by URI" on whose message it is switch,
with cause ``http``. A text no output has is refused with 404, so a typo is not mistaken for a
door that would not open.

Route modules do not use ``from __future__ import annotations``: FastAPI reads the annotations at
run time, and the dependency in them is a local of the function that builds the routes.
"""

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from portier.device import Device
from portier.settings.door import AlarmOutput

from .api_auth import Principal
from .api_common import ERRORS, ApiError, Ok, get_and_post, running

Action = Literal["on", "off", "trigger"]
SWITCHES = (1, 2)


class RelayLike(Protocol):
    number: int
    active: bool
    name: str


class InputLike(Protocol):
    number: int
    triggered: bool
    level: bool


class DoorLike(Protocol):
    """What the door service offers front-ends (src/portier/door)."""

    def relays(self) -> Sequence[RelayLike]: ...

    def inputs(self) -> Sequence[InputLike]: ...

    async def switch(self, relay: int, action: str, cause: str) -> None: ...

    async def uri_command(self, message: str) -> None: ...


def door(device: Device) -> DoorLike:
    service: DoorLike = running(device, "door", "door service (relays and inputs)")
    return service


class SwitchCaps(BaseModel):
    switch: int
    name: str
    enabled: bool = Field(description="Output Response: whether triggers may switch this output.")
    standard_status: str = Field(description="NO (normally open) or NC (normally closed).")
    duration: int = Field(description="Output Duration in seconds (how long trigger keeps it switched).")
    reset_by: str = Field(description="DURATION or STATE.")


class SwitchCapsList(BaseModel):
    switches: list[SwitchCaps]


class SwitchState(BaseModel):
    switch: int
    active: bool
    name: str = ""


class SwitchStates(BaseModel):
    switches: list[SwitchState]


class UriTriggered(BaseModel):
    matched: list[int] = Field(description="The outputs whose Trigger or Reset Message this is.")
    switches: list[SwitchState]


class PortCaps(BaseModel):
    port: str
    type: Literal["input", "output"]


class PortCapsList(BaseModel):
    ports: list[PortCaps]


class PortState(BaseModel):
    port: str
    type: Literal["input", "output"]
    state: int = Field(description="1 triggered or active, 0 not.")
    level: str | None = Field(default=None, description="An input's electrical level: high or low.")


class PortStates(BaseModel):
    ports: list[PortState]


SwitchParam = Annotated[
    int | None, Query(ge=1, le=len(SWITCHES), description="Switch 1 or 2; all if absent.")
]
PortParam = Annotated[
    str | None, Query(max_length=16, description="input1, input2, tamper, relay1 or relay2; all if absent.")
]


def _relay_states(service: DoorLike) -> list[SwitchState]:
    return [SwitchState(switch=r.number, active=bool(r.active), name=str(r.name)) for r in service.relays()]


def input_port(number: int) -> str:
    """The io port name of an input: ``input1``, ``input2``, and ``tamper`` for the tamper switch (0)."""
    return "tamper" if number == 0 else f"input{number}"


def _input_states(service: DoorLike) -> list[PortState]:
    return [
        PortState(port=input_port(i.number), type="input", state=int(bool(i.triggered)),
                  level="high" if i.level else "low")
        for i in service.inputs()
    ]  # fmt: skip


def _output(device: Device, number: int) -> AlarmOutput:
    output: AlarmOutput = getattr(device.settings.current.door, f"output{number}")
    return output


def door_routes(router: APIRouter, device: Device, user: Any) -> None:
    """Add the switch and io routes; ``user`` is the dependency that admits users and administrators."""

    @get_and_post(
        router, "/api/switch/caps", responses=ERRORS, summary="The relay outputs and their settings"
    )
    async def switch_caps(
        _: Annotated[Principal, Depends(user)], switch: SwitchParam = None
    ) -> Ok[SwitchCapsList]:
        found = []
        for number in SWITCHES if switch is None else (switch,):
            output = _output(device, number)
            found.append(SwitchCaps(
                switch=number, name=f"Output{number}", enabled=output.response,
                standard_status=output.standard_status.name, duration=output.duration,
                reset_by=output.reset_by.name,
            ))  # fmt: skip
        return Ok(result=SwitchCapsList(switches=found))

    @get_and_post(
        router, "/api/switch/status", responses=ERRORS, summary="Whether each relay is switched now"
    )
    async def switch_status(
        _: Annotated[Principal, Depends(user)], switch: SwitchParam = None
    ) -> Ok[SwitchStates]:
        states = _relay_states(door(device))
        if switch is not None:
            states = [state for state in states if state.switch == switch]
        return Ok(result=SwitchStates(switches=states))

    @get_and_post(
        router,
        "/api/switch/ctrl",
        responses=ERRORS,
        summary="Switch a relay on, off, or trigger it for its Output Duration",
    )
    async def switch_ctrl(
        _: Annotated[Principal, Depends(user)],
        switch: Annotated[int, Query(ge=1, le=len(SWITCHES), description="Switch 1 or 2.")],
        action: Annotated[Action, Query(description="on, off, or trigger (on for Output Duration).")],
    ) -> Ok[SwitchStates]:
        service = door(device)
        await _switch(service, switch, action, "switch")
        states = [state for state in _relay_states(service) if state.switch == switch]
        return Ok(result=SwitchStates(switches=states))

    @get_and_post(
        router,
        "/api/switch/uri",
        responses=ERRORS,
        summary="Trigger by URI: switch the outputs whose Trigger (or Reset) Message this is",
    )
    async def switch_uri(
        _: Annotated[Principal, Depends(user)],
        message: Annotated[
            str, Query(min_length=1, max_length=256, description="The Trigger Message or Reset Message.")
        ],
    ) -> Ok[UriTriggered]:
        text = message.strip()
        matched = [
            number for number in SWITCHES
            if (output := _output(device, number)).trigger_by_uri
            and text in (output.uri_trigger_message.strip(), output.uri_reset_message.strip())
        ]  # fmt: skip
        if not text or not matched:
            raise ApiError(
                404, "no output has this Trigger or Reset Message with Trigger by URI on (Security Settings)",
                param="message",
            )  # fmt: skip
        service = door(device)
        await service.uri_command(text)
        return Ok(result=UriTriggered(matched=matched, switches=_relay_states(service)))

    @get_and_post(router, "/api/io/caps", responses=ERRORS, summary="The input and output ports")
    async def io_caps(_: Annotated[Principal, Depends(user)]) -> Ok[PortCapsList]:
        service = door(device)
        ports = [PortCaps(port=input_port(i.number), type="input") for i in service.inputs()]
        ports += [PortCaps(port=f"relay{r.number}", type="output") for r in service.relays()]
        return Ok(result=PortCapsList(ports=ports))

    @get_and_post(
        router, "/api/io/status", responses=ERRORS, summary="The state of each input and output port"
    )
    async def io_status(_: Annotated[Principal, Depends(user)], port: PortParam = None) -> Ok[PortStates]:
        service = door(device)
        ports = _input_states(service)
        ports += [
            PortState(port=f"relay{r.switch}", type="output", state=int(r.active))
            for r in _relay_states(service)
        ]
        if port is not None:
            ports = [state for state in ports if state.port == port.lower()]
            if not ports:
                raise ApiError(
                    400, f"no port {port!r}; ports are input1, input2, tamper, relay1, relay2", param="port"
                )
        return Ok(result=PortStates(ports=ports))

    @get_and_post(
        router,
        "/api/io/ctrl",
        responses=ERRORS,
        summary="Switch an output port (relay1, relay2); inputs cannot be switched",
    )
    async def io_ctrl(
        _: Annotated[Principal, Depends(user)],
        port: Annotated[str, Query(max_length=16, description="relay1 or relay2.")],
        action: Annotated[Action, Query(description="on, off, or trigger.")],
    ) -> Ok[PortStates]:
        name = port.lower()
        numbers = {f"relay{n}": n for n in SWITCHES}
        if name not in numbers:
            why = "inputs are read only" if name.startswith("input") else f"no output port {port!r}"
            raise ApiError(400, f"{why}; the outputs are relay1 and relay2", param="port")
        service = door(device)
        await _switch(service, numbers[name], action, "port")
        states = [
            PortState(port=name, type="output", state=int(s.active))
            for s in _relay_states(service) if s.switch == numbers[name]
        ]  # fmt: skip
        return Ok(result=PortStates(ports=states))


async def _switch(service: DoorLike, relay: int, action: str, param: str) -> None:
    try:
        await service.switch(relay, action, "http")
    except ValueError as exc:
        raise ApiError(400, str(exc), param=param) from None
