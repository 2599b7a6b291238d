"""The SQLite journal's fsync in a helper process (`webhook.journal.wal_sync`): a batch is
answered only once the WAL has been synced after its COMMIT; a helper that dies leaves the
batch it held to the loop's own fsync and a new one syncs the next; a failed fsync fails its
batch; a helper that cannot start leaves the journal fsyncing inside its own commits."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from webhook.errors import JournalError
from webhook.journal import SqliteJournal, group_commit, wal_sync
from webhook.journal.wal_sync import SyncFailed, WalSyncer

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not wal_sync.AVAILABLE, reason="the WAL's sync helper is for Linux"),
]


@pytest.fixture
async def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                  ) -> AsyncIterator[SqliteJournal]:
    # Every write queues for the flusher, none commits alone on the loop inside its COMMIT.
    monkeypatch.setattr(group_commit, "IDLE_GAP", float("inf"))
    store = SqliteJournal(tmp_path / "journal.db")
    await store.open()
    yield store
    await store.close()


def helper_of(journal: SqliteJournal) -> int:
    syncer = journal._writer.syncer  # noqa: SLF001 - the helper is what is tested
    assert syncer is not None and syncer.pid is not None
    return syncer.pid


def break_the_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, a helper started ends before its first sync: once it has read the
    journal's first request, so that the journal always meets it ended (never, as it can when
    the helper ends sooner, a broken pipe as it asks)."""
    broken = tmp_path / "broken_helper.py"
    broken.write_text("import sys\nsys.stdin.buffer.read(1)\nsys.exit(3)\n", encoding="utf-8")
    monkeypatch.setattr(wal_sync, "HELPER", str(broken))


