"""The PostgreSQL journal's hot writes, each for a whole batch of callers in one statement or
two: receipts (with the lease of a signal alone in its lane, or behind signals of its lane that
its executor holds already), attempts' starts, and finishes (with the hand-on of the lane's
next signal, and with `Lease.ahead` the queued signals after it); a lease that is `starting`
its signal opens the signal's attempt in the same statement. `webhook.journal.postgres_batch`
runs them.

Arrays of columns go in through `unnest`, so the statement's text is the same for any batch
size and psycopg prepares it once. A lane's head is as in the claim: the oldest pending signal
of (plugin, symbol). Receipts that ask for leases lock their lanes (advisory locks, in one
order) before they look, so that of two processes storing into an empty lane at once only the
first leases; hand-ons need no lock, since the lane they hand on is not empty, and a head its
executor holds already is not handed on again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from plugins.orders import ExecutionResult
from webhook.errors import JournalError, LeaseLost
from webhook.journal.postgres_batch import BatchedWrite, Connection, Reader
from webhook.journal.postgres_schema import NOW, PENDING_SQL, storable
from webhook.journal.records import (
    LANE_AHEAD,
    PENDING,
    HandedJob,
    HandedOn,
    Lease,
    NewSignal,
    SignalStatus,
    Stored,
)

_SIGNAL_COLUMNS = (
    "id, received_at, updated_at, source, dialect, idempotency_key, content_type, raw_body, "
    "symbol, plugin, order_json, status, reason, error, sizing, approval_deadline"
)
_ARRAYS = ", ".join(f"%b::{kind}[]" for kind in (
    "text", "float8", "float8", "text", "text", "text", "text", "bytea", "text", "text",
    "text", "text", "text", "text", "text", "float8",
))
_INSERT = (
    f"INSERT INTO signals ({_SIGNAL_COLUMNS}) SELECT * FROM unnest({_ARRAYS}) "  # noqa: S608
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
_INSERT_CHILDREN = (
    f"INSERT INTO signals ({_SIGNAL_COLUMNS}) SELECT {_SIGNAL_COLUMNS} "  # noqa: S608
    f"FROM unnest(%b::text[], {_ARRAYS}) AS c(parent, {_SIGNAL_COLUMNS}) "
    "WHERE EXISTS (SELECT 1 FROM signals AS p WHERE p.id = c.parent)"
)
"""Children go in only where their parent did (a repeated parent stores none)."""
_KEYS = "SELECT idempotency_key, id FROM signals WHERE idempotency_key = ANY(%b::text[])"
_LOCK_LANES = (
    "SELECT pg_advisory_xact_lock(hashtextextended("
    "'tradehook.lane ' || COALESCE(current_schema(), '') || ' ' || lane, 0)) "
    "FROM unnest(%b::text[]) WITH ORDINALITY AS l(lane, n) ORDER BY n"
)
_EXECUTING, _QUEUED = SignalStatus.EXECUTING.value, SignalStatus.QUEUED.value
_INSERT_LEASED = f"""
WITH asked AS (
    SELECT * FROM unnest({_ARRAYS}, %b::text[], %b::float8[], %b::bool[], %b::bool[], %b::bool[],
        %b::int[], %b::float8[])
        AS a({_SIGNAL_COLUMNS}, owner, seconds, starting, joins, ahead, rank, at)
), lanes AS MATERIALIZED (
    SELECT asked.*, CASE WHEN newest.id IS NULL THEN 0
        WHEN newest.lease_owner IS DISTINCT FROM asked.owner
            OR NOT COALESCE(newest.lease_until >= {NOW}, FALSE) THEN {LANE_AHEAD}
        ELSE (SELECT count(*) FROM (
            SELECT 1 FROM signals AS p WHERE p.{PENDING_SQL} AND p.plugin = asked.plugin
            AND p.symbol = asked.symbol AND p.id <> ALL(%b::text[]) LIMIT {LANE_AHEAD}) AS b)
        END AS before
    FROM asked LEFT JOIN LATERAL (
        SELECT p.id, p.lease_owner, p.lease_until FROM signals AS p WHERE p.{PENDING_SQL}
        AND p.plugin = asked.plugin AND p.symbol = asked.symbol AND p.id <> ALL(%b::text[])
        ORDER BY p.id DESC LIMIT 1) AS newest ON TRUE
), chosen AS MATERIALIZED (
    SELECT lanes.*, CASE WHEN before + rank = 0 THEN TRUE
        WHEN joins AND before + rank < {LANE_AHEAD} THEN NOT EXISTS (
            SELECT 1 FROM signals AS p WHERE p.{PENDING_SQL} AND p.plugin = lanes.plugin
            AND p.symbol = lanes.symbol AND p.id <> ALL(%b::text[])
            AND (p.lease_owner IS DISTINCT FROM lanes.owner
                 OR NOT COALESCE(p.lease_until >= {NOW}, FALSE)))
        ELSE FALSE END AS leases
    FROM lanes
), decided AS (
    SELECT chosen.*, leases AND starting AND (ahead OR before + rank = 0) AS starts FROM chosen
), inserted AS (
    INSERT INTO signals ({_SIGNAL_COLUMNS}, lease_owner, lease_until)
    SELECT id, received_at, CASE WHEN starts THEN at ELSE updated_at END, source, dialect,
        idempotency_key, content_type, raw_body, symbol, plugin, order_json,
        CASE WHEN starts THEN '{_EXECUTING}' ELSE status END, reason, error, sizing,
        approval_deadline, CASE WHEN leases THEN owner END,
        CASE WHEN leases THEN {NOW} + seconds END
    FROM decided
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, lease_owner IS NOT NULL AS leased, status = '{_EXECUTING}' AS starts,
        updated_at
), opened AS (
    INSERT INTO attempts (signal_id, number, started_at)
    SELECT id, 1, updated_at FROM inserted WHERE starts RETURNING signal_id, number
)
SELECT inserted.id, inserted.leased, opened.number
FROM inserted LEFT JOIN opened ON opened.signal_id = inserted.id
"""  # noqa: S608 - constant text
"""Store the signals that ask for a lease as they arrive, each leased when its lane is empty
(nothing pending before this batch, and no candidate of its lane before it in the batch:
`rank`), or, when it `joins` the lane, held only by live leases of the candidate's owner with
fewer than `LANE_AHEAD` pending, counting the candidates before it; and open the first attempt
of those whose lease is `starting` them, when they head their lane or their lease may open it
`ahead`. A lane whose newest pending signal holds no live lease of the candidate's owner (a
backlog nobody holds, or someone else's) is not counted: the candidate can lease only an empty
lane there, so one index seek from the lane's end answers, where counting read `LANE_AHEAD`
rows for every receipt behind a long backlog. Each row is written once, with its lease and
status decided: a row stored and then leased by a second statement was two versions of it,
each with its five index entries, for the server to write and later vacuum. The lanes and
the choices are MATERIALIZED: inlined, their look at each lane ran again wherever the
statement reads what it decided."""
_START = f"""
WITH asked AS (
    SELECT * FROM unnest(%b::text[], %b::float8[], %b::text[]) AS a(id, at, owner)
), held AS (
    SELECT s.id, a.at FROM signals AS s JOIN asked AS a ON s.id = a.id
    WHERE a.owner IS NULL OR s.lease_owner = a.owner FOR UPDATE OF s
), opened AS (
    INSERT INTO attempts (signal_id, number, started_at)
    SELECT held.id, COALESCE(
        (SELECT MAX(t.number) FROM attempts AS t WHERE t.signal_id = held.id), 0) + 1, held.at
    FROM held RETURNING signal_id, number
), marked AS (
    UPDATE signals AS s SET status = '{_EXECUTING}', updated_at = held.at
    FROM held WHERE s.id = held.id
)
SELECT a.id, opened.number, s.id IS NOT NULL, s.lease_owner FROM asked AS a
LEFT JOIN opened ON opened.signal_id = a.id LEFT JOIN signals AS s ON s.id = a.id
"""  # noqa: S608 - constant text
_FINISH = """
WITH done AS (
    SELECT * FROM unnest(%b::text[], %b::int[], %b::float8[], %b::text[], %b::text[],
        %b::text[], %b::text[], %b::bool[])
        AS d(id, number, at, outcome, status, error, result, final)
), closed AS (
    UPDATE attempts AS t SET finished_at = d.at, outcome = d.outcome, error = d.error,
        result_json = d.result
    FROM done AS d WHERE t.signal_id = d.id AND t.number = d.number
)
UPDATE signals AS s SET status = d.status, updated_at = d.at,
    error = COALESCE(d.error, s.error), result_json = COALESCE(d.result, s.result_json),
    lease_owner = CASE WHEN d.final THEN NULL ELSE s.lease_owner END,
    lease_until = CASE WHEN d.final THEN NULL ELSE s.lease_until END
