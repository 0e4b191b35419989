"""Server-rendered pages: Jinja2 templates with what every page shows (menu, user, warnings)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

from portier import MODEL, __version__

from .deps import CSRF_FIELD, device_of, state_of
from .menu import menus

_env = Environment(
    loader=PackageLoader("portier.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page; when a session is logged in it carries the menu, the user, the CSRF token and the
    default-password warning."""
    session = getattr(request.state, "session", None)
    warning = False
    if session is not None:
        warning = state_of(request).default_password_in_use(device_of(request).storage)
    body = _env.get_template(template).render(
        request=request,
        session=session,
        menus=menus(),
        model=MODEL,
        version=__version__,
        csrf_field=CSRF_FIELD,
        csrf=session.csrf if session is not None else context.pop("login_csrf", ""),
        default_password=warning,
        **context,
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
