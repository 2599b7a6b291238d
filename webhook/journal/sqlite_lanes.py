"""The lanes of the SQLite journal: which pending signal heads each (plugin, symbol).

A lane's head is the oldest signal that holds a live lease, else its oldest pending one: an
older signal whose insert committed after a younger one was leased waits its turn. Several
signals of a lane hold live leases when a receipt leased them behind others of the same owner
(`pending_ahead`); their owner runs them one at a time, in the order they were stored. The
queries here read only the partial indexes of pending and of leased signals, so finished
signals cost nothing however many there are.
"""

from __future__ import annotations

import sqlite3

from webhook.journal import sqlite_attempts as attempts
from webhook.journal.records import LANE_AHEAD, HandedJob, HandedOn, Lease

_PENDING_SQL = "status IN ('queued', 'executing')"  # as in the partial indexes
_FIRST_LANE = f"""
SELECT plugin, symbol, id FROM signals INDEXED BY signals_pending WHERE {_PENDING_SQL}
ORDER BY plugin, symbol, id LIMIT 1
"""  # noqa: S608 - constant text
_NEXT_LANE = f"""
SELECT plugin, symbol, id FROM signals INDEXED BY signals_pending
WHERE {_PENDING_SQL} AND (plugin, symbol) > (?, ?) ORDER BY plugin, symbol, id LIMIT 1
"""  # noqa: S608 - constant text
LIVE_LEASES = f"""
SELECT plugin, symbol, id, lease_owner FROM signals INDEXED BY signals_leased
WHERE {_PENDING_SQL} AND lease_owner IS NOT NULL AND lease_until >= ?
"""  # noqa: S608 - constant text
_LANE_HEAD = f"""
SELECT id, status, lease_owner, lease_until FROM signals INDEXED BY signals_pending
WHERE {_PENDING_SQL} AND plugin = ? AND symbol = ? ORDER BY id LIMIT 1
"""  # noqa: S608 - constant text
_LANE_NEWEST = f"""
SELECT lease_owner, lease_until FROM signals INDEXED BY signals_pending
WHERE {_PENDING_SQL} AND plugin = ? AND symbol = ? ORDER BY id DESC LIMIT 1
"""  # noqa: S608 - constant text
_LANE_HELD_BY = f"""
SELECT count(*), total(lease_owner = ? AND lease_until >= ?) FROM (
    SELECT lease_owner, lease_until FROM signals INDEXED BY signals_pending
    WHERE {_PENDING_SQL} AND plugin = ? AND symbol = ? ORDER BY id LIMIT ?)
"""  # noqa: S608 - constant text
"""Of the lane's first pending signals (up to the limit): how many, and how many of them hold
a live lease of the given owner, counted by SQLite rather than row by row in Python."""
LANE_ORDERS = f"""
SELECT order_json FROM signals INDEXED BY signals_pending
WHERE {_PENDING_SQL} AND plugin = ? AND symbol = ? ORDER BY id
"""  # noqa: S608 - constant text
PENDING_AMONG = f"SELECT id FROM signals WHERE {_PENDING_SQL} AND id IN "  # noqa: S608 - constant
"""Followed by `(?, ?, ...)`, one placeholder per id."""
_HELD_BY_OTHERS = f"""
SELECT 1 FROM signals INDEXED BY signals_leased
WHERE {_PENDING_SQL} AND lease_owner IS NOT NULL AND lease_until >= ? AND lease_owner != ?
AND plugin = ? AND symbol = ? LIMIT 1
"""  # noqa: S608 - constant text
_FOLLOWING = f"""
SELECT id, status, lease_owner, lease_until, order_json, plugin, source, received_at, approved_at
FROM signals INDEXED BY signals_pending
WHERE {_PENDING_SQL} AND plugin = ? AND symbol = ? AND id > ? ORDER BY id LIMIT ?
"""  # noqa: S608 - constant text
_LEASE = "UPDATE signals SET lease_owner = ?, lease_until = ? WHERE id = ?"
RELEASE_ALL = f"""
UPDATE signals INDEXED BY signals_leased SET lease_owner = NULL, lease_until = NULL
WHERE {_PENDING_SQL} AND lease_owner IS NOT NULL AND lease_owner = ?
"""  # noqa: S608 - constant text


