"""The journal's contract, run against both back ends; SQLite's own mechanics at the end."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from plugins.orders import ExecutionResult
from tests.webhook.journal.journal_helpers import queued_signal
from webhook.errors import JournalError, LeaseLost
from webhook.journal import SignalJournal, SignalStatus, SqliteJournal, open_journal, wal_sync
from webhook.journal.group_commit import IDLE_GAP
from webhook.journal.sqlite_checkpoints import CHECKPOINT_EVERY

pytestmark = pytest.mark.anyio


async def test_repeated_idempotency_key_is_a_duplicate_of_the_first(
    journal: SignalJournal,
) -> None:
    first, second = queued_signal(key="k1"), queued_signal(key="k1")
    assert (await journal.record(first)).duplicate is False
    stored = await journal.record(second)
    assert (stored.duplicate, stored.signal_id) == (True, first.id)
    assert await journal.get(second.id) is None


async def test_signals_without_a_key_never_collide(journal: SignalJournal) -> None:
    for _ in range(3):
        assert not (await journal.record(queued_signal(key=None))).duplicate
    assert len(await journal.list_signals()) == 3


async def test_attempts_and_results_are_kept_in_order(journal: SignalJournal) -> None:
    signal = queued_signal()
    await journal.record(signal)
    one = await journal.start_attempt(signal.id, 1.0)
    await journal.finish_attempt(signal.id, one, outcome="temporary",
                                 status=SignalStatus.QUEUED, error="rate limited")
    two = await journal.start_attempt(signal.id, 2.0)
    assert (await journal.get(signal.id)).status is SignalStatus.EXECUTING  # type: ignore[union-attr]
    result = ExecutionResult(success=True, status="filled", order_id="X1", filled_quantity=1)
    await journal.finish_attempt(signal.id, two, outcome="result", status=SignalStatus.FILLED,
                                 result=result)
    record = await journal.get(signal.id)
    assert record is not None
    assert [a.number for a in record.attempts] == [1, 2]
    assert [a.outcome for a in record.attempts] == ["temporary", "result"]
    assert record.attempts[0].error == "rate limited"
    assert record.result == result and record.status is SignalStatus.FILLED


async def test_list_filters_newest_first_with_a_cursor(journal: SignalJournal) -> None:
    signals = [queued_signal("BTC/USDT" if i % 2 else "ETH/USDT", source=f"s{i % 3}")
               for i in range(10)]
    for signal in signals:
        await journal.record(signal)
    newest = await journal.list_signals(limit=3)
    assert [r.id for r in newest] == [s.id for s in reversed(signals)][:3]
    older = await journal.list_signals(limit=3, before=newest[-1].id)
    assert [r.id for r in older] == [s.id for s in reversed(signals)][3:6]
    assert {r.symbol for r in await journal.list_signals(symbol="ETH/USDT")} == {"ETH/USDT"}
    assert {r.source for r in await journal.list_signals(source="s1")} == {"s1"}
    assert await journal.list_signals(status=SignalStatus.FILLED) == []


async def test_claim_takes_the_oldest_of_each_plugin_and_symbol(journal: SignalJournal) -> None:
    btc1, eth1 = queued_signal("BTC/USDT"), queued_signal("ETH/USDT")
    btc2 = queued_signal("BTC/USDT")
    for signal in (btc1, eth1, btc2):
        await journal.record(signal)
    claimed = await journal.claim("a", lease_seconds=30, limit=10)
    assert [r.id for r in claimed] == [btc1.id, eth1.id]
    assert await journal.claim("b", lease_seconds=30, limit=10) == []


async def test_next_in_line_is_claimable_once_the_first_is_final(journal: SignalJournal) -> None:
    first, second = queued_signal(), queued_signal()
    await journal.record(first)
    await journal.record(second)
    await journal.claim("a", lease_seconds=30, limit=10)
    number = await journal.start_attempt(first.id, 1.0, owner="a")
    await journal.finish_attempt(first.id, number, outcome="temporary", status=SignalStatus.QUEUED)
    assert await journal.claim("b", lease_seconds=30, limit=10) == []  # still a's, still first
    number = await journal.start_attempt(first.id, 2.0, owner="a")
    await journal.finish_attempt(first.id, number, outcome="result", status=SignalStatus.FILLED)
    assert [r.id for r in await journal.claim("b", lease_seconds=30, limit=10)] == [second.id]


async def test_expired_lease_passes_to_another_executor(journal: SignalJournal) -> None:
    signal = queued_signal()
    await journal.record(signal)
    await journal.claim("a", lease_seconds=0.05, limit=1)
    await journal.start_attempt(signal.id, 1.0, owner="a")
    await asyncio.sleep(0.1)
    (taken,) = await journal.claim("b", lease_seconds=30, limit=1)
    assert taken.status is SignalStatus.EXECUTING  # in flight when a stopped: ask the broker
    with pytest.raises(LeaseLost):
        await journal.start_attempt(signal.id, 2.0, owner="a")
    assert len((await journal.get(signal.id)).attempts) == 1  # type: ignore[union-attr]


async def test_same_owner_takes_its_leases_back_at_once(journal: SignalJournal) -> None:
    signal = queued_signal()
    await journal.record(signal)
    await journal.claim("host:8000", lease_seconds=300, limit=1)
    again = await journal.claim("host:8000", lease_seconds=300, limit=1)
    assert [r.id for r in again] == [signal.id]


async def test_renew_extends_and_reports_lost_leases(journal: SignalJournal) -> None:
    mine, other = queued_signal("BTC/USDT"), queued_signal("ETH/USDT")
    await journal.record(mine)
    await journal.record(other)
    await journal.claim("a", lease_seconds=0.05, limit=2)
    assert await journal.renew("a", [mine.id], lease_seconds=30) == set()
    await asyncio.sleep(0.1)
    assert [r.id for r in await journal.claim("b", lease_seconds=30, limit=5)] == [other.id]
    assert await journal.renew("a", [mine.id, other.id], lease_seconds=30) == {other.id}


async def test_release_frees_leases_and_keeps_the_status(journal: SignalJournal) -> None:
    signal = queued_signal()
    await journal.record(signal)
    await journal.claim("a", lease_seconds=300, limit=1)
    await journal.start_attempt(signal.id, 1.0, owner="a")
    await journal.release("a", [signal.id])
    (taken,) = await journal.claim("b", lease_seconds=30, limit=1)
    assert taken.status is SignalStatus.EXECUTING


async def test_claim_skips_excluded_plugins(journal: SignalJournal) -> None:
    down, up = queued_signal(plugin="down"), queued_signal(plugin="up")
    await journal.record(down)
    await journal.record(up)
    claimed = await journal.claim("a", lease_seconds=30, limit=5, exclude_plugins={"down"})
    assert [r.id for r in claimed] == [up.id]


async def test_pending_orders_are_the_lanes_queued_and_executing_ones(
    journal: SignalJournal,
) -> None:
    queued, executing, filled = (queued_signal("BTC/USDT") for _ in range(3))
    for signal in (queued, executing, filled):
        await journal.record(signal)
    waiting = queued_signal("BTC/USDT", status=SignalStatus.AWAITING_APPROVAL)
    await journal.record(waiting)
    await journal.record(queued_signal("ETH/USDT"))
    await journal.record(queued_signal("BTC/USDT", plugin="other"))
    await journal.start_attempt(executing.id, 1.0)
    number = await journal.start_attempt(filled.id, 1.0)
    await journal.finish_attempt(filled.id, number, outcome="result", status=SignalStatus.FILLED)
    orders = await journal.pending_orders("paper", "BTC/USDT")
    assert [o.client_order_id for o in orders] == [queued.id, executing.id]
    assert await journal.pending_orders("paper", "SOL/USDT") == []


async def test_pending_among_names_the_queued_and_executing_ones_asked_for(
    journal: SignalJournal,
) -> None:
    queued, executing, filled, other = (queued_signal("BTC/USDT") for _ in range(4))
    for signal in (queued, executing, filled, other):
        await journal.record(signal)
    await journal.start_attempt(executing.id, 1.0)
    number = await journal.start_attempt(filled.id, 1.0)
    await journal.finish_attempt(filled.id, number, outcome="result", status=SignalStatus.FILLED)
    asked = [queued.id, executing.id, filled.id, "01NOSUCHSIGNAL0000000000000"]
    assert await journal.pending_among(asked) == {queued.id, executing.id}
    assert await journal.pending_among([]) == set()
    many = [f"01MANY{n:021d}" for n in range(1200)] + [other.id]  # more than one batch
    assert await journal.pending_among(many) == {other.id}


async def test_stored_signal_survives_a_reopen(journal_url: str) -> None:
    signal = queued_signal()
    first = open_journal(journal_url)
    await first.open()
    await first.record(signal)
    await first.close()
    again = open_journal(journal_url)
    await again.open()
    record = await again.get(signal.id)
    await again.close()
    assert record is not None
    assert (record.order, record.raw_body, record.status) == (
        signal.order, signal.raw_body, SignalStatus.QUEUED
    )


async def test_closed_journal_refuses_writes_and_is_unhealthy(journal_url: str) -> None:
    store = open_journal(journal_url)
    await store.open()
    await store.close()
    assert not await store.healthy()
    with pytest.raises(JournalError):
        await store.record(queued_signal())


async def test_attempt_for_an_unknown_signal_is_a_journal_error(journal: SignalJournal) -> None:
    with pytest.raises(JournalError):
        await journal.start_attempt("0000000000NOSUCHSIGNAL0000", 1.0)
    assert await journal.healthy()
    assert await journal.list_signals() == []


async def test_start_attempt_without_the_lease_writes_nothing(journal: SignalJournal) -> None:
    signal = queued_signal()
    await journal.record(signal)
    await journal.claim("a", lease_seconds=30, limit=1)
    with pytest.raises(LeaseLost):
        await journal.start_attempt(signal.id, 1.0, owner="b")
    record = await journal.get(signal.id)
    assert record is not None and (record.status, record.attempts) == (SignalStatus.QUEUED, [])


async def test_state_is_replaced_on_write_and_survives_a_reopen(journal_url: str) -> None:
    first = open_journal(journal_url)
    await first.open()
    assert await first.read_state("kill_switch") is None
    await first.write_state("kill_switch", "one")
    await first.write_state("kill_switch", "two")
    await first.close()
    again = open_journal(journal_url)
    await again.open()
    try:
        assert await again.read_state("kill_switch") == "two"
    finally:
        await again.close()


# SQLite's own mechanics: WAL, fsync per commit, commits shared by writers.


@pytest.fixture
def fsync_in_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The journal as where `os.fdatasync` is missing: SQLite fsyncs inside every COMMIT."""
    monkeypatch.setattr(wal_sync, "AVAILABLE", False)