FROM done AS d WHERE s.id = d.id
"""
_HAND_ON = f"""
WITH lanes AS (
    SELECT a.id AS finished, a.owner, a.seconds, a.starting, a.ahead, a.at, s.plugin, s.symbol
    FROM unnest(%b::text[], %b::text[], %b::float8[], %b::text[], %b::bool[], %b::float8[])
        AS a(id, owner, seconds, starting, ahead, at)
    JOIN signals AS s ON s.id = a.id WHERE s.plugin IS NOT NULL AND s.symbol IS NOT NULL
), heads AS (
    SELECT lanes.*, (SELECT p.id FROM signals AS p WHERE p.{PENDING_SQL}
        AND p.plugin = lanes.plugin AND p.symbol = lanes.symbol ORDER BY p.id LIMIT 1) AS head
    FROM lanes
), handed AS (
    UPDATE signals AS s SET lease_owner = h.owner, lease_until = {NOW} + h.seconds,
        status = CASE WHEN h.starting = s.id THEN '{_EXECUTING}' ELSE s.status END,
        updated_at = CASE WHEN h.starting = s.id THEN h.at ELSE s.updated_at END
    FROM heads AS h
    WHERE s.id = h.head AND s.status = '{_QUEUED}'
    AND NOT (s.lease_owner IS NOT DISTINCT FROM h.owner AND COALESCE(s.lease_until >= {NOW}, FALSE))
    AND NOT EXISTS (
        SELECT 1 FROM signals AS o WHERE o.{PENDING_SQL} AND o.lease_owner IS NOT NULL
        AND o.plugin = h.plugin AND o.symbol = h.symbol AND o.lease_owner <> h.owner
        AND o.lease_until >= {NOW})
    RETURNING h.finished, s.id, COALESCE(h.starting = s.id, FALSE) AS starts, h.at, h.owner,
        h.seconds, h.ahead, h.plugin, h.symbol
), following AS (
    SELECT h.finished, h.owner, h.seconds, h.at, f.id FROM handed AS h CROSS JOIN LATERAL (
        SELECT n.id, bool_and(n.free) OVER (ORDER BY n.id) AS free FROM (
            SELECT p.id, p.status = '{_QUEUED}' AND p.order_json IS NOT NULL
                AND NOT COALESCE(p.lease_owner IS NOT NULL AND p.lease_until >= {NOW}, FALSE)
                AS free
            FROM signals AS p WHERE p.{PENDING_SQL} AND p.plugin = h.plugin
            AND p.symbol = h.symbol AND p.id > h.id ORDER BY p.id LIMIT {LANE_AHEAD - 1}
        ) AS n
    ) AS f WHERE h.starts AND h.ahead AND f.free
), followed AS (
    UPDATE signals AS s SET lease_owner = f.owner, lease_until = {NOW} + f.seconds,
        status = '{_EXECUTING}', updated_at = f.at
    FROM following AS f WHERE s.id = f.id AND s.status = '{_QUEUED}'
    RETURNING f.finished, s.id, f.at, s.order_json, s.plugin, s.source, s.received_at,
        s.approved_at
), opened AS (
    INSERT INTO attempts (signal_id, number, started_at)
    SELECT started.id, COALESCE((SELECT MAX(t.number) FROM attempts AS t
        WHERE t.signal_id = started.id), 0) + 1, started.at
    FROM (SELECT id, at FROM handed WHERE starts UNION ALL SELECT id, at FROM followed)
        AS started
    RETURNING signal_id, number
)
SELECT handed.finished, handed.id, opened.number, NULL::text, NULL::text, NULL::text,
    NULL::float8, NULL::float8
