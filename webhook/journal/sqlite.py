"""The SQLite journal: one file in WAL mode, every commit fsynced, commits grouped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from plugins.orders import ExecutionResult, Order
from webhook.errors import JournalError, LeaseLost
from webhook.journal import sqlite_attempts as attempts
from webhook.journal import sqlite_lanes as lanes
from webhook.journal import wal_sync
from webhook.journal.base import SignalJournal
from webhook.journal.group_commit import GroupCommitter
from webhook.journal.period import FillRow, PeriodCount, count_query, fills_query, id_bounds
from webhook.journal.records import (
    PENDING,
    HandedOn,
    Lease,
    NewSignal,
    SignalRecord,
    SignalStatus,
    Stored,
    is_numbered_child,
)
from webhook.journal.rows import COLUMNS, listing_filters, record_from
from webhook.journal.sqlite_checkpoints import Checkpointer
from webhook.journal.sqlite_durability import FsyncInCommit, HelperSync
from webhook.journal.sqlite_exits import SqliteExitPlans
from webhook.journal.sqlite_names import NameLocks
from webhook.journal.sqlite_schema import SCHEMA_VERSION, attempts_of, migrate
from webhook.journal.wal_sync import WalSyncer

PENDING_BATCH = 500
"""Ids per query of `pending_among` (SQLite allows 32,766 variables since 3.32, 999 before)."""
FINAL_STATUS_WAIT = 0.002
"""Seconds a final status that no send waits for may wait for other writes to share its commit:
one lane's orders end one after the other, and under its backlog their statuses would each take
a commit of their own (make bench, target 4: 0.22 commits per signal with one symbol, against
0.03 with 50)."""

_BY_ID = f"SELECT {COLUMNS} FROM signals WHERE id = ?"  # noqa: S608 - constant text
_CHILDREN = f"SELECT {COLUMNS} FROM signals WHERE id > ? AND id < ?"  # noqa: S608 - constant
_INSERT = (
    "INSERT INTO signals (id, received_at, updated_at, source, dialect, idempotency_key, "
    "content_type, raw_body, symbol, plugin, order_json, status, reason, error, sizing, "
    "approval_deadline, lease_owner, lease_until) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_SETTLE_SET = (
    "UPDATE signals SET status = ?, updated_at = ?, error = COALESCE(?, error), "
    "result_json = COALESCE(?, result_json)"
)
_SETTLE = f"{_SETTLE_SET} WHERE id = ?"
_FINISH_ATTEMPT = (
    "UPDATE attempts SET finished_at = ?, outcome = ?, error = ?, result_json = ? "
    "WHERE signal_id = ? AND number = ?"
)
_SETTLE_FINAL = (
    f"{_SETTLE_SET}, lease_owner = NULL, lease_until = NULL WHERE id = ? RETURNING plugin, symbol"
)
HEALTH_PROBE_KEY = "health_probe"


def _row(
    signal: NewSignal, *, executing: bool = False, leased_to: tuple[str, float] | None = None
) -> tuple[object, ...]:
    """The signal's row; `executing` (its first attempt opened with it) and `leased_to` (owner,
    until) write in the INSERT what a receipt leased at once would otherwise update after it."""
    owner, until = leased_to or (None, None)
    return (
        signal.id, signal.received_at, signal.received_at, signal.source, signal.dialect,
        signal.idempotency_key, signal.content_type, signal.raw_body,
        signal.order.symbol if signal.order else None, signal.plugin,
        signal.order.model_dump_json() if signal.order else None,
        SignalStatus.EXECUTING.value if executing else signal.status.value, signal.reason,
        signal.error, signal.sizing, signal.approval_deadline, owner, until,
    )


def _number(child: SignalRecord) -> int:
    """A child's number, from its id (`PARENT.12` sorts before `PARENT.2` as text)."""
    return int(child.id.rpartition(".")[2])