def command_line(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as listed:  # noqa: PTH123 - /proc, not a path
        return listed.read().decode().split("\0")


def stored_ids(path: Path) -> set[str]:
    with sqlite3.connect(path) as check:
        return {row[0] for row in check.execute("SELECT id FROM signals")}


async def test_a_batch_is_answered_only_once_the_helper_has_synced_it(
    journal: SqliteJournal, tmp_path: Path
) -> None:
    pid = helper_of(journal)
    signals = [queued_signal() for _ in range(5)]
    os.kill(pid, signal.SIGSTOP)
    try:
        writes = asyncio.gather(*(journal.record(s) for s in signals))
        done, _ = await asyncio.wait([writes], timeout=0.5)
        # Committed (another connection reads them) but not acknowledged: not yet synced.
        assert not done
        assert {s.id for s in signals} <= stored_ids(tmp_path / "journal.db")
    finally:
        os.kill(pid, signal.SIGCONT)
    assert [stored.duplicate for stored in await writes] == [False] * 5


async def test_a_helper_that_dies_leaves_its_batch_to_the_loop_and_a_new_one_syncs_the_next(
    journal: SqliteJournal, caplog: pytest.LogCaptureFixture
) -> None:
    """Its batch is committed and no sync of it failed: the loop syncs the WAL itself, and the
    writers are answered as stored, not 503 for what is stored."""
    pid = helper_of(journal)
    os.kill(pid, signal.SIGSTOP)
    held = queued_signal()
    writing = asyncio.ensure_future(journal.record(held))
    await asyncio.sleep(0.2)
    assert not writing.done()
    os.kill(pid, signal.SIGKILL)
    assert (await asyncio.wait_for(writing, 5)).duplicate is False
    assert "synced its last batch itself" in caplog.text
    assert journal._writer.failing is None  # noqa: SLF001 - shown by /ready
    again = queued_signal()
    assert (await journal.record(again)).duplicate is False
    assert helper_of(journal) != pid
    assert journal._writer.syncer is not None  # noqa: SLF001


async def test_a_sync_that_fails_fails_its_batch_and_is_not_tried_again(
    journal: SqliteJournal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed fsync the kernel may have dropped the pages it could not write, and a
    second fsync can succeed with the data lost (PostgreSQL's "fsyncgate"): nobody is answered
    as stored on a retry."""
    wal = tmp_path / "journal.db-wal"
    moved = tmp_path / "moved-wal"
    syncer = journal._writer.syncer  # noqa: SLF001
    assert syncer is not None
    synced_here: list[None] = []
    monkeypatch.setattr(syncer, "sync_here", lambda: synced_here.append(None))
    os.kill(helper_of(journal), signal.SIGSTOP)
    signal_held = queued_signal()
    writing = asyncio.ensure_future(journal.record(signal_held))
    await asyncio.sleep(0.2)
    wal.rename(moved)  # the helper's next look at the path finds nothing: ENOENT
    os.kill(helper_of(journal), signal.SIGCONT)
    try:
        with pytest.raises(JournalError, match="No such file"):
            await asyncio.wait_for(writing, 5)
        assert journal._writer.failing is not None  # noqa: SLF001
        assert synced_here == []
    finally:
        moved.rename(wal)


async def test_when_no_new_helper_starts_the_journal_fsyncs_in_its_commits_from_then_on(
    journal: SqliteJournal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = helper_of(journal)
    break_the_helper(tmp_path, monkeypatch)
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.1)
    first = queued_signal()  # committed, then synced by the loop itself
    assert (await journal.record(first)).duplicate is False
    assert journal._writer.syncer is None  # noqa: SLF001
    after = [queued_signal() for _ in range(3)]
    await asyncio.gather(*(journal.record(s) for s in after))
    assert {first.id, *(s.id for s in after)} <= stored_ids(tmp_path / "journal.db")
    assert await journal._writer.run(  # noqa: SLF001
        lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == 2


async def test_the_helper_outlives_a_ctrl_c_or_sigterm_sent_to_the_whole_service(
    journal: SqliteJournal,
) -> None:
    pid = helper_of(journal)
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGTERM)
    await asyncio.sleep(0.1)
    await asyncio.gather(*(journal.record(queued_signal()) for _ in range(3)))
    assert helper_of(journal) == pid


async def test_a_journal_opened_by_a_relative_path_gives_its_helper_the_whole_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that a helper started again later syncs the same file whatever the directory."""
    monkeypatch.chdir(tmp_path)
    store = SqliteJournal("journal.db")
    await store.open()
    try:
        assert str(tmp_path / "journal.db-wal") in command_line(helper_of(store))
    finally:
        await store.close()


async def test_closing_the_journal_ends_its_helper(tmp_path: Path) -> None:
    store = SqliteJournal(tmp_path / "journal.db")
    await store.open()
    pid = helper_of(store)
    await store.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped, not a zombie


async def test_a_helper_that_cannot_start_leaves_the_fsync_in_each_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    break_the_helper(tmp_path, monkeypatch)
    store = SqliteJournal(tmp_path / "journal.db")
    await store.open()
    try:
        assert store._writer.syncer is None  # noqa: SLF001
        await asyncio.gather(*(store.record(queued_signal()) for _ in range(5)))
        assert len(stored_ids(tmp_path / "journal.db")) == 5
        assert await store._writer.run(  # noqa: SLF001
            lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == 2
    finally:
        await store.close()
    assert "sync helper ended at once" in caplog.text


def held_files(pid: int) -> list[str]:
    """What the process's descriptors point to (`/proc/PID/fd`): a removed file ends in
    " (deleted)"."""
    return [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]


async def test_the_helper_syncs_the_file_now_at_the_path(tmp_path: Path) -> None:
    """The WAL is removed when the journal's last connection closes and made again when one
    opens: the helper syncs the file at the path, not one it opened earlier (which its open
    descriptor keeps from being reused, so that the new file has another inode number)."""
    wal = tmp_path / "journal.db-wal"
    wal.write_bytes(b"first")
    syncer = WalSyncer(wal)
    syncer.start()
    try:
        pid = syncer.pid
        assert pid is not None
        await syncer.sync()
        assert str(wal) in held_files(pid)
        wal.unlink()
        wal.write_bytes(b"second")
        await syncer.sync()
        held = held_files(pid)
        assert str(wal) in held and f"{wal} (deleted)" not in held
        wal.unlink()
        with pytest.raises(SyncFailed, match="No such file"):
            await syncer.sync()
        assert syncer.pid == pid  # a failed sync is an answer, not the helper's end
    finally:
        await syncer.stop()


def test_the_helper_runs_on_the_standard_library_alone() -> None:
    """It starts with `-I -S`: no site-packages, no tradehook; so it imports only `os`,
    `signal` and `sys`."""
    source = Path(wal_sync.HELPER).read_text(encoding="utf-8")
    imported = {line.split()[1] for line in source.splitlines()
                if line.startswith(("import ", "from "))}
    assert imported <= {"os", "signal", "sys"}


class FullRefused:
    """Connections opened from now on on which SQLite refuses `PRAGMA synchronous=FULL`,
    once `refusing` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.refusing = False
        switch = self

        class Refusing(sqlite3.Connection):
            def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
                if switch.refusing and sql == "PRAGMA synchronous=FULL":
                    raise sqlite3.OperationalError("refused")
                return super().execute(sql, *args)

        connect = sqlite3.connect
        monkeypatch.setattr(sqlite3, "connect",
                            lambda *args, **options: connect(*args, factory=Refusing, **options))


async def test_a_lone_write_that_cannot_switch_to_full_is_synced_by_the_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone write on an idle journal commits at synchronous=FULL for SQLite's own fsync;
    should the switch to FULL be refused, its COMMIT at NORMAL syncs nothing, so the helper
    syncs it before it is answered, as a batch's."""
    full = FullRefused(monkeypatch)
    store = SqliteJournal(tmp_path / "journal.db")  # writes alone commit on the loop
    await store.open()
    try:
        syncer = store._writer.syncer  # noqa: SLF001
        assert syncer is not None
        await asyncio.sleep(group_commit.IDLE_GAP * 2)
        synced, full.refusing = syncer.syncs, True
        signal_stored = queued_signal()
        await store.record(signal_stored)
        assert syncer.syncs == synced + 1
        assert signal_stored.id in stored_ids(tmp_path / "journal.db")
    finally:
        await store.close()


@pytest.mark.parametrize("idle_gap", [float("inf"), 0.0], ids=["batches", "lone writes"])
async def test_without_a_helper_and_refused_full_the_journal_syncs_the_wal_after_each_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idle_gap: float
) -> None:
    """Once no helper starts, the journal means to fsync inside its COMMITs at FULL; should
    SQLite refuse that switch, the connection stays at NORMAL, whose COMMIT syncs nothing, so
    the journal fdatasyncs the WAL itself after each one before anyone is answered: a batch's
    on the committer's thread, a lone write's on the loop."""
    monkeypatch.setattr(group_commit, "IDLE_GAP", idle_gap)
    full = FullRefused(monkeypatch)
    store = SqliteJournal(tmp_path / "journal.db")
    await store.open()
    wal = str(tmp_path / "journal.db-wal")
    synced: list[str] = []
    fdatasync = os.fdatasync

    def counted(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        fdatasync(fd)

    try:
        pid = helper_of(store)
        full.refusing = True
        break_the_helper(tmp_path, monkeypatch)
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.1)
        await store.record(queued_signal())  # the helper is gone: from now on, no helper
        assert store._writer.syncer is None  # noqa: SLF001
        assert await store._writer.run(  # noqa: SLF001
            lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == 1  # NORMAL
        monkeypatch.setattr(os, "fdatasync", counted)
        for _ in range(3):
            stored = queued_signal()
            await store.record(stored)
            assert stored.id in stored_ids(tmp_path / "journal.db")
        assert synced.count(wal) == 3
    finally:
        await store.close()