def synchronous(store: SqliteJournal) -> tuple[str, int]:
    """The writer's journal mode and synchronous level between two writes."""
    connection = store._writer._connection  # noqa: SLF001 - the one connection that writes
    assert connection is not None
    return (connection.execute("PRAGMA journal_mode").fetchone()[0],
            connection.execute("PRAGMA synchronous").fetchone()[0])


@pytest.mark.usefixtures("fsync_in_commit")
async def test_without_fdatasync_every_commit_fsyncs_itself(sqlite_journal: SqliteJournal
                                                            ) -> None:
    await sqlite_journal.record(queued_signal())
    assert sqlite_journal._writer.syncer is None  # noqa: SLF001
    assert synchronous(sqlite_journal) == ("wal", 2)  # 2 = FULL: every commit is fsynced


@pytest.mark.skipif(not wal_sync.AVAILABLE, reason="the WAL's sync helper is for Linux")
async def test_on_linux_batches_are_synced_by_the_helper(sqlite_journal: SqliteJournal) -> None:
    await asyncio.gather(*(sqlite_journal.record(queued_signal()) for _ in range(20)))
    assert sqlite_journal._writer.syncer is not None  # noqa: SLF001
    # 1 = NORMAL: SQLite syncs at checkpoints only, the helper after each batch's COMMIT.
    assert synchronous(sqlite_journal) == ("wal", 1)
    syncer = sqlite_journal._writer.syncer  # noqa: SLF001
    assert syncer is not None and syncer.syncs > 0


