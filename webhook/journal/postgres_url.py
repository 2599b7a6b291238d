"""`postgresql://` journal URLs: the pool size tradehook reads from them, and a form safe to show.

Kept apart from `webhook.journal.postgres` so that checking a configuration needs no psycopg.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")
DEFAULT_POOL_SIZE = 10
MAX_POOL_SIZE = 100
POOL_SIZE = "pool_size"
"""The URL query parameter that tradehook reads (and libpq never sees): connections per process."""
LIBPQ_DEFAULTS = {"connect_timeout": "10", "application_name": "tradehook"}
"""libpq parameters added unless the URL sets them: never wait forever for a silent host."""


@dataclass(frozen=True)
class PostgresUrl:
    conninfo: str = field(repr=False)
    """The URL for libpq, without tradehook's own parameters; may hold a password."""
    pool_size: int
    redacted: str
    """The URL with any password replaced by `***`, for messages and logs."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """The password as written and as decoded, to scrub from driver messages."""

    def scrub(self, message: str) -> str:
        for secret in self.secrets:
            message = message.replace(secret, "***")
        return message


def parse_postgres_url(url: str) -> PostgresUrl:
    """Split a journal URL; a ValueError names what is wrong without repeating a password."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError("a PostgreSQL journal URL starts with 'postgresql://'")
    pool_size = DEFAULT_POOL_SIZE
    passed_on: list[tuple[str, str]] = []
    secrets: list[str] = []
    written = parse_qsl(parts.query, keep_blank_values=True)
    for name, value in written:
        if name == POOL_SIZE:
            pool_size = _pool_size(value)
        else:
            passed_on.append((name, value))
            if name == "password" and value:
                secrets.append(value)
    given = {name for name, _ in passed_on}
    passed_on += [(n, v) for n, v in LIBPQ_DEFAULTS.items() if n not in given]
    userinfo, at, hosts = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if password:
        secrets += [password, parts.password or password]
    conninfo = urlunsplit(parts._replace(query=urlencode(passed_on, quote_via=quote)))
    shown_query = [(n, "***" if n == "password" else v) for n, v in written]
    shown_netloc = f"{user}{colon}{'***' if password else ''}{at}{hosts}"
    redacted = urlunsplit(parts._replace(
        netloc=shown_netloc, query=urlencode(shown_query, safe="*", quote_via=quote)
    ))
    unique = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
    return PostgresUrl(conninfo=conninfo, pool_size=pool_size, redacted=redacted, secrets=unique)


def _pool_size(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_POOL_SIZE:
        raise ValueError(f"{POOL_SIZE} must be a whole number from 1 to {MAX_POOL_SIZE}")
    return int(value)


def shown_journal_url(url: str) -> str:
    """A journal URL as it may be printed or logged: a PostgreSQL password becomes `***`."""
    if not url.startswith(tuple(f"{scheme}://" for scheme in SCHEMES)):
        return url
    try:
        return parse_postgres_url(url).redacted
    except ValueError:
        return "postgresql://(a URL that does not parse)"
