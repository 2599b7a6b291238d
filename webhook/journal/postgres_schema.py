"""The PostgreSQL journal's schema, created or migrated at open, and the statements over it.

Rows have the SQLite journal's columns (`COLUMNS`), so they become records the same way.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, overload

from psycopg import AsyncConnection

from webhook.errors import JournalError
from webhook.journal.exit_plans import ACTIVE_INDEX, PLAN_TABLE
from webhook.journal.records import Attempt
from webhook.journal.rows import COLUMNS, result_from

SCHEMA_VERSION = 4
EXIT_PLANS_SCHEMA = (PLAN_TABLE.format(collate='COLLATE "C"', real="DOUBLE PRECISION"),
                     ACTIVE_INDEX)
SCHEMA = (
    # Ids are ULIDs: the "C" collation sorts them byte by byte, that is by arrival.
    """CREATE TABLE IF NOT EXISTS signals (
        id TEXT COLLATE "C" PRIMARY KEY,
        received_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        source TEXT NOT NULL,
        dialect TEXT,
        idempotency_key TEXT UNIQUE,
        content_type TEXT,
        raw_body BYTEA NOT NULL,
        symbol TEXT,
        plugin TEXT,
        order_json TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        error TEXT,
        result_json TEXT,
        sizing TEXT,
        lease_owner TEXT,
        lease_until DOUBLE PRECISION,
        approval_deadline DOUBLE PRECISION,
        approved_at DOUBLE PRECISION
    )""",
    "CREATE INDEX IF NOT EXISTS signals_by_status ON signals (status, id)",
    "CREATE INDEX IF NOT EXISTS signals_pending ON signals (plugin, symbol, id) "
    "WHERE status IN ('queued', 'executing')",
    # Who holds a lane: only its leased signals, however long the lane's backlog.
    "CREATE INDEX IF NOT EXISTS signals_leased ON signals (plugin, symbol) "
    "WHERE status IN ('queued', 'executing') AND lease_owner IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS attempts (
        signal_id TEXT COLLATE "C" NOT NULL REFERENCES signals (id),
        number INTEGER NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION,
        outcome TEXT,
        error TEXT,
        result_json TEXT,
        PRIMARY KEY (signal_id, number)
    )""",
    """CREATE TABLE IF NOT EXISTS state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    )""",
    *EXIT_PLANS_SCHEMA,
)
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # version 1 -> 2: the approval queue (a waiting signal's deadline, when it was approved).
    1: ("ALTER TABLE signals ADD COLUMN IF NOT EXISTS approval_deadline DOUBLE PRECISION",
        "ALTER TABLE signals ADD COLUMN IF NOT EXISTS approved_at DOUBLE PRECISION"),
    # version 2 -> 3: managed exits (the exit_plans table, created from SCHEMA).
    2: (),
    # version 3 -> 4: the index of leased pending signals (created from SCHEMA).
    3: (),
}
"""Statements that upgrade tables from the key's version to the next; new tables come from
SCHEMA's CREATE ... IF NOT EXISTS."""
NOW = "EXTRACT(EPOCH FROM now())::float8"
"""Lease times come from the database's clock, the one clock every host shares."""
PENDING_SQL = "status IN ('queued', 'executing')"  # as in the signals_pending index
LANE_ORDERS = f"""
SELECT order_json FROM signals WHERE {PENDING_SQL} AND plugin = %s AND symbol = %s ORDER BY id
"""  # noqa: S608 - constant text
PENDING_AMONG = f"SELECT id FROM signals WHERE {PENDING_SQL} AND id = ANY(%s)"  # noqa: S608
CLAIM = f"""
WITH RECURSIVE lanes AS (
    (SELECT plugin, symbol FROM signals WHERE {PENDING_SQL} ORDER BY plugin, symbol LIMIT 1)
    UNION ALL
    SELECT next.plugin, next.symbol FROM lanes CROSS JOIN LATERAL (
        SELECT p.plugin, p.symbol FROM signals AS p WHERE p.{PENDING_SQL}
        AND (p.plugin, p.symbol) > (lanes.plugin, lanes.symbol)
        ORDER BY p.plugin, p.symbol LIMIT 1) AS next
), heads AS (
    SELECT COALESCE(
        (SELECT p.id FROM signals AS p WHERE p.{PENDING_SQL} AND p.lease_owner IS NOT NULL
         AND p.plugin = lanes.plugin AND p.symbol = lanes.symbol AND p.lease_until >= {NOW}
         ORDER BY p.id LIMIT 1),
        (SELECT p.id FROM signals AS p WHERE p.{PENDING_SQL}
         AND p.plugin = lanes.plugin AND p.symbol = lanes.symbol ORDER BY p.id LIMIT 1)) AS id
    FROM lanes
), taken AS (
    SELECT s.id FROM signals AS s WHERE s.id = ANY(ARRAY(SELECT id FROM heads))
      AND s.{PENDING_SQL}
      AND (s.lease_owner IS NULL OR s.lease_until < {NOW} OR s.lease_owner = %(owner)s)
      AND s.plugin <> ALL(%(excluded)s::text[])
    ORDER BY s.id LIMIT %(limit)s
    FOR UPDATE OF s SKIP LOCKED
)
UPDATE signals AS s SET lease_owner = %(owner)s, lease_until = {NOW} + %(lease_seconds)s
FROM taken WHERE s.id = taken.id
RETURNING {", ".join("s." + c.strip() for c in COLUMNS.split(","))}
"""  # noqa: S608 - constant text
"""Lease each (plugin, symbol)'s head: the oldest signal that holds a live lease, else the
oldest pending one (the same unless a signal's insert committed after a younger one was
claimed). The lanes are found one index seek each (`lanes`, a loose scan of the pending
index) and each head by one or two more, as in the SQLite journal: a lane's backlog costs
nothing more. (Read as one DISTINCT ON over every pending signal, sorted, the claim took 12
ms with 3,000 signals queued in one lane, and an executor claims after each receipt stored
without a lease into a lane it does not hold in memory.) Status and lease are checked again
on the locked row, which may have changed since the snapshot; rows another transaction has
locked are left for the next claim."""


