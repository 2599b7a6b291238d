"""The dashboard's pages: `GET /` (the dashboard, or the login form), `POST /login`,
`POST /logout`. The page itself only shows data that its script fetches from the admin API
with the session cookie; nothing from a signal is ever written into HTML on the server."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from webhook.auth.sessions import (
    LOGIN_COOKIE,
    LOGIN_SECONDS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    login_token_matches,
    new_login_token,
    new_session,
    read_session,
    same_token,
    set_cookie,
)
from webhook.http.state import ServerState

TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 4096
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
    return Template((TEMPLATES / name).read_text())


def _page(name: str, status_code: int = 200, **values: str) -> HTMLResponse:
    text = _template(name).substitute({key: html.escape(value) for key, value in values.items()})
    return HTMLResponse(text, status_code=status_code, headers=SECURITY_HEADERS)


def _login_page(
    request: Request, admin_token: SecretStr | None, message: str = "", status_code: int = 200
) -> HTMLResponse:
    if admin_token is None:
        message = "The dashboard is off: no admin token is configured."
        return _page("login.html", 503, csrf="", message=message)
    token, cookie = new_login_token(admin_token)
    response = _page("login.html", status_code, csrf=token, message=message)
    set_cookie(request, response, LOGIN_COOKIE, cookie, LOGIN_SECONDS,
               trusted_proxies=ServerState.of(request).settings.trusted_proxies)
    return response


async def index(request: Request) -> Response:
    admin_token = ServerState.of(request).settings.admin_token
    session = read_session(request, admin_token)
    if session is None:
        return _login_page(request, admin_token)
    return _page("index.html", csrf=session.csrf)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    fields = parse_qs(body.decode(errors="replace"), max_num_fields=10)
    return {key: values[0] for key, values in fields.items()}


async def login(request: Request) -> Response:
    admin_token = ServerState.of(request).settings.admin_token
    if admin_token is None:
        return _login_page(request, admin_token)
    form = await _form(request)
    if not login_token_matches(request, admin_token, form.get("csrf")):
        return _login_page(request, admin_token, "The form expired; please try again.", 403)
    if not same_token(form.get("token", "").strip(), admin_token.get_secret_value()):
        return _login_page(request, admin_token, "Wrong admin token.", 401)
    value, _ = new_session(admin_token)
    response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    set_cookie(request, response, SESSION_COOKIE, value, SESSION_SECONDS,
               trusted_proxies=ServerState.of(request).settings.trusted_proxies)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


async def logout(request: Request) -> Response:
    admin_token = ServerState.of(request).settings.admin_token
    session = read_session(request, admin_token)
    form = await _form(request)
    if session is None or not same_token(form.get("csrf"), session.csrf):
        return _page("login.html", 403, csrf="", message="Refused: reload the dashboard first.")
    response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