FROM handed LEFT JOIN opened ON opened.signal_id = handed.id
UNION ALL
SELECT followed.finished, followed.id, opened.number, followed.order_json, followed.plugin,
    followed.source, followed.received_at, followed.approved_at
FROM followed JOIN opened ON opened.signal_id = followed.id
"""  # noqa: S608 - constant text
"""Lease the head of each finished signal's lane to its executor when it is queued (an
executing head was in flight at someone's stop: it is claimed, so that its holder's successor
asks the broker first; a head the owner holds already was leased to it as it was stored) and
no one else holds a live lease in the lane; open its next attempt when the lease is `starting`
it. When it is, and the lease is `ahead`, lease the lane's queued signals after it too (up to
`LANE_AHEAD` with it, stopping at the first that is executing or held by anyone: a receipt
leased behind the lane waits in its executor already) and open their attempts. Every row of
the answer is one signal handed on; a following one carries its order (`order_json` is not
null). Only the lane's holder leases a lane's signals behind its head, so none of those rows
changes under this statement."""
_WITHDRAW = f"""
WITH withdrawn AS (
    DELETE FROM attempts AS t USING unnest(%b::text[], %b::int[]) AS u(id, number)
    WHERE t.signal_id = u.id AND t.number = u.number AND t.finished_at IS NULL
    RETURNING t.signal_id
)
UPDATE signals AS s SET status = '{_QUEUED}' FROM withdrawn
WHERE s.id = withdrawn.signal_id AND s.status = '{_EXECUTING}'
"""  # noqa: S608 - constant text


def _columns(signals: Sequence[NewSignal]) -> list[list[Any]]:
    """The rows of `signals` as one list per column, for `unnest`."""
    rows = [(
        storable(s.id), s.received_at, s.received_at, storable(s.source), storable(s.dialect),
        storable(s.idempotency_key), storable(s.content_type), s.raw_body,
        storable(s.order.symbol) if s.order else None, storable(s.plugin),
        s.order.model_dump_json() if s.order else None, s.status.value,
        storable(s.reason), storable(s.error), storable(s.sizing), s.approval_deadline,
    ) for s in signals]
    return [list(column) for column in zip(*rows, strict=True)]


def _lane(signal: NewSignal) -> str | None:
    if signal.plugin is None or signal.order is None or signal.status not in PENDING:
        return None
    return f"{storable(signal.plugin)}\n{storable(signal.order.symbol)}"


Receipt = tuple[NewSignal, Sequence[NewSignal]]


class Receipts(BatchedWrite[Receipt, Stored]):
    """New signals and their children; a repeated idempotency key answers the first's id."""

    async def send(self, connection: Connection, items: Sequence[Receipt]) -> Reader:
        signals = [signal for signal, _ in items]
        children = [(signal.id, child) for signal, kids in items for child in kids]
        storing = _first_with_each_key(signals)
        candidates = [(signal, rank) for signal, rank in _lease_candidates(items)
                      if signal.id in storing]
        leased = None
        asking: set[str] = set()
        if candidates:
            lanes = sorted({lane for signal, _ in candidates if (lane := _lane(signal))})
            await connection.execute(_LOCK_LANES, (lanes,))
            every_id = [storable(s.id) for s in signals] + [storable(c.id) for _, c in children]
            leases = [(s, s.lease, rank) for s, rank in candidates if s.lease is not None]
            now = time.time()
            leased = await connection.execute(_INSERT_LEASED, (
                *_columns([signal for signal, _, _ in leases]),
                [lease.owner for _, lease, _ in leases], [lease.seconds for _, lease, _ in leases],
                [lease.starting == signal.id for signal, lease, _ in leases],
                [lease.joins_lane for _, lease, _ in leases],
                [lease.ahead for _, lease, _ in leases], [rank for _, _, rank in leases],
                [now] * len(leases), every_id, every_id, every_id,
            ))
            asking = {signal.id for signal, _, _ in leases}
        signals_alone = [signal for signal in signals
                         if signal.id in storing and signal.id not in asking]
        inserted = (await connection.execute(_INSERT, _columns(signals_alone))
                    if signals_alone else None)
        if children:
            await connection.execute(_INSERT_CHILDREN, [
                [storable(parent) for parent, _ in children],
                *_columns([child for _, child in children]),
            ])
        keys = [storable(s.idempotency_key) for s in signals if s.idempotency_key is not None]
        firsts = await connection.execute(_KEYS, (keys,)) if keys else None

        async def read() -> list[Stored | Exception]:
            stored = set() if inserted is None else {row[0] for row in await inserted.fetchall()}
            held: dict[str, int | None] = {}
            for signal_id, was_leased, number in [] if leased is None else await leased.fetchall():
                stored.add(signal_id)
                if was_leased:
                    held[signal_id] = number
            first: dict[str, str] = {} if firsts is None else dict(await firsts.fetchall())
            outcomes: list[Stored | Exception] = []
            for signal in signals:
                signal_id = storable(signal.id)
                if signal_id in stored:
                    outcomes.append(Stored(signal_id=signal.id, leased=signal_id in held,
                                           attempt=held.get(signal_id)))
                elif (key := storable(signal.idempotency_key)) in first:
                    outcomes.append(Stored(signal_id=first[key], duplicate=True))
                else:
                    outcomes.append(JournalError(
                        f"signal {signal.id}: its idempotency key is taken by no signal"))
            return outcomes

        return read


