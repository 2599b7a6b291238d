"""A PostgreSQL schema of its own for each test, on the server that CI provides.

`TRADEHOOK_TEST_POSTGRES` points elsewhere (default: trust auth on 127.0.0.1:5432, database
`test`). Without a server the test is skipped, except in CI, where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from tests.conftest import skip_unless_available

SERVER_URL = os.environ.get(
    "TRADEHOOK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def with_query(url: str, **parameters: str | int) -> str:
    """`url` with these query parameters added."""
    query = "&".join(f"{name}={quote(str(value), safe='')}" for name, value in parameters.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def connect(url: str = SERVER_URL) -> Any:
    """A plain psycopg connection in autocommit (for arranging and inspecting tables)."""
    import psycopg

    return psycopg.connect(url, autocommit=True)


@contextmanager
def scratch_schema(options: str = "") -> Iterator[str]:
    """A journal URL whose tables go to a new, empty schema, dropped afterwards; `options` adds
    server settings (`-csynchronous_commit=off`)."""
    try:
        import psycopg
    except ImportError:
        skip_unless_available(False, "psycopg is not installed (pip install 'psycopg[binary]')")
        raise
    schema = f"test_{uuid.uuid4().hex[:16]}"
    try:
        with connect() as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        skip_unless_available(False, f"no PostgreSQL at {SERVER_URL}: {exc}".strip())
    try:
        yield with_query(SERVER_URL, options=f"-csearch_path={schema} {options}".strip())
    finally:
        with connect() as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
