"""The SQLite journal: one file in WAL mode, every commit fsynced, commits grouped."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from plugins.orders import ExecutionResult, Order
from webhook.errors import JournalError
from webhook.journal.base import SignalJournal
from webhook.journal.group_commit import GroupCommitter
from webhook.journal.records import (
    PENDING,
    Attempt,
    NewSignal,
    SignalRecord,
    SignalStatus,
    Stored,
)

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS signals (
    id TEXT PRIMARY KEY,
    received_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    source TEXT NOT NULL,
    dialect TEXT,
    idempotency_key TEXT UNIQUE,
    content_type TEXT,
    raw_body BLOB NOT NULL,
    symbol TEXT,
    plugin TEXT,
    order_json TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    error TEXT,
    result_json TEXT,
    sizing TEXT
);
CREATE INDEX IF NOT EXISTS signals_by_status ON signals (status, id);
CREATE TABLE IF NOT EXISTS attempts (
    signal_id TEXT NOT NULL REFERENCES signals (id),
    number INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    outcome TEXT,
    error TEXT,
    result_json TEXT,
    PRIMARY KEY (signal_id, number)
);
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""
MIGRATIONS = {
    # version 1 -> 2: how each quantity was computed, and small durable state (kill switch).
    1: "ALTER TABLE signals ADD COLUMN sizing TEXT;",
}
"""Statements that upgrade a file from the key's version to the next; the rest of a new
version's schema (new tables) comes from SCHEMA's CREATE ... IF NOT EXISTS."""
_COLUMNS = (
    "id, received_at, updated_at, source, dialect, idempotency_key, content_type, raw_body, "
    "plugin, order_json, status, reason, error, result_json, sizing"
)


class SqliteJournal(SignalJournal):
    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._writer = GroupCommitter(self._connect)

    def _connect(self) -> sqlite3.Connection:
        if self._path.parent != Path():
            self._path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA busy_timeout=5000")
        connection.execute("PRAGMA foreign_keys=ON")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            connection.close()
            raise sqlite3.DatabaseError(
                f"{self._path} was written by a newer tradehook (schema {version})"
            )
        _migrate(connection, version)
        return connection

    async def open(self) -> None:
        await self._writer.start()

    async def close(self) -> None:
        await self._writer.stop()

    async def healthy(self) -> bool:
        try:
            return bool(await self._writer.run(lambda c: c.execute("SELECT 1").fetchone()))
        except JournalError:
            return False

    async def record(self, signal: NewSignal) -> Stored:
        row = (
            signal.id, signal.received_at, signal.received_at, signal.source, signal.dialect,
            signal.idempotency_key, signal.content_type, signal.raw_body,
            signal.order.symbol if signal.order else None, signal.plugin,
            signal.order.model_dump_json() if signal.order else None,
            signal.status.value, signal.reason, signal.error, signal.sizing,
        )

        def insert(connection: sqlite3.Connection) -> Stored:
            try:
                connection.execute(
                    "INSERT INTO signals (id, received_at, updated_at, source, dialect, "
                    "idempotency_key, content_type, raw_body, symbol, plugin, order_json, "
                    "status, reason, error, sizing) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    row,
                )
            except sqlite3.IntegrityError:
                first = connection.execute(
                    "SELECT id FROM signals WHERE idempotency_key = ?", (signal.idempotency_key,)
                ).fetchone()
                if first is None:
                    raise
                return Stored(signal_id=first[0], duplicate=True)
            return Stored(signal_id=signal.id)

        return await self._writer.run(insert)

    async def start_attempt(self, signal_id: str, started_at: float) -> int:
        def start(connection: sqlite3.Connection) -> int:
            (last,) = connection.execute(
                "SELECT COALESCE(MAX(number), 0) FROM attempts WHERE signal_id = ?", (signal_id,)
            ).fetchone()
            number = int(last) + 1
            connection.execute(
                "INSERT INTO attempts (signal_id, number, started_at) VALUES (?, ?, ?)",
                (signal_id, number, started_at),
            )
            connection.execute(
                "UPDATE signals SET status = ?, updated_at = ? WHERE id = ?",
                (SignalStatus.EXECUTING.value, started_at, signal_id),
            )
            return number

        return await self._writer.run(start)

    async def finish_attempt(
        self,
        signal_id: str,
        number: int,
        *,
        outcome: str,
        status: SignalStatus,
        result: ExecutionResult | None = None,
        error: str | None = None,
    ) -> None:
        now = time.time()
        result_json = result.model_dump_json() if result else None

        def finish(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE attempts SET finished_at = ?, outcome = ?, error = ?, result_json = ? "
                "WHERE signal_id = ? AND number = ?",
                (now, outcome, error, result_json, signal_id, number),
            )
            connection.execute(
                "UPDATE signals SET status = ?, updated_at = ?, error = COALESCE(?, error), "
                "result_json = COALESCE(?, result_json) WHERE id = ?",
                (status.value, now, error, result_json, signal_id),
            )

        await self._writer.run(finish)

    async def get(self, signal_id: str) -> SignalRecord | None:
        def read(connection: sqlite3.Connection) -> SignalRecord | None:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM signals WHERE id = ?",  # noqa: S608 - constant columns
                (signal_id,),
            ).fetchone()
            return _record(row, _attempts(connection, signal_id)) if row else None

        return await self._writer.run(read)

    async def list_signals(
        self,
        *,
        status: SignalStatus | None = None,
        source: str | None = None,
        symbol: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[SignalRecord]:
        conditions, params = ["1 = 1"], []
        for column, value in (("status", status), ("source", source), ("symbol", symbol)):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(str(value))
        if before is not None:
            conditions.append("id < ?")
            params.append(before)
        query = (
            f"SELECT {_COLUMNS} FROM signals WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY id DESC LIMIT ?"
        )

        def read(connection: sqlite3.Connection) -> list[SignalRecord]:
            rows = connection.execute(query, (*params, limit)).fetchall()
            return [_record(row, []) for row in rows]

        return await self._writer.run(read)

    async def read_state(self, key: str) -> str | None:
        def read(connection: sqlite3.Connection) -> str | None:
            row = connection.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

        return await self._writer.run(read)

    async def write_state(self, key: str, value: str) -> None:
        now = time.time()

        def write(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (key, value, now),
            )

        await self._writer.run(write)

    async def pending(self) -> list[SignalRecord]:
        marks = ",".join("?" for _ in PENDING)

        def read(connection: sqlite3.Connection) -> list[SignalRecord]:
            rows = connection.execute(
                f"SELECT {_COLUMNS} FROM signals WHERE status IN ({marks}) "  # noqa: S608
                "ORDER BY id",
                [s.value for s in PENDING],
            ).fetchall()
            return [_record(row, _attempts(connection, row[0])) for row in rows]

        return await self._writer.run(read)


def _migrate(connection: sqlite3.Connection, version: int) -> None:
    """Bring a file at `version` (0: new) to SCHEMA_VERSION in one transaction."""
    if version == SCHEMA_VERSION:
        connection.executescript(SCHEMA)  # idempotent; creates nothing on a current file
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        if version > 0:
            for step in range(version, SCHEMA_VERSION):
                for statement in filter(str.strip, MIGRATIONS[step].split(";")):
                    connection.execute(statement)
        for statement in filter(str.strip, SCHEMA.split(";")):
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _attempts(connection: sqlite3.Connection, signal_id: str) -> list[Attempt]:
    rows = connection.execute(
        "SELECT number, started_at, finished_at, outcome, error, result_json FROM attempts "
        "WHERE signal_id = ? ORDER BY number",
        (signal_id,),
    ).fetchall()
    return [
        Attempt(
            number=number, started_at=started, finished_at=finished, outcome=outcome,
            error=error, result=_result(result_json),
        )
        for number, started, finished, outcome, error, result_json in rows
    ]


def _result(text: str | None) -> ExecutionResult | None:
    return ExecutionResult.model_validate_json(text) if text else None


def _record(row: tuple[Any, ...], attempts: list[Attempt]) -> SignalRecord:
    (id_, received, updated, source, dialect, key, content_type, raw, plugin, order_json,
     status, reason, error, result_json, sizing) = row
    return SignalRecord(
        id=id_, received_at=received, updated_at=updated, source=source, dialect=dialect,
        idempotency_key=key, content_type=content_type, raw_body=bytes(raw), plugin=plugin,
        order=Order.model_validate_json(order_json) if order_json else None,
        status=SignalStatus(status), reason=reason, error=error, sizing=sizing,
        result=_result(result_json), attempts=attempts,
    )
