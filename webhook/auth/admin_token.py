"""The admin credential: `Authorization: Bearer <admin token>`, or the dashboard's session
cookie (with its CSRF token when the request changes anything)."""

from __future__ import annotations

import hmac

from pydantic import SecretStr
from starlette.requests import Request

from webhook.auth.sessions import SAFE_METHODS, check_csrf, read_session
from webhook.errors import AuthError


def check_admin(request: Request, admin_token: SecretStr | None) -> None:
    """Raise `AuthError` unless the request carries the admin token or a valid session."""
    if admin_token is None:
        raise AuthError("the admin API is off: no admin token is configured")
    if "authorization" not in request.headers:
        session = read_session(request, admin_token)
        if session is not None:
            if request.method not in SAFE_METHODS:
                check_csrf(request, session)
            return
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        offered.strip().encode(), admin_token.get_secret_value().encode()
    ):
        raise AuthError("admin token required: Authorization: Bearer <token>")
