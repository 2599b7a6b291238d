"""The hand-on of a lane's backlog, on both back ends: with `Lease.ahead`, the final status of a
lane's signal leases the next one and, in the same transaction, the queued signals after it,
each with its attempt opened, in the lane's order and at most `LANE_AHEAD` in all, so that the
executor runs them from memory rather than one hand-on and one commit each."""

from __future__ import annotations

import time

import pytest

from tests.webhook.journal.journal_helpers import execute_beside, queued_signal
from tests.webhook.journal.test_lease_on_receipt import lease_elsewhere
from tests.webhook.journal.test_sqlite_receipt_statements import traced
from webhook.journal import HandedOn, Lease, SignalJournal, SignalStatus, SqliteJournal
from webhook.journal.records import LANE_AHEAD

pytestmark = pytest.mark.anyio


async def finish_handing_on(journal: SignalJournal, signal_id: str, starting: str,
                            *, ahead: bool) -> HandedOn | None:
    number = await journal.start_attempt(signal_id, time.time(), owner="here")
    return await journal.finish_attempt(
        signal_id, number, outcome="result", status=SignalStatus.FILLED,
        hand_on=Lease("here", 30, starting=starting, ahead=ahead))


async def backlog(journal: SignalJournal, count: int) -> list[str]:
    """A running signal of one lane (claimed here), then `count` stored without a lease."""
    signals = [queued_signal("BTC/USDT") for _ in range(count + 1)]
    for signal in signals:
        await journal.record(signal)
    await journal.claim("here", lease_seconds=30, limit=1)
    return [s.id for s in signals]


async def test_a_hand_on_ahead_takes_the_lanes_next_signals_with_their_attempts(
    journal: SignalJournal,
) -> None:
    ids = await backlog(journal, LANE_AHEAD + 10)
    handed = await finish_handing_on(journal, ids[0], ids[1], ahead=True)
    assert handed is not None and handed.signal_id == ids[1] and handed.attempt == 1
    taken = [h.signal_id for h in handed.following]
    assert taken == ids[2:LANE_AHEAD + 1]  # in order, LANE_AHEAD with the one starting
    assert {h.attempt for h in handed.following} == {1}
    assert {h.plugin for h in handed.following} == {"paper"}
    for signal_id in [ids[1], *taken]:
        record = await journal.get(signal_id)
        assert record is not None and record.status is SignalStatus.EXECUTING
        assert [a.finished_at for a in record.attempts] == [None]
    rest = await journal.get(ids[LANE_AHEAD + 1])
    assert rest is not None and rest.status is SignalStatus.QUEUED and not rest.attempts
    # Leased to the executor handed them: no one else claims them.
    assert await journal.claim("other", lease_seconds=30, limit=100) == []


async def test_without_ahead_only_the_next_signal_is_handed_on(
    journal: SignalJournal,
) -> None:
    ids = await backlog(journal, 5)
    handed = await finish_handing_on(journal, ids[0], ids[1], ahead=False)
    assert handed == HandedOn(ids[1], 1)


async def test_the_hand_on_stops_at_a_signal_someone_holds(
    journal: SignalJournal, journal_url: str,
) -> None:
    ids = await backlog(journal, 6)
    lease_elsewhere(journal_url, ids[4], "here")
    handed = await finish_handing_on(journal, ids[0], ids[1], ahead=True)
    assert handed is not None
    assert [h.signal_id for h in handed.following] == ids[2:4]  # not past the one held


def attempted_elsewhere(journal_url: str, signal_id: str) -> None:
    """Give a queued signal a first attempt that ended in a temporary failure, beside the
    journal's own connections: its next attempt is its second."""
    now = time.time()
    execute_beside(journal_url, "INSERT INTO attempts (signal_id, number, started_at, "
                   "finished_at, outcome) VALUES (?, 1, ?, ?, 'temporary')",
                   (signal_id, now, now))


async def test_each_signal_handed_on_behind_opens_the_attempt_after_its_last(
    journal: SignalJournal, journal_url: str,
) -> None:
    ids = await backlog(journal, 6)
    attempted_elsewhere(journal_url, ids[4])
    handed = await finish_handing_on(journal, ids[0], ids[1], ahead=True)
    assert handed is not None
    assert [(h.signal_id, h.attempt) for h in handed.following] == [
        (ids[2], 1), (ids[3], 1), (ids[4], 2), (ids[5], 1), (ids[6], 1)]
    record = await journal.get(ids[4])
    assert record is not None and record.status is SignalStatus.EXECUTING
    assert [a.number for a in record.attempts] == [1, 2]


async def test_on_sqlite_the_signals_behind_take_two_statements_whatever_their_number(
    sqlite_journal: SqliteJournal,
) -> None:
    """Handed on behind the lane's next, 20 signals are leased and their attempts opened by
    one UPDATE and one INSERT, where each took its own (and a look at its last attempt)."""
    ids = await backlog(sqlite_journal, 21)
    number = await sqlite_journal.start_attempt(ids[0], time.time(), owner="here")
    seen = traced(sqlite_journal)
    handed = await sqlite_journal.finish_attempt(
        ids[0], number, outcome="result", status=SignalStatus.FILLED,
        hand_on=Lease("here", 30, starting=ids[1], ahead=True))
    assert handed is not None and len(handed.following) == 20
    opened = [s for s in seen if s.startswith("INSERT INTO attempts")]
    assert len(opened) == 2, seen  # the lane's next, then the 20 behind it
    marked = [s for s in seen if s.startswith("UPDATE signals SET")]
    assert len(marked) == 3, seen  # the final status, the lane's next, the 20 behind it