def oldest_pending_by_lane(
    connection: sqlite3.Connection,
) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(plugin, symbol) -> (oldest pending signal, no holder), one index seek per lane, so a
    long backlog in one lane costs nothing more (a GROUP BY would read all of it)."""
    heads: dict[tuple[str, str], tuple[str, str | None]] = {}
    row = connection.execute(_FIRST_LANE).fetchone()
    while row is not None:
        plugin, symbol, head = row
        heads[(plugin, symbol)] = (head, None)
        row = connection.execute(_NEXT_LANE, (plugin, symbol)).fetchone()
    return heads


def pending_ahead(
    connection: sqlite3.Connection, plugin: str, symbol: str, to: Lease, now: float
) -> int | None:
    """How many signals of (plugin, symbol) a newcomer leased to `to.owner` would wait behind:
    0 for an empty lane; else, with `to.joins_lane`, when every pending signal of the lane
    holds a live lease of that owner (it runs the lane, no one else may claim it) and they are
    fewer than `LANE_AHEAD`, their number. None when the newcomer is not to be leased. Reads at
    most `LANE_AHEAD` rows of the pending index, and one when the lane's newest pending signal
    is not held by that owner (a backlog nobody holds, where every receipt looks)."""
    newest = connection.execute(_LANE_NEWEST, (plugin, symbol)).fetchone()
    if newest is None:
        return 0
    if not to.joins_lane or not _held_by(newest, to.owner, now):
        return None
    pending, held = connection.execute(
        _LANE_HELD_BY, (to.owner, now, plugin, symbol, LANE_AHEAD)).fetchone()
    if pending >= LANE_AHEAD or held != pending:
        return None
    return int(pending)


LeaseRow = tuple[str | None, float | None]
"""A signal's `lease_owner` and `lease_until`."""


def _live_holder(lease_row: LeaseRow, now: float) -> str | None:
    """Who holds the signal's lease now; None when no one does (none, or lapsed)."""
    holder, until = lease_row
    return holder if until is not None and until >= now else None


def _held_by(lease_row: LeaseRow, owner: str, now: float) -> bool:
    return _live_holder(lease_row, now) == owner


def lease(connection: sqlite3.Connection, signal_id: str, lease: Lease, now: float) -> None:
    connection.execute(_LEASE, (lease.owner, now + lease.seconds, signal_id))


def hand_on(
    connection: sqlite3.Connection, plugin: str, symbol: str, to: Lease, now: float
) -> HandedOn | None:
    """Lease the lane's head to `to.owner` when it is queued and no one else holds a live lease
    in the lane, opening its next attempt when `to` is `starting` it (and, with `to.ahead`,
    handing on the queued signals after it too: `hand_on_following`); None else (an executing
    head was in flight at someone's stop: it is claimed, so that its holder's successor asks
    the broker first; a head `to.owner` holds already was leased to it as it was stored, and
    waits in its executor's lane)."""
    head = connection.execute(_LANE_HEAD, (plugin, symbol)).fetchone()
    if head is None or head[1] != "queued" or _held_by((head[2], head[3]), to.owner, now):
        return None
    if connection.execute(_HELD_BY_OTHERS, (now, to.owner, plugin, symbol)).fetchone():
        return None
    signal_id = str(head[0])
    if signal_id != to.starting:
        lease(connection, signal_id, to, now)
        return HandedOn(signal_id)
    attempt = attempts.open_attempt(connection, signal_id, now,
                                    leased_to=(to.owner, now + to.seconds))
    following = (hand_on_following(connection, plugin, symbol, signal_id, to, now)
                 if to.ahead else ())
    return HandedOn(signal_id, attempt, following)


def hand_on_following(
    connection: sqlite3.Connection, plugin: str, symbol: str, handed: str, to: Lease, now: float
) -> tuple[HandedJob, ...]:
    """After `handed` (just leased to `to.owner` with its attempt opened), the lane's next
    queued signals that no one holds, in order, up to `LANE_AHEAD` in all: each leased to
    `to.owner` and its next attempt opened. Stops at the first that is executing or leased
    (a newer receipt leased behind the lane waits in its executor already)."""
    rows = connection.execute(_FOLLOWING, (plugin, symbol, handed, LANE_AHEAD - 1)).fetchall()
    free = []
    for row in rows:
        _, status, owner, until, order_json, *_ = row
        if status != "queued" or _live_holder((owner, until), now) or order_json is None:
            break
        free.append(row)
    if not free:
        return ()
    numbers = attempts.open_leased_attempts(connection, [row[0] for row in free], now,
                                            leased_to=(to.owner, now + to.seconds))
    return tuple(
        HandedJob(signal_id, numbers[signal_id], order_json, row_plugin, source, received,
                  approved)
        for signal_id, _, _, _, order_json, row_plugin, source, received, approved in free)