def _make_private(path: Path) -> None:
    """Create the journal file 0600 (SQLite gives its -wal and -shm files the same mode), and
    take back group and world access from files an older version made 0644."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{path}{suffix}", 0o600)


class SqliteJournal(SqliteExitPlans, SignalJournal):
    hands_on = True

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._checkpoints = Checkpointer(self._path)
        wal = Path(f"{self._path.absolute()}-wal")
        self._writer = GroupCommitter(
            self._connect, on_commit=self._checkpoints.committed,
            durability=HelperSync(WalSyncer(wal)) if wal_sync.AVAILABLE else FsyncInCommit(wal))
        self._names = NameLocks(self._path)

    def _connect(self) -> sqlite3.Connection:
        if self._path.parent != Path():
            self._path.parent.mkdir(parents=True, exist_ok=True)
        _make_private(self._path)
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it
        connection.execute("PRAGMA busy_timeout=5000")
        connection.execute("PRAGMA foreign_keys=ON")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            connection.close()
            raise sqlite3.DatabaseError(
                f"{self._path} was written by a newer tradehook (schema {version})"
            )
        migrate(connection, version)
        return connection

    async def open(self) -> None:
        await self._writer.start()
        self._checkpoints.start()

    def _insert_signals(self, connection: sqlite3.Connection, signals: Sequence[NewSignal]
                        ) -> None:
        connection.executemany(_INSERT, [_row(signal) for signal in signals])

    async def close(self) -> None:
        self._names.release_all()
        await self._writer.stop()
        await asyncio.to_thread(self._checkpoints.stop)

    async def hold_name(self, owner: str) -> None:
        self._names.hold(owner)

    async def release_name(self, owner: str) -> None:
        self._names.release(owner)

    async def healthy(self) -> bool:
        """Whether a write would be stored now: after a failed commit (disk full, read-only),
        a small write tells, so that a load balancer sees the journal back as soon as it is."""
        try:
            if self._writer.failing is not None:
                await self.write_state(HEALTH_PROBE_KEY, str(time.time()))
                return True
            return bool(await self._writer.run(lambda c: c.execute("SELECT 1").fetchone()))
        except JournalError:
            return False

    async def record(self, signal: NewSignal, children: Sequence[NewSignal] = ()) -> Stored:
        child_rows = [_row(child) for child in children]
        order = signal.order
        to = signal.lease if signal.status is SignalStatus.QUEUED else None

        def insert(connection: sqlite3.Connection) -> Stored:
            now = time.time()
            ahead = (None if to is None or order is None or signal.plugin is None else
                     lanes.pending_ahead(connection, signal.plugin, order.symbol, to, now))
            leased = to if ahead is not None else None
            # Behind signals of the lane only for a plugin that can be asked by client order id.
            starts = (leased is not None and leased.starting == signal.id
                      and (ahead == 0 or leased.ahead))
            # Leased, and executing when its first attempt is opened with it, by the INSERT
            # itself: the row a lease and `open_attempt` after it would leave, with no UPDATE.
            row = _row(signal, executing=starts, leased_to=None if leased is None
                       else (leased.owner, now + leased.seconds))
            try:
                connection.execute(_INSERT, row)
            except sqlite3.IntegrityError:
                first = connection.execute(
                    "SELECT id FROM signals WHERE idempotency_key = ?", (signal.idempotency_key,)
                ).fetchone()
                if first is None:
                    raise
                return Stored(signal_id=first[0], duplicate=True)
            connection.executemany(_INSERT, child_rows)
            if leased is None:
                return Stored(signal_id=signal.id)
            attempt = attempts.open_first_attempt(connection, signal.id, now) if starts else None
            return Stored(signal_id=signal.id, leased=True, attempt=attempt)

        return await self._writer.run(insert)

    async def start_attempt(
        self, signal_id: str, started_at: float, *, owner: str | None = None
    ) -> int:
        def start(connection: sqlite3.Connection) -> int:
            if owner is not None:
                row = connection.execute(
                    "SELECT lease_owner FROM signals WHERE id = ?", (signal_id,)
                ).fetchone()
                if row is None or row[0] != owner:
                    raise LeaseLost(f"signal {signal_id} is leased to {row and row[0]!r} now")
            return attempts.open_attempt(connection, signal_id, started_at)

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
        hand_on: Lease | None = None,
    ) -> HandedOn | None:
        now = time.time()
        result_json = result.model_dump_json() if result else None
        final = status not in PENDING

        def finish(connection: sqlite3.Connection) -> HandedOn | None:
            connection.execute(
                _FINISH_ATTEMPT, (now, outcome, error, result_json, signal_id, number))
            settled = (status.value, now, error, result_json, signal_id)
            if not final:
                connection.execute(_SETTLE, settled)
                return None
            # A final status frees the lease, and tells the lane to hand on, in one statement.
            lane = connection.execute(_SETTLE_FINAL, settled).fetchall()
            if hand_on is None or not lane or lane[0][0] is None or lane[0][1] is None:
                return None
            return lanes.hand_on(connection, lane[0][0], lane[0][1], hand_on, now)

        # A final status that hands nothing on is waited for by no send: the lane's next job has
        # left already, or there is none. Under a lane's backlog its orders end one at a time,
        # and their statuses would otherwise commit one or two at a time.
        return await self._writer.run(
            finish, within=FINAL_STATUS_WAIT if final and hand_on is None else 0.0)

    async def claim(
        self,
        owner: str,
        *,
        lease_seconds: float,
        limit: int,
        exclude_plugins: Collection[str] = (),
    ) -> list[SignalRecord]:
        excluded = set(exclude_plugins)

        def take(connection: sqlite3.Connection) -> list[SignalRecord]:
            now = time.time()
            # A lane's head is the signal that holds a live lease, else its oldest pending one:
            # an older signal whose insert committed after a younger one was claimed waits.
            heads = lanes.oldest_pending_by_lane(connection)
            held: set[tuple[str, str]] = set()
            for plugin, symbol, leased, holder in connection.execute(lanes.LIVE_LEASES, (now,)):
                lane = (plugin, symbol)  # of several leased (at receipt), the oldest heads it
                if lane not in held or leased < heads[lane][0]:
                    heads[lane] = (leased, holder)
                    held.add(lane)
            chosen = sorted(
                head for (plugin, _), (head, holder) in heads.items()
                if plugin not in excluded and holder in (None, owner)
            )[:limit]
            records = []
            for signal_id in chosen:
                lanes.lease(connection, signal_id, Lease(owner, lease_seconds), now)
                row = connection.execute(_BY_ID, (signal_id,)).fetchone()
                records.append(record_from(row, attempts_of(connection, signal_id)))
            return records

        return await self._writer.run(take)

    async def renew(
        self, owner: str, signal_ids: Collection[str], *, lease_seconds: float
    ) -> set[str]:
        ids = list(signal_ids)

        def extend(connection: sqlite3.Connection) -> set[str]:
            held = set()
            until = time.time() + lease_seconds
            for signal_id in ids:
                changed = connection.execute(
                    "UPDATE signals SET lease_until = ? WHERE id = ? AND lease_owner = ?",
                    (until, signal_id, owner),
                ).rowcount
                if changed:
                    held.add(signal_id)
            return set(ids) - held

        return await self._writer.run(extend) if ids else set()

    async def release(self, owner: str, signal_ids: Collection[str]) -> None:
        ids = list(signal_ids)

        def give_up(connection: sqlite3.Connection) -> None:
            connection.executemany(
                "UPDATE signals SET lease_owner = NULL, lease_until = NULL "
                "WHERE id = ? AND lease_owner = ?",
                [(signal_id, owner) for signal_id in ids],
            )

        if ids:
            await self._writer.run(give_up)

    async def release_all(self, owner: str) -> None:
        def give_up(connection: sqlite3.Connection) -> None:
            connection.execute(lanes.RELEASE_ALL, (owner,))

        await self._writer.run(give_up)

    async def withdraw_attempts(self, unsent: Mapping[str, int]) -> None:
        withdrawn = list(unsent.items())

        def withdraw(connection: sqlite3.Connection) -> None:
            for signal_id, number in withdrawn:
                attempts.withdraw_attempt(connection, signal_id, number)

        if withdrawn:
            await self._writer.run(withdraw)

    async def settle_approval(
        self, signal_id: str, status: SignalStatus, *, at: float, reason: str | None = None
    ) -> SignalRecord | None:
        approved = at if status is SignalStatus.QUEUED else None

        def settle(connection: sqlite3.Connection) -> SignalRecord | None:
            changed = connection.execute(
                "UPDATE signals SET status = ?, updated_at = ?, reason = COALESCE(?, reason), "
                "approved_at = ? WHERE id = ? AND status = ? AND approval_deadline > ?",
                (status.value, at, reason, approved, signal_id,
                 SignalStatus.AWAITING_APPROVAL.value, at),
            ).rowcount
            if not changed:
                return None
            return record_from(connection.execute(_BY_ID, (signal_id,)).fetchone(), [])

        return await self._writer.run(settle)

    async def expire_approvals(self, now: float, reason: str) -> list[SignalRecord]:
        def expire(connection: sqlite3.Connection) -> list[SignalRecord]:
            rows = connection.execute(
                f"UPDATE signals SET status = ?, updated_at = ?, reason = ? "  # noqa: S608
                f"WHERE status = ? AND approval_deadline <= ? RETURNING {COLUMNS}",
                (SignalStatus.EXPIRED.value, now, reason, SignalStatus.AWAITING_APPROVAL.value,
                 now),
            ).fetchall()
            return [record_from(row, []) for row in rows]

        return await self._writer.run(expire)

    async def pending_orders(self, plugin: str, symbol: str) -> list[Order]:
        def read(connection: sqlite3.Connection) -> list[str]:
            return [row[0] for row in connection.execute(lanes.LANE_ORDERS, (plugin, symbol))]

        return [Order.model_validate_json(text) for text in await self._writer.run(read) if text]

    async def pending_among(self, signal_ids: Collection[str]) -> set[str]:
        asked = list(signal_ids)

        def read(connection: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(asked), PENDING_BATCH):  # SQLite's variable limit
                batch = asked[start:start + PENDING_BATCH]
                query = lanes.PENDING_AMONG + f"({', '.join('?' * len(batch))})"
                found.update(row[0] for row in connection.execute(query, batch))
            return found

        return await self._writer.run(read) if asked else set()

    async def get(self, signal_id: str) -> SignalRecord | None:
        def read(connection: sqlite3.Connection) -> SignalRecord | None:
            row = connection.execute(_BY_ID, (signal_id,)).fetchone()
            if row is None:
                return None
            record = record_from(row, attempts_of(connection, signal_id))
            if record.status is SignalStatus.FANNED_OUT:
                # `.` sorts right before `/`: the range holds exactly the `PARENT.N` ids.
                rows = connection.execute(_CHILDREN, (f"{signal_id}.", f"{signal_id}/"))
                children = [record_from(child, attempts_of(connection, child[0]))
                            for child in rows.fetchall() if is_numbered_child(signal_id, child[0])]
                record = record.model_copy(update={"children": sorted(children, key=_number)})
            return record

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
        conditions, params = listing_filters(
            "?", status=status, source=source, symbol=symbol, before=before
        )
        query = (
            f"SELECT {COLUMNS} FROM signals WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY id DESC LIMIT ?"
        )

        def read(connection: sqlite3.Connection) -> list[SignalRecord]:
            rows = connection.execute(query, (*params, limit)).fetchall()
            return [record_from(row, []) for row in rows]

        return await self._writer.run(read)

    async def period_counts(self, since: float | None, until: float | None
                            ) -> list[PeriodCount]:
        rows = await self._read_aside(count_query("?"), id_bounds(since, until))
        return [PeriodCount(*row) for row in rows]

    async def period_fills(self, since: float | None, until: float | None, *, limit: int
                           ) -> list[FillRow]:
        rows = await self._read_aside(fills_query("?"), (*id_bounds(since, until), limit))
        return [FillRow(*row) for row in rows]

    async def _read_aside(self, query: str, params: tuple[object, ...]) -> list[Any]:
        """A long read on a read-only connection of its own, in a worker thread: the writer's
        connection runs its statements on the event loop, where a read of many rows would hold
        up every request meanwhile. WAL lets it read while writes go on."""
        def read() -> list[Any]:
            try:
                location = quote(str(self._path.resolve()))
                connection = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the journal: {exc}") from exc
            try:
                return connection.execute(query, params).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"journal error: {exc}") from exc
            finally:
                connection.close()

        if not self._writer.running:
            raise JournalError("the journal is closed")
        return await asyncio.to_thread(read)

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