def _first_with_each_key(signals: Sequence[NewSignal]) -> set[str]:
    """The ids of the signals a batch stores: each one whose idempotency key no signal before it
    in the batch has. The signals that ask for a lease and the rest go in by two statements, yet
    the first of a repeated key must stay the one stored, as in arrival order; a later one is
    answered as its duplicate."""
    seen: set[str] = set()
    storing = set()
    for signal in signals:
        key = storable(signal.idempotency_key)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        storing.add(signal.id)
    return storing


def _lease_candidates(items: Sequence[Receipt]) -> list[tuple[NewSignal, int]]:
    """The queued signals that ask for a lease, each with how many candidates of its lane come
    before it in the batch: a lane's candidates are its first signals in the batch, up to one
    that asks for no lease or another owner's, or a child (which takes the lane)."""
    taken: set[str] = set()
    owners: dict[str, tuple[str, int]] = {}
    candidates = []
    for signal, children in items:
        lane = _lane(signal)
        if lane is not None and lane not in taken:
            owner, rank = owners.get(lane, (None, 0))
            lease = signal.lease if signal.status is SignalStatus.QUEUED else None
            if lease is not None and owner in (None, lease.owner):
                candidates.append((signal, rank))
                owners[lane] = (lease.owner, rank + 1)
            else:
                taken.add(lane)
        taken.update(lane for child in children if (lane := _lane(child)) is not None)
    return candidates