async def test_concurrent_writes_share_commits(tmp_path: Path) -> None:
    commits: list[str] = []

    class CountingJournal(SqliteJournal):
        def _connect(self) -> sqlite3.Connection:
            connection = super()._connect()
            connection.set_trace_callback(
                lambda sql: commits.append(sql) if sql == "COMMIT" else None
            )
            return connection

    store = CountingJournal(tmp_path / "j.db")
    await store.open()
    signals = [queued_signal() for _ in range(300)]
    await asyncio.gather(*(store.record(s) for s in signals))
    assert len(await store.list_signals(limit=500)) == 300
    await store.close()
    assert 0 < len(commits) < 300


class WatchedJournal(SqliteJournal):
    """Notes the thread of each COMMIT."""

    committed_on: list[str]

    def _connect(self) -> sqlite3.Connection:
        self.committed_on = []
        connection = super()._connect()
        connection.set_trace_callback(
            lambda sql: self.committed_on.append(threading.current_thread().name)
            if sql == "COMMIT" else None
        )
        return connection


async def test_a_lone_write_on_an_idle_journal_commits_on_the_event_loop(tmp_path: Path) -> None:
    store = WatchedJournal(tmp_path / "j.db")
    await store.open()
    for _ in range(3):
        await asyncio.sleep(IDLE_GAP * 2)
        await store.record(queued_signal())
    await store.close()
    # No hand-off: the caller's own thread, and the write is durable when `record` returns.
    assert store.committed_on == [threading.current_thread().name] * 3
    with sqlite3.connect(tmp_path / "j.db") as check:
        assert check.execute("SELECT COUNT(*) FROM signals").fetchone() == (3,)


