"""The journal: where every signal, its decision and its execution are kept durably."""

from __future__ import annotations

from webhook.journal.base import SignalJournal
from webhook.journal.records import (
    Attempt,
    NewSignal,
    SignalRecord,
    SignalStatus,
    Stored,
)
from webhook.journal.sqlite import SqliteJournal

__all__ = [
    "Attempt",
    "NewSignal",
    "SignalJournal",
    "SignalRecord",
    "SignalStatus",
    "Stored",
    "SqliteJournal",
    "open_journal",
]


def open_journal(url: str) -> SignalJournal:
    """The journal for a `sqlite:///PATH` URL (not yet opened)."""
    return SqliteJournal(url.removeprefix("sqlite:///"))