@dataclass(frozen=True)
class Start:
    signal_id: str
    started_at: float
    owner: str | None


class Starts(BatchedWrite[Start, int]):
    """An attempt opened and its signal marked executing, only while `owner` holds the lease;
    the attempt's number."""

    async def send(self, connection: Connection, items: Sequence[Start]) -> Reader:
        cursor = await connection.execute(_START, (
            [storable(item.signal_id) for item in items], [item.started_at for item in items],
            [item.owner for item in items],
        ))

        async def read() -> list[int | Exception]:
            rows = {row[0]: row[1:] for row in await cursor.fetchall()}
            outcomes: list[int | Exception] = []
            for item in items:
                number, exists, holder = rows[storable(item.signal_id)]
                if number is not None:
                    outcomes.append(int(number))
                elif not exists:
                    outcomes.append(JournalError(f"signal {item.signal_id} is not in the journal"))
                else:
                    outcomes.append(
                        LeaseLost(f"signal {item.signal_id} is leased to {holder!r} now"))
            return outcomes

        return read


@dataclass(frozen=True)
class Finish:
    signal_id: str
    number: int
    outcome: str
    status: SignalStatus
    result: ExecutionResult | None
    error: str | None
    hand_on: Lease | None
    at: float


class Finishes(BatchedWrite[Finish, "HandedOn | None"]):
    """An attempt closed and its signal moved on; with a final status and `hand_on`, the lane's
    next signal leased to `hand_on.owner` (and its attempt, when `starting` it), else None."""

    async def send(self, connection: Connection, items: Sequence[Finish]) -> Reader:
        await connection.execute(_FINISH, (
            [storable(item.signal_id) for item in items], [item.number for item in items],
            [item.at for item in items], [item.outcome for item in items],
            [item.status.value for item in items], [storable(item.error) for item in items],
            [item.result.model_dump_json() if item.result else None for item in items],
            [item.status not in PENDING for item in items],
        ))
        handing = [item for item in items
                   if item.hand_on is not None and item.status not in PENDING]
        leases = [(item, item.hand_on) for item in handing if item.hand_on is not None]
        handed = await connection.execute(_HAND_ON, (
            [storable(item.signal_id) for item, _ in leases],
            [lease.owner for _, lease in leases], [lease.seconds for _, lease in leases],
            [lease.starting for _, lease in leases], [lease.ahead for _, lease in leases],
            [item.at for item, _ in leases],
        )) if leases else None

        async def read() -> list[HandedOn | None]:
            next_of = {} if handed is None else _handed_on(await handed.fetchall())
            return [next_of.get(storable(item.signal_id)) for item in items]

        return read


