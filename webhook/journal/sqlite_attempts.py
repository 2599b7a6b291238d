"""The attempts of the SQLite journal: opened before each send, withdrawn when a send opened
ahead of time never happened."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from webhook.journal.records import LANE_AHEAD, SignalStatus

_ROOM = LANE_AHEAD - 1
"""How many signals `open_leased_attempts` takes at most: those handed on behind a lane's next."""
_MARKS = ", ".join("?" * _ROOM)
"""Placeholders only: the statements below are constant text."""
_OPEN_MANY = (
    "INSERT INTO attempts (signal_id, number, started_at) SELECT s.id, COALESCE(("  # noqa: S608
    "SELECT MAX(t.number) FROM attempts AS t WHERE t.signal_id = s.id), 0) + 1, ? "
    f"FROM signals AS s WHERE s.id IN ({_MARKS}) RETURNING signal_id, number"
)
_LEASE_MANY = (
    "UPDATE signals SET status = ?, updated_at = ?, lease_owner = ?, lease_until = ? "  # noqa: S608
    f"WHERE id IN ({_MARKS})"
)


def open_attempt(
    connection: sqlite3.Connection, signal_id: str, started_at: float,
    *, leased_to: tuple[str, float] | None = None,
) -> int:
    """Mark the signal executing and open its next attempt; the attempt's number. With
    `leased_to` (owner, until), the same UPDATE leases it."""
    (last,) = connection.execute(
        "SELECT COALESCE(MAX(number), 0) FROM attempts WHERE signal_id = ?", (signal_id,)
    ).fetchone()
    number = int(last) + 1
    connection.execute(
        "INSERT INTO attempts (signal_id, number, started_at) VALUES (?, ?, ?)",
        (signal_id, number, started_at),
    )
    if leased_to is None:
        connection.execute(
            "UPDATE signals SET status = ?, updated_at = ? WHERE id = ?",
            (SignalStatus.EXECUTING.value, started_at, signal_id),
        )
    else:
        connection.execute(
            "UPDATE signals SET status = ?, updated_at = ?, lease_owner = ?, lease_until = ? "
            "WHERE id = ?",
            (SignalStatus.EXECUTING.value, started_at, *leased_to, signal_id),
        )
    return number


def open_leased_attempts(
    connection: sqlite3.Connection, signal_ids: Sequence[str], started_at: float,
    *, leased_to: tuple[str, float],
) -> dict[str, int]:
    """`open_attempt` for up to `LANE_AHEAD - 1` signals at once, each leased to `leased_to`:
    signal id -> its attempt's number. Two statements whatever their number, where
    `open_attempt` takes three for each. The ids are padded with NULLs (which match nothing),
    so that the statements' text, and SQLite's prepared statements, stay the same."""
    if len(signal_ids) > _ROOM:
        raise ValueError(f"at most {_ROOM} signals at once, not {len(signal_ids)}")
    padded = [*signal_ids, *[None] * (_ROOM - len(signal_ids))]
    opened = connection.execute(_OPEN_MANY, (started_at, *padded)).fetchall()
    connection.execute(_LEASE_MANY, (SignalStatus.EXECUTING.value, started_at, *leased_to,
                                     *padded))
    return {str(signal_id): int(number) for signal_id, number in opened}


def open_first_attempt(connection: sqlite3.Connection, signal_id: str, started_at: float) -> int:
    """Open attempt 1 of a signal inserted in this transaction as `executing`: a new signal has
    no attempts yet, and its row was written with the status `open_attempt` would set."""
    connection.execute(
        "INSERT INTO attempts (signal_id, number, started_at) VALUES (?, 1, ?)",
        (signal_id, started_at),
    )
    return 1


def withdraw_attempt(connection: sqlite3.Connection, signal_id: str, number: int) -> None:
    """Delete the attempt if it is unfinished and queue its signal again (it was never sent)."""
    deleted = connection.execute(
        "DELETE FROM attempts WHERE signal_id = ? AND number = ? AND finished_at IS NULL",
        (signal_id, number),
    ).rowcount
    if deleted:
        connection.execute(
            "UPDATE signals SET status = ? WHERE id = ? AND status = ?",
            (SignalStatus.QUEUED.value, signal_id, SignalStatus.EXECUTING.value),
        )
