"""The dashboard's login: a signed session cookie, and the CSRF token that goes with it.

Logging in with the admin token sets `tradehook_session`: an itsdangerous-signed, timestamped
value (HttpOnly, SameSite=Strict, Secure over HTTPS) holding a random CSRF token. The key is
derived from the admin token, so changing the token ends every session. A request that changes
anything must also carry the CSRF token in the `X-CSRF-Token` header (or the `csrf` form
field), which a page of another site cannot read. The login form itself is protected the same
way by a short-lived pre-login cookie.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, SecretStr, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from webhook.auth.client_address import IPNetwork, request_scheme
from webhook.errors import Forbidden

SESSION_COOKIE = "tradehook_session"
LOGIN_COOKIE = "tradehook_login"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
LOGIN_SECONDS = 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Session(BaseModel):
    csrf: str


def _serializer(admin_token: SecretStr, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(admin_token.get_secret_value(), salt=f"tradehook.{purpose}")


def new_session(admin_token: SecretStr) -> tuple[str, Session]:
    session = Session(csrf=secrets.token_urlsafe(32))
    value: str = _serializer(admin_token, "session").dumps(session.model_dump())
    return value, session


def read_session(request: Request, admin_token: SecretStr | None) -> Session | None:
    """The request's valid session, if it has one."""
    value = request.cookies.get(SESSION_COOKIE)
    if admin_token is None or not value or len(value) > 1024:
        return None
    try:
        payload = _serializer(admin_token, "session").loads(value, max_age=SESSION_SECONDS)
        return Session.model_validate(payload)
    except (BadSignature, ValidationError):
        return None


def same_token(offered: str | None, expected: str) -> bool:
    return offered is not None and hmac.compare_digest(offered.encode(), expected.encode())


def check_csrf(request: Request, session: Session, offered: str | None = None) -> None:
    """Refuse a state-changing request whose CSRF token is missing or wrong, or that a page
    of another origin sent."""
    offered = offered if offered is not None else request.headers.get(CSRF_HEADER)
    if not same_token(offered, session.csrf):
        raise Forbidden("CSRF token missing or wrong; reload the dashboard")
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise Forbidden("cross-origin request refused")


def new_login_token(admin_token: SecretStr) -> tuple[str, str]:
    """A random token for the login form, and the signed cookie that vouches for it."""
    token = secrets.token_urlsafe(24)
    cookie: str = _serializer(admin_token, "login").dumps(token)
    return token, cookie


def login_token_matches(request: Request, admin_token: SecretStr, offered: str | None) -> bool:
    value = request.cookies.get(LOGIN_COOKIE)
    if not value or len(value) > 512:
        return False
    try:
        expected = _serializer(admin_token, "login").loads(value, max_age=LOGIN_SECONDS)
    except BadSignature:
        return False
    return isinstance(expected, str) and same_token(offered, expected)


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int,
    *, trusted_proxies: Sequence[IPNetwork],
) -> None:
    secure = request_scheme(request, trusted_proxies) == "https"
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=secure
    )
