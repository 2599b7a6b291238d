"""The SQLite journal's schema, its migrations, and rows turned back into records."""

from __future__ import annotations

import sqlite3

from webhook.journal.records import Attempt
from webhook.journal.rows import result_from
from webhook.journal.sqlite_exits import EXIT_PLANS_SCHEMA

SCHEMA_VERSION = 6
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
    sizing TEXT,
    lease_owner TEXT,
    lease_until REAL,
    approval_deadline REAL,
    approved_at REAL
);
CREATE INDEX IF NOT EXISTS signals_by_status ON signals (status, id);
CREATE INDEX IF NOT EXISTS signals_pending
    ON signals (plugin, symbol, id, status, lease_owner, lease_until)
    WHERE status IN ('queued', 'executing');
CREATE INDEX IF NOT EXISTS signals_leased ON signals (lease_until)
    WHERE status IN ('queued', 'executing') AND lease_owner IS NOT NULL;
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
""" + EXIT_PLANS_SCHEMA
MIGRATIONS = {
    # version 1 -> 2: how each quantity was computed, and small durable state (kill switch).
    1: "ALTER TABLE signals ADD COLUMN sizing TEXT;",
    # version 2 -> 3: leases, so that several executors can share one journal.
    2: "ALTER TABLE signals ADD COLUMN lease_owner TEXT; "
       "ALTER TABLE signals ADD COLUMN lease_until REAL;",
    # version 3 -> 4: the approval queue (a waiting signal's deadline, when it was approved).
    3: "ALTER TABLE signals ADD COLUMN approval_deadline REAL; "
       "ALTER TABLE signals ADD COLUMN approved_at REAL;",
    # version 4 -> 5: managed exits (the exit_plans table, created from SCHEMA).
    4: "",
    # version 5 -> 6: the pending index holds each signal's status and lease, so that a
    # receipt's look at its lane reads the index alone (recreated from SCHEMA).
    5: "DROP INDEX IF EXISTS signals_pending;",
}
"""Statements that upgrade a file from the key's version to the next; the rest of a new
version's schema (new tables) comes from SCHEMA's CREATE ... IF NOT EXISTS."""


def migrate(connection: sqlite3.Connection, version: int) -> None:
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


def attempts_of(connection: sqlite3.Connection, signal_id: str) -> list[Attempt]:
    rows = connection.execute(
        "SELECT number, started_at, finished_at, outcome, error, result_json FROM attempts "
        "WHERE signal_id = ? ORDER BY number",
        (signal_id,),
    ).fetchall()
    return [
        Attempt(
            number=number, started_at=started, finished_at=finished, outcome=outcome,
            error=error, result=result_from(result_json),
        )
        for number, started, finished, outcome, error, result_json in rows
    ]
