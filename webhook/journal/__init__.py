"""The journal: where every signal, its decision and its execution are kept durably, with
leases and signal ids. It imports no HTTP, decide or execute room and no plugin back end."""

from __future__ import annotations

from webhook.errors import ConfigError
from webhook.journal.base import SignalJournal
from webhook.journal.records import (
    Attempt,
    HandedJob,
    HandedOn,
    Lease,
    NewSignal,
    SignalRecord,
    SignalStatus,
    Stored,
)
from webhook.journal.sqlite import SqliteJournal

__all__ = [
    "Attempt",
    "HandedJob",
    "HandedOn",
    "Lease",
    "NewSignal",
    "SignalJournal",
    "SignalRecord",
    "SignalStatus",
    "Stored",
    "SqliteJournal",
    "open_journal",
]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_journal(url: str) -> SignalJournal:
    """The journal for a `sqlite:///PATH` or `postgresql://...` URL (not yet opened).

    The PostgreSQL journal, and psycopg with it, is imported only when a URL asks for it.
    """
    if url.startswith(POSTGRES_SCHEMES):
        try:
            from webhook.journal.postgres import PostgresJournal
        except ImportError as exc:
            raise ConfigError(
                "journal: a postgresql:// journal needs the psycopg and psycopg-pool packages; "
                "install them with `pip install 'tradehook[postgres]'`"
            ) from exc
        return PostgresJournal(url)
    if url.startswith("sqlite:///"):
        return SqliteJournal(url.removeprefix("sqlite:///"))
    raise ConfigError("journal: expected 'sqlite:///PATH' or 'postgresql://USER@HOST/DATABASE'")