async def advisory_lock(connection: AsyncConnection[Any], purpose: str) -> None:
    """Hold a lock named `purpose` in the journal's schema until the transaction ends."""
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s || COALESCE(current_schema(), ''), 0))",
        (f"tradehook.{purpose} ",),
    )


async def migrate(connection: AsyncConnection[Any]) -> None:
    """Create the tables or bring them to SCHEMA_VERSION in one transaction; a process that
    opens the journal meanwhile waits on the lock, then finds them current."""
    async with connection.transaction():
        await advisory_lock(connection, "migrate")
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
        )
        cursor = await connection.execute("SELECT MAX(version) FROM schema_version")
        row = await cursor.fetchone()
        version = int(row[0]) if row is not None and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"the journal was written by a newer tradehook (schema {version}; "
                f"this one knows {SCHEMA_VERSION})"
            )
        if version == SCHEMA_VERSION:
            return
        if version:  # tables of an older tradehook: upgrade them first
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    await connection.execute(statement)
        for statement in SCHEMA:
            await connection.execute(statement)
        await connection.execute("DELETE FROM schema_version")
        await connection.execute(
            "INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,)
        )


async def attempts_of(
    connection: AsyncConnection[Any], signal_ids: Collection[str]
) -> dict[str, list[Attempt]]:
    """The attempts of these signals in order, by signal id (absent: none yet)."""
    if not signal_ids:
        return {}
    cursor = await connection.execute(
        "SELECT signal_id, number, started_at, finished_at, outcome, error, result_json "
        "FROM attempts WHERE signal_id = ANY(%s::text[]) ORDER BY signal_id, number",
        (list(signal_ids),),
    )
    attempts: dict[str, list[Attempt]] = {}
    for signal_id, number, started, finished, outcome, error, result_json in (
        await cursor.fetchall()
    ):
        attempts.setdefault(signal_id, []).append(
            Attempt(
                number=number, started_at=started, finished_at=finished, outcome=outcome,
                error=error, result=result_from(result_json),
            )
        )
    return attempts


@overload
def storable(text: str) -> str: ...
@overload
def storable(text: None) -> None: ...
def storable(text: str | None) -> str | None:
    """`text` as PostgreSQL can keep it: a NUL or a lone surrogate becomes U+FFFD or `?`."""
    if text is None:
        return None
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode()
    except UnicodeEncodeError:
        text = text.encode(errors="replace").decode()
    return text
