"""The dashboard's login: a signed session cookie, and the CSRF token that goes with it.

Logging in with the admin token sets `tradehook_session`: an itsdangerous-signed, timestamped
value (HttpOnly, SameSite=Strict, Secure over HTTPS) holding a session id and a random CSRF
token. The signing key is a random server key, mixed with the admin token: knowing the token's
shape or seeing a cookie teaches nothing that could be tested offline, and changing the token
ends every session. The key and the open session ids live in the journal's state table
(`dashboard.sessions`), so that several receivers sharing a PostgreSQL journal accept each
other's sessions and a logout anywhere ends the session everywhere.

A request that changes anything must also carry the CSRF token in the `X-CSRF-Token` header
(or the `csrf` form field), which a page of another site cannot read. The login form itself is
protected the same way by a short-lived pre-login cookie, signed with the server key alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import BaseModel, Field, SecretStr, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from webhook.auth.client_address import IPNetwork, request_scheme
from webhook.errors import Forbidden

SESSION_COOKIE = "tradehook_session"
LOGIN_COOKIE = "tradehook_login"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
LOGIN_SECONDS = 3600
MAX_OPEN_SESSIONS = 100
"""The oldest sessions beyond this many are ended."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STATE_KEY = "dashboard.sessions"


class StateStore(Protocol):
    """Where the server key and the open sessions are kept: the journal's small state table."""

    async def read_state(self, key: str) -> str | None: ...

    async def write_state(self, key: str, value: str) -> None: ...


class Session(BaseModel):
    id: str
    csrf: str


class _Book(BaseModel):
    """What the state table holds: the server key and each open session's expiry."""

    key: str
    sessions: dict[str, float] = Field(default_factory=dict)


class DashboardSessions:
    """Opens, reads and ends dashboard sessions, and makes and checks login-form tokens."""

    def __init__(
        self,
        store: StateStore,
        admin_token: SecretStr | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._admin_token = admin_token
        self._clock = clock
        self._lock = asyncio.Lock()

    async def _book(self) -> _Book:
        text = await self._store.read_state(STATE_KEY)
        if text is not None:
            try:
                return _Book.model_validate_json(text)
            except ValidationError:
                pass  # unreadable: start again with a new key, which ends every session
        book = _Book(key=secrets.token_urlsafe(32))
        await self._store.write_state(STATE_KEY, book.model_dump_json())
        return book

    def _session_serializer(self, book: _Book) -> URLSafeTimedSerializer:
        assert self._admin_token is not None  # noqa: S101 - callers check
        mixed = hmac.new(book.key.encode(), self._admin_token.get_secret_value().encode(),
                         hashlib.sha256).hexdigest()
        return URLSafeTimedSerializer(mixed, salt="tradehook.session")

    @staticmethod
    def _login_serializer(book: _Book) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(book.key, salt="tradehook.login")

    async def open(self) -> str:
        """A new session: its cookie value."""
        async with self._lock:
            book = await self._book()
            now = self._clock()
            session = Session(id=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32))
            open_ = {sid: until for sid, until in book.sessions.items() if until > now}
            open_[session.id] = now + SESSION_SECONDS
            kept = dict(sorted(open_.items(), key=lambda item: item[1])[-MAX_OPEN_SESSIONS:])
            await self._store.write_state(
                STATE_KEY, book.model_copy(update={"sessions": kept}).model_dump_json()
            )
            value: str = self._session_serializer(book).dumps(session.model_dump())
            return value

    async def read(self, request: Request) -> Session | None:
        """The request's session, if it has one that is signed, unexpired and still open."""
        value = request.cookies.get(SESSION_COOKIE)
        if self._admin_token is None or not value or len(value) > 1024:
            return None
        book = await self._book()
        try:
            payload = self._session_serializer(book).loads(value, max_age=SESSION_SECONDS)
            session = Session.model_validate(payload)
        except (BadSignature, ValidationError):
            return None
        if book.sessions.get(session.id, 0.0) <= self._clock():
            return None
        return session

    async def end(self, session: Session) -> None:
        """Log out: the session's cookie is worthless from now on, wherever it is shown."""
        async with self._lock:
            book = await self._book()
            if book.sessions.pop(session.id, None) is not None:
                await self._store.write_state(STATE_KEY, book.model_dump_json())

    async def new_login_token(self) -> tuple[str, str]:
        """A random token for the login form, and the signed cookie that vouches for it."""
        book = await self._book()
        token = secrets.token_urlsafe(24)
        cookie: str = self._login_serializer(book).dumps(token)
        return token, cookie

    async def login_token_matches(self, request: Request, offered: str | None) -> bool:
        value = request.cookies.get(LOGIN_COOKIE)
        if not value or len(value) > 512:
            return False
        book = await self._book()
        try:
            expected = self._login_serializer(book).loads(value, max_age=LOGIN_SECONDS)
        except BadSignature:
            return False
        return isinstance(expected, str) and same_token(offered, expected)


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


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int,
    *, trusted_proxies: Sequence[IPNetwork],
) -> None:
    secure = request_scheme(request, trusted_proxies) == "https"
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=secure
    )