def _handed_on(rows: Sequence[tuple[Any, ...]]) -> dict[str, HandedOn]:
    """The answer of `_HAND_ON` as finished signal -> HandedOn, its following in lane order."""
    heads: dict[str, HandedOn] = {}
    following: dict[str, list[HandedJob]] = {}
    for finished, signal_id, attempt, order_json, plugin, source, received, approved in rows:
        if order_json is None:
            heads[finished] = HandedOn(signal_id, attempt)
        else:
            following.setdefault(finished, []).append(HandedJob(
                signal_id, attempt, order_json, plugin, source, received, approved))
    for finished, jobs in following.items():
        jobs.sort(key=lambda job: job.signal_id)  # RETURNING keeps no order
        heads[finished] = replace(heads[finished], following=tuple(jobs))
    return heads


async def insert_signals(connection: Connection, signals: Sequence[NewSignal]) -> None:
    """Store these signals in the connection's transaction (a repeated key stores nothing)."""
    if signals:
        await connection.execute(_INSERT, _columns(signals))


async def withdraw_attempts(connection: Connection, unsent: Mapping[str, int]) -> None:
    """Delete each unfinished attempt (signal id -> number) and queue its signal again."""
    await connection.execute(_WITHDRAW, (
        [storable(signal_id) for signal_id in unsent], list(unsent.values())))
