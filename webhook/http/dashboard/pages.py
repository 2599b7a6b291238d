"""The dashboard's pages: `GET /` (the dashboard, or the login form), `POST /login`,
`POST /logout`. The page itself only shows data that its script fetches from the admin API
with the session cookie; nothing from a signal is ever written into HTML on the server."""

from __future__ import annotations

import asyncio
import html
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from webhook.auth.admin_token import address_key
from webhook.auth.sessions import (
    LOGIN_COOKIE,
    LOGIN_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    same_token,
    set_cookie,
)
from webhook.errors import TooManyAttempts
from webhook.http.dashboard.frame import FRAMES
from webhook.http.state import ServerState

TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 4096
FORM_READ_SECONDS = 10.0
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def _page(
    name: str, status_code: int = 200, headers: dict[str, str] | None = None, **values: str
) -> HTMLResponse:
    text = _template(name).substitute({key: html.escape(value) for key, value in values.items()})
    return HTMLResponse(text, status_code=status_code,
                        headers={**SECURITY_HEADERS, **(headers or {})})


def session_page(name: str, csrf: str) -> HTMLResponse:
    """A dashboard page for a logged-in session in its frame (`frame.FRAMES`), with the
    session's CSRF token in the page."""
    values = FRAMES[name].values(csrf)
    main = _template(name).substitute(csrf=values["csrf"])
    text = _template("session.html").substitute(values, main=main)
    return HTMLResponse(text, headers=SECURITY_HEADERS)


async def _login_page(
    request: Request, message: str = "", status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    services = ServerState.of(request)
    if services.settings.admin_token is None:
        message = "The dashboard is off: no admin token is configured."
        return _page("login.html", 503, csrf="", message=message)
    token, cookie = await services.sessions.new_login_token()
    response = _page("login.html", status_code, headers, csrf=token, message=message)
    set_cookie(request, response, LOGIN_COOKIE, cookie, LOGIN_SECONDS,
               trusted_proxies=services.settings.trusted_proxies)
    return response


async def index(request: Request) -> Response:
    session = await ServerState.of(request).sessions.read(request)
    if session is None:
        return await _login_page(request)
    return session_page("index.html", session.csrf)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    try:
        async with asyncio.timeout(FORM_READ_SECONDS):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_FORM_BYTES:
                    return {}
    except TimeoutError:
        return {}
    fields = parse_qs(body.decode(errors="replace"), max_num_fields=10)
    return {key: values[0] for key, values in fields.items()}


async def login(request: Request) -> Response:
    services = ServerState.of(request)
    admin_token = services.settings.admin_token
    if admin_token is None:
        return await _login_page(request)
    address = address_key(request, services.settings.trusted_proxies)
    try:
        services.admin_throttle.check(address)
    except TooManyAttempts as exc:
        return await _login_page(request, "Too many wrong tokens: wait a little and try again.",
                                 429, exc.answer_headers())
    form = await _form(request)
    if not await services.sessions.login_token_matches(request, form.get("csrf")):
        return await _login_page(request, "The form expired; please try again.", 403)
    if not same_token(form.get("token", "").strip(), admin_token.get_secret_value()):
        services.admin_throttle.failed(address)
        return await _login_page(request, "Wrong admin token.", 401)
    services.admin_throttle.succeeded(address)
    value = await services.sessions.open()
    response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    set_cookie(request, response, SESSION_COOKIE, value, SESSION_SECONDS,
               trusted_proxies=services.settings.trusted_proxies)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    sessions = ServerState.of(request).sessions
    session = await sessions.read(request)
    form = await _form(request)
    if session is None or not same_token(form.get("csrf"), session.csrf):
        return _page("login.html", 403, csrf="", message="Refused: reload the dashboard first.")
    await sessions.end(session)
    response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
