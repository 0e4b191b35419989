"""What every HTTP API route shares: the JSON envelope, errors as values, the running services.

Answers follow the 2N-style shape integrators already parse: ``{"success": true, "result": {...}}``
or ``{"success": false, "error": {"code": 400, "param": "switch", "description": "..."}}`` with the
same code as the HTTP status. :class:`ApiRoute` turns :class:`ApiError` and FastAPI's parameter
validation errors into that shape, so no route (and no app-wide handler) has to.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Generic, Literal, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from portier.device import Device

T = TypeVar("T")


class Ok(BaseModel, Generic[T]):
    success: Literal[True] = True
    result: T


class ErrorDetail(BaseModel):
    code: int = Field(description="The HTTP status, repeated for clients that only read the body.")
    param: str | None = Field(default=None, description="The request parameter at fault, if one is.")
    description: str = Field(description="What went wrong and what to do about it.")
    problems: list[str] = Field(default_factory=list, description="Every problem, e.g. each bad line.")


class ErrorBody(BaseModel):
    success: Literal[False] = False
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Refused: bad parameter, credentials, privilege or state."},
    503: {"model": ErrorBody, "description": "The service behind this route is not running."},
}
"""Documented on every route; "4XX" also stands in for FastAPI's 422, which the API answers as 400."""


class ApiError(Exception):
    """A refusal with a sentence a person can act on; rendered as the error envelope."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        param: str | None = None,
        problems: Sequence[str] = (),
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.param = param
        self.problems = list(problems)
        self.headers = list(headers)

    def response(self) -> JSONResponse:
        detail = ErrorDetail(
            code=self.status, param=self.param, description=self.description, problems=self.problems
        )
        response = JSONResponse(ErrorBody(error=detail).model_dump(), status_code=self.status)
        for name, value in self.headers:
            response.headers.append(name, value)
        return response


def validation_error(exc: RequestValidationError) -> ApiError:
    problems = []
    param = None
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part not in ("query", "body", "path")]
        name = ".".join(location) or "request"
        param = param or name
        problems.append(f"{name}: {error.get('msg', 'invalid')}")
    return ApiError(400, "; ".join(problems) or "invalid request", param=param, problems=problems)


class ApiRoute(APIRoute):
    """A route whose refusals (ours and FastAPI's validation) are answered in the error envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return exc.response()
            except RequestValidationError as exc:
                return validation_error(exc).response()

        return run


def running(device: Device, name: str, what: str) -> Any:
    """The running service ``name``, or 503 naming ``what`` is missing (e.g. during a reboot)."""
    try:
        return device.service(name)
    except LookupError:
        raise ApiError(503, f"the {what} is not running right now; try again when the device is up") from None


F = TypeVar("F", bound=Callable[..., Any])


def get_and_post(router: APIRouter, path: str, **options: Any) -> Callable[[F], F]:
    """Register a route for GET and for POST (as 2N devices take them), each with its own operation id."""

    def register(endpoint: F) -> F:
        for method in ("GET", "POST"):
            operation = f"{endpoint.__name__}_{method.lower()}"
            router.add_api_route(path, endpoint, methods=[method], operation_id=operation, **options)
        return endpoint

    return register
