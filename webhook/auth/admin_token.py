"""The admin credential: `Authorization: Bearer <admin token>`, or the dashboard's session
cookie (with its CSRF token when the request changes anything).

Wrong bearer tokens count against the sender's address in the same `FailureThrottle` as wrong
logins: after a few, the sender is answered 429 with Retry-After before its token is even
compared.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from pydantic import SecretStr
from starlette.requests import Request

from webhook.auth.client_address import IPNetwork, client_address
from webhook.auth.sessions import SAFE_METHODS, DashboardSessions, check_csrf
from webhook.auth.throttle import FailureThrottle
from webhook.errors import AuthError


def address_key(request: Request, trusted: Sequence[IPNetwork]) -> str:
    """The client's address as the throttle counts it."""
    return str(client_address(request, trusted) or "unknown")


def bearer_token_matches(
    request: Request, admin_token: SecretStr, throttle: FailureThrottle, address: str
) -> bool:
    """Whether the request's bearer token is the admin token; a wrong one is counted, and a
    throttled address is refused (`TooManyAttempts`) before the comparison."""
    throttle.check(address)
    scheme, _, offered = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        offered.strip().encode(), admin_token.get_secret_value().encode()
    ):
        throttle.succeeded(address)
        return True
    throttle.failed(address)
    return False


async def check_admin(
    request: Request,
    admin_token: SecretStr | None,
    *,
    sessions: DashboardSessions,
    throttle: FailureThrottle,
    trusted_proxies: Sequence[IPNetwork],
) -> None:
    """Raise `AuthError` unless the request carries the admin token or a valid session
    (`TooManyAttempts` when its address sent too many wrong tokens)."""
    if admin_token is None:
        raise AuthError("the admin API is off: no admin token is configured")
    if "authorization" not in request.headers:
        session = await sessions.read(request)
        if session is not None:
            if request.method not in SAFE_METHODS:
                check_csrf(request, session)
            return
        raise AuthError("admin token required: Authorization: Bearer <token>")
    address = address_key(request, trusted_proxies)
    if not bearer_token_matches(request, admin_token, throttle, address):
        raise AuthError("admin token required: Authorization: Bearer <token>")
