"""`GET /builder`: the alert builder page. Like the dashboard it only shows what its script
fetches from the admin API (`webhook.http.builder_api`) with the session cookie; without a
session it sends the browser to the login form at `/`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from webhook.http.dashboard.pages import SECURITY_HEADERS, session_page
from webhook.http.state import ServerState


async def builder_page(request: Request) -> Response:
    session = await ServerState.of(request).sessions.read(request)
    if session is None:
        return RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    return session_page("builder.html", session.csrf)
