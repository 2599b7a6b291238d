"""An older journal file is upgraded in place; the state table keeps small values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from webhook.journal import SqliteJournal
from webhook.journal.sqlite_schema import SCHEMA, SCHEMA_VERSION

pytestmark = pytest.mark.anyio

VERSION_1 = """
CREATE TABLE signals (
    id TEXT PRIMARY KEY, received_at REAL NOT NULL, updated_at REAL NOT NULL,
    source TEXT NOT NULL, dialect TEXT, idempotency_key TEXT UNIQUE, content_type TEXT,
    raw_body BLOB NOT NULL, symbol TEXT, plugin TEXT, order_json TEXT, status TEXT NOT NULL,
    reason TEXT, error TEXT, result_json TEXT
);
CREATE INDEX signals_by_status ON signals (status, id);
CREATE TABLE attempts (
    signal_id TEXT NOT NULL REFERENCES signals (id), number INTEGER NOT NULL,
    started_at REAL NOT NULL, finished_at REAL, outcome TEXT, error TEXT, result_json TEXT,
    PRIMARY KEY (signal_id, number)
);
INSERT INTO signals VALUES ('0001', 1.0, 1.0, 'signed', 'plain', NULL, 'text/plain',
    X'6275792031204553', 'ES', 'mock', NULL, 'filtered', 'old reason', NULL, NULL);
PRAGMA user_version = 1;
"""


def version_1_file(path: Path) -> Path:
    connection = sqlite3.connect(path)
    connection.executescript(VERSION_1)
    connection.close()
    return path


async def test_version_1_file_is_upgraded_and_keeps_its_signals(tmp_path: Path) -> None:
    journal = SqliteJournal(version_1_file(tmp_path / "old.db"))
    await journal.open()
    try:
        old = await journal.get("0001")
        assert old is not None and (old.reason, old.sizing) == ("old reason", None)
        new = queued_signal().model_copy(update={"sizing": "2 units (the alert)"})
        await journal.record(new)
        stored = await journal.get(new.id)
        assert stored is not None and stored.sizing == "2 units (the alert)"
        await journal.write_state("kill_switch", '{"engaged": true}')
    finally:
        await journal.close()
    connection = sqlite3.connect(tmp_path / "old.db")
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    columns = {row[1] for row in connection.execute("PRAGMA table_info(signals)")}
    assert {"sizing", "lease_owner", "lease_until"} <= columns
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "exit_plans" in tables
    connection.close()


async def test_state_survives_reopening_and_is_replaced_on_write(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    await journal.open()
    assert await journal.read_state("kill_switch") is None
    await journal.write_state("kill_switch", "one")
    await journal.write_state("kill_switch", "two")
    await journal.close()
    again = SqliteJournal(tmp_path / "j.db")
    await again.open()
    try:
        assert await again.read_state("kill_switch") == "two"
    finally:
        await again.close()


async def test_a_version_5_file_gets_the_pending_index_with_leases(tmp_path: Path) -> None:
    path = tmp_path / "v5.db"
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA.replace(
        "ON signals (plugin, symbol, id, status, lease_owner, lease_until)",
        "ON signals (plugin, symbol, id)"))
    connection.execute("PRAGMA user_version = 5")
    connection.close()
    journal = SqliteJournal(path)
    await journal.open()
    try:
        signal = queued_signal()
        await journal.record(signal)
        assert [r.id for r in await journal.claim("here", lease_seconds=30, limit=5)] == [
            signal.id]
    finally:
        await journal.close()
    connection = sqlite3.connect(path)
    columns = [row[2] for row in connection.execute("PRAGMA index_info(signals_pending)")]
    connection.close()
    assert columns == ["plugin", "symbol", "id", "status", "lease_owner", "lease_until"]