@pytest.mark.usefixtures("fsync_in_commit")
async def test_writes_close_together_commit_on_the_journals_one_committer_thread(
    tmp_path: Path
) -> None:
    store = WatchedJournal(tmp_path / "j.db")
    await store.open()
    # The first finds the journal idle and commits on the loop; the others come within the gap
    # after its commit and share the committer thread's commits.
    await asyncio.gather(*(store.record(queued_signal()) for _ in range(20)))
    await store.close()
    assert store.committed_on[0] == threading.current_thread().name
    assert "journal-commit" in store.committed_on
    assert len(store.committed_on) < 20
    # Not a pool's thread per commit: the journal's one thread, gone once it is closed.
    assert set(store.committed_on) <= {threading.current_thread().name, "journal-commit"}
    assert "journal-commit" not in {thread.name for thread in threading.enumerate()}


async def test_checkpoints_run_on_their_own_thread_not_in_a_commit(tmp_path: Path) -> None:
    store = SqliteJournal(tmp_path / "j.db")
    await store.open()
    autocheckpoint = await store._writer.run(
        lambda c: c.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    database = tmp_path / "j.db"
    before = database.stat().st_size
    for _ in range(CHECKPOINT_EVERY + 10):
        await store.record(queued_signal())
    checkpoints = store._checkpoints  # noqa: SLF001 - the journal's checkpointer
    for _ in range(100):  # the checkpoint thread takes its turn
        if checkpoints.checkpoints:
            break
        await asyncio.sleep(0.02)
    # Only the checkpoint copies pages from the WAL into the database file.
    grown = database.stat().st_size
    await store.close()
    assert autocheckpoint == 0
    assert checkpoints.checkpoints >= 1
    assert grown > before


async def test_failed_write_is_a_journal_error(sqlite_journal: SqliteJournal) -> None:
    with pytest.raises(JournalError):
        await sqlite_journal._writer.run(lambda c: c.execute("INSERT INTO nowhere VALUES (1)"))
    assert await sqlite_journal.healthy()


async def test_journal_that_cannot_open_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(JournalError, match="cannot open the journal"):
        await SqliteJournal(tmp_path / "taken").open()


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    sqlite3.connect(path).execute("PRAGMA user_version=99").connection.close()
    with pytest.raises(JournalError, match="newer tradehook"):
        await SqliteJournal(path).open()


async def test_signal_committed_after_a_younger_was_claimed_waits_its_turn(
    journal: SignalJournal,
) -> None:
    older, younger = queued_signal(), queued_signal()
    await journal.record(younger)
    assert [r.id for r in await journal.claim("a", lease_seconds=30, limit=5)] == [younger.id]
    await journal.record(older)  # e.g. from a receiver whose commit came later
    assert await journal.claim("b", lease_seconds=30, limit=5) == []
    assert [r.id for r in await journal.claim("a", lease_seconds=30, limit=5)] == [younger.id]
    number = await journal.start_attempt(younger.id, 1.0, owner="a")
    await journal.finish_attempt(younger.id, number, outcome="result",
                                 status=SignalStatus.FILLED)
    assert [r.id for r in await journal.claim("b", lease_seconds=30, limit=5)] == [older.id]


@pytest.mark.skipif(not wal_sync.AVAILABLE, reason="the WAL's sync helper is for Linux")
async def test_with_the_helper_writes_close_together_commit_on_the_loop(tmp_path: Path) -> None:
    store = WatchedJournal(tmp_path / "j.db")
    await store.open()
    await asyncio.gather(*(store.record(queued_signal()) for _ in range(20)))
    await store.close()
    assert store.committed_on == [threading.current_thread().name] * len(store.committed_on)
    assert len(store.committed_on) < 20
