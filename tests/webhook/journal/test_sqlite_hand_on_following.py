"""The SQLite journal's hand-on of a lane's backlog: with `Lease.ahead`, the final status of a
lane's signal leases the next one and, in the same transaction, the queued signals after it,
each with its attempt opened, in the lane's order and at most `LANE_AHEAD` in all, so that the
executor runs them from memory rather than one hand-on and one commit each."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from tests.webhook.journal.test_lease_on_receipt import lease_elsewhere
from webhook.journal import HandedOn, Lease, SignalStatus, SqliteJournal
from webhook.journal.records import LANE_AHEAD

pytestmark = pytest.mark.anyio


async def finish_handing_on(journal: SqliteJournal, signal_id: str, starting: str,
                            *, ahead: bool) -> HandedOn | None:
    number = await journal.start_attempt(signal_id, time.time(), owner="here")
    return await journal.finish_attempt(
        signal_id, number, outcome="result", status=SignalStatus.FILLED,
        hand_on=Lease("here", 30, starting=starting, ahead=ahead))


async def backlog(journal: SqliteJournal, count: int) -> list[str]:
    """A running signal of one lane (claimed here), then `count` stored without a lease."""
    signals = [queued_signal("BTC/USDT") for _ in range(count + 1)]
    for signal in signals:
        await journal.record(signal)
    await journal.claim("here", lease_seconds=30, limit=1)
    return [s.id for s in signals]


async def test_a_hand_on_ahead_takes_the_lanes_next_signals_with_their_attempts(
    sqlite_journal: SqliteJournal,
) -> None:
    ids = await backlog(sqlite_journal, LANE_AHEAD + 10)
    handed = await finish_handing_on(sqlite_journal, ids[0], ids[1], ahead=True)
    assert handed is not None and handed.signal_id == ids[1] and handed.attempt == 1
    taken = [h.signal_id for h in handed.following]
    assert taken == ids[2:LANE_AHEAD + 1]  # in order, LANE_AHEAD with the one starting
    assert {h.attempt for h in handed.following} == {1}
    assert {h.plugin for h in handed.following} == {"paper"}
    for signal_id in [ids[1], *taken]:
        record = await sqlite_journal.get(signal_id)
        assert record is not None and record.status is SignalStatus.EXECUTING
        assert [a.finished_at for a in record.attempts] == [None]
    rest = await sqlite_journal.get(ids[LANE_AHEAD + 1])
    assert rest is not None and rest.status is SignalStatus.QUEUED and not rest.attempts
    # Leased to the executor handed them: no one else claims them.
    assert await sqlite_journal.claim("other", lease_seconds=30, limit=100) == []


async def test_without_ahead_only_the_next_signal_is_handed_on(
    sqlite_journal: SqliteJournal,
) -> None:
    ids = await backlog(sqlite_journal, 5)
    handed = await finish_handing_on(sqlite_journal, ids[0], ids[1], ahead=False)
    assert handed == HandedOn(ids[1], 1)


async def test_the_hand_on_stops_at_a_signal_someone_holds(
    sqlite_journal: SqliteJournal, tmp_path: Path,
) -> None:
    ids = await backlog(sqlite_journal, 6)
    lease_elsewhere(f"sqlite:///{tmp_path / 'journal.db'}", ids[4], "here")
    handed = await finish_handing_on(sqlite_journal, ids[0], ids[1], ahead=True)
    assert handed is not None
    assert [h.signal_id for h in handed.following] == ids[2:4]  # not past the one held
