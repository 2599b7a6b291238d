"""What the SQLite journal's receipt costs in statements: a signal leased as it is stored, its
first attempt opened with it, is written by its INSERT and its attempt's, after one look at its
lane (the lease and the `executing` status are in the INSERT, not updates after it), and that
look reads one row of a backlog nobody holds. Each statement is about 8 us of the event loop's
time per signal (`bench.floor`)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from webhook.journal import Lease, SignalStatus, SqliteJournal
from webhook.journal import sqlite_lanes as lanes
from webhook.journal.records import LANE_AHEAD
from webhook.journal.sqlite_schema import migrate

pytestmark = pytest.mark.anyio


def traced(journal: SqliteJournal) -> list[str]:
    """The statements the journal's writer runs from now on, first words only."""
    seen: list[str] = []
    connection = journal._writer._connection  # noqa: SLF001 - the one connection that writes
    assert isinstance(connection, sqlite3.Connection)
    connection.set_trace_callback(lambda sql: seen.append(" ".join(sql.split()[:3])))
    return seen


async def test_a_receipt_leased_with_its_attempt_is_one_insert_each(
    sqlite_journal: SqliteJournal,
) -> None:
    signal = queued_signal("BTC/USDT")
    signal = signal.model_copy(update={"lease": Lease("here", 30, starting=signal.id)})
    seen = traced(sqlite_journal)
    stored = await sqlite_journal.record(signal)
    assert stored.leased and stored.attempt == 1
    work = [s for s in seen
            if not s.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "PRAGMA"))]
    assert [s.split()[0] for s in work] == ["SELECT", "INSERT", "INSERT"], seen
    record = await sqlite_journal.get(signal.id)
    assert record is not None and record.status is SignalStatus.EXECUTING
    assert [a.number for a in record.attempts] == [1] and record.attempts[0].finished_at is None
    # Leased as a lease would leave it: a claim by anyone else skips it.
    assert await sqlite_journal.claim("other", lease_seconds=30, limit=10) == []


async def test_a_receipt_leased_without_its_attempt_stays_queued(
    sqlite_journal: SqliteJournal,
) -> None:
    signal = queued_signal("BTC/USDT").model_copy(update={"lease": Lease("here", 30)})
    seen = traced(sqlite_journal)
    stored = await sqlite_journal.record(signal)
    assert stored.leased and stored.attempt is None
    assert [s.split()[0] for s in seen if s.startswith(("INSERT", "UPDATE"))] == ["INSERT"]
    record = await sqlite_journal.get(signal.id)
    assert record is not None and record.status is SignalStatus.QUEUED and not record.attempts
    assert await sqlite_journal.claim("other", lease_seconds=30, limit=10) == []


def vm_steps(connection: sqlite3.Connection, work: Callable[[], object]) -> int:
    """SQLite virtual machine instructions `work` runs (a progress handler every 10)."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 10
        return 0

    connection.set_progress_handler(count, 10)
    try:
        work()
    finally:
        connection.set_progress_handler(None, 0)
    return steps


def test_a_receipt_into_a_backlog_nobody_holds_looks_at_one_row(tmp_path: Path) -> None:
    # Under a backlog every receipt of the lane asks whether it may be leased behind it: the
    # lane's newest pending signal, unleased, answers no without reading the leased ones.
    connection = sqlite3.connect(tmp_path / "lanes.db", isolation_level=None)
    migrate(connection, 0)
    now = time.time()
    mine = Lease("here", 30, joins_lane=True, ahead=True)

    def store(signal_id: str, leased: bool) -> None:
        connection.execute(
            "INSERT INTO signals (id, received_at, updated_at, source, raw_body, symbol, plugin,"
            " order_json, status, lease_owner, lease_until) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (signal_id, now, now, "signed", b"{}", "BTC", "paper", "{}", "queued",
             "here" if leased else None, now + 30 if leased else None))

    store("a", leased=True)
    one_held = vm_steps(connection, lambda: lanes.pending_ahead(
        connection, "paper", "BTC", mine, now))
    for n in range(LANE_AHEAD - 1):
        store(f"b{n:03d}", leased=True)
    store("c", leased=False)
    behind_backlog = vm_steps(connection, lambda: lanes.pending_ahead(
        connection, "paper", "BTC", mine, now))
    assert lanes.pending_ahead(connection, "paper", "BTC", mine, now) is None
    assert behind_backlog <= one_held, (behind_backlog, one_held)


@pytest.mark.parametrize("query", ["_LANE_NEWEST", "_LANE_HELD_BY", "_LANE_HEAD"])
def test_a_look_at_a_lane_reads_the_pending_index_alone(tmp_path: Path, query: str) -> None:
    # A receipt into a lane this executor runs counts the lane's leases, up to LANE_AHEAD rows:
    # with each signal's status and lease in the index, none of them is read from the table.
    connection = sqlite3.connect(tmp_path / "lanes.db", isolation_level=None)
    migrate(connection, 0)
    sql = getattr(lanes, query)
    parameters = (None,) * sql.count("?")
    plan = " ".join(row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}",
                                                           parameters))
    assert "COVERING INDEX signals_pending" in plan, plan
