"""The journals' fast path, run against both back ends: the lease taken as a signal is stored,
and the hand-on of a lane's next signal in the transaction that ends the previous one, each
opening the signal's next attempt too when the executor asks (`Lease.starting`)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.webhook.journal.journal_helpers import execute_beside, queued_signal
from webhook.journal import HandedOn, Lease, NewSignal, SignalJournal, SignalStatus
from webhook.journal.records import LANE_AHEAD

pytestmark = pytest.mark.anyio
MINE = Lease("here", 30)


def lease_elsewhere(journal_url: str, signal_id: str, owner: str) -> None:
    """Lease a signal to `owner` beside the journal's own connections, as a second process
    sharing the journal would."""
    execute_beside(journal_url, "UPDATE signals SET lease_owner = ?, lease_until = ? WHERE id = ?",
                   (owner, time.time() + 30, signal_id))


def asking(signal: NewSignal, lease: Lease = MINE) -> NewSignal:
    return signal.model_copy(update={"lease": lease})


async def finish(journal: SignalJournal, signal_id: str, owner: str = "here") -> str | None:
    number = await journal.start_attempt(signal_id, time.time(), owner=owner)
    handed = await journal.finish_attempt(signal_id, number, outcome="result",
                                          status=SignalStatus.FILLED, hand_on=Lease(owner, 30))
    return None if handed is None else handed.signal_id


def starting(signal: NewSignal) -> NewSignal:
    return asking(signal, Lease("here", 30, starting=signal.id))


async def state(journal: SignalJournal, signal_id: str) -> tuple[SignalStatus, list[str | None]]:
    record = await journal.get(signal_id)
    assert record is not None
    return record.status, [attempt.outcome for attempt in record.attempts]


async def test_a_signal_alone_in_its_lane_is_leased_as_it_is_stored(
    journal: SignalJournal,
) -> None:
    first = asking(queued_signal("BTC/USDT"))
    assert (await journal.record(first)).leased
    # Leased: another executor's claim cannot take it, and its owner may start at once.
    assert await journal.claim("other", lease_seconds=30, limit=10) == []
    assert await journal.start_attempt(first.id, time.time(), owner="here") == 1


async def test_a_signal_behind_a_pending_one_is_not_leased(journal: SignalJournal) -> None:
    assert (await journal.record(asking(queued_signal("BTC/USDT")))).leased
    behind = await journal.record(asking(queued_signal("BTC/USDT")))
    other_symbol = await journal.record(asking(queued_signal("ETH/USDT")))
    assert (behind.leased, other_symbol.leased) == (False, True)


async def test_only_queued_signals_are_leased(journal: SignalJournal) -> None:
    filtered = asking(queued_signal(status=SignalStatus.FILTERED))
    assert not (await journal.record(filtered)).leased
    assert (await journal.get(filtered.id)) is not None


async def test_a_duplicate_takes_no_lease(journal: SignalJournal) -> None:
    first = await journal.record(queued_signal(key="k"))
    repeat = await journal.record(asking(queued_signal(key="k")))
    assert (repeat.duplicate, repeat.leased, repeat.signal_id) == (True, False, first.signal_id)


async def test_the_end_of_a_signal_hands_its_lane_on_in_arrival_order(
    journal: SignalJournal,
) -> None:
    first, second, third = (asking(queued_signal("BTC/USDT")) for _ in range(3))
    for signal in (first, second, third):
        await journal.record(signal)
    assert await finish(journal, first.id) == second.id
    assert await journal.claim("other", lease_seconds=30, limit=10) == []  # second is held
    assert await finish(journal, second.id) == third.id
    assert await finish(journal, third.id) is None


async def test_a_status_still_pending_hands_nothing_on(journal: SignalJournal) -> None:
    first = asking(queued_signal())
    await journal.record(first)
    await journal.record(queued_signal())
    number = await journal.start_attempt(first.id, time.time(), owner="here")
    handed = await journal.finish_attempt(first.id, number, outcome="temporary",
                                          status=SignalStatus.QUEUED, hand_on=MINE)
    assert handed is None


async def test_a_lane_another_executor_holds_is_not_handed_on(
    journal: SignalJournal, journal_url: str,
) -> None:
    mine, waiting, theirs = asking(queued_signal()), queued_signal(), queued_signal()
    for signal in (mine, waiting, theirs):
        await journal.record(signal)
    lease_elsewhere(journal_url, theirs.id, "other")  # a live lease in the same lane
    assert await finish(journal, mine.id) is None
    record = await journal.get(waiting.id)
    assert record is not None and record.status is SignalStatus.QUEUED


async def test_an_interrupted_head_is_left_to_a_claim(journal: SignalJournal) -> None:
    first, second = asking(queued_signal()), queued_signal()
    await journal.record(first)
    await journal.record(second)
    await journal.start_attempt(second.id, time.time())  # in flight when its holder stopped
    assert await finish(journal, first.id) is None
    (claimed,) = await journal.claim("here", lease_seconds=30, limit=10)
    assert (claimed.id, claimed.status) == (second.id, SignalStatus.EXECUTING)


async def test_a_lease_starting_the_signal_opens_its_first_attempt_as_it_is_stored(
    journal: SignalJournal,
) -> None:
    first = starting(queued_signal())
    stored = await journal.record(first)
    assert (stored.leased, stored.attempt) == (True, 1)
    # Executing with its attempt open: whoever claims it after a crash asks the broker first.
    assert await state(journal, first.id) == (SignalStatus.EXECUTING, [None])
    (claimed,) = await journal.claim("here", lease_seconds=30, limit=10)
    assert (claimed.id, claimed.status) == (first.id, SignalStatus.EXECUTING)


async def test_only_the_signal_the_lease_names_is_started(journal: SignalJournal) -> None:
    other = asking(queued_signal(), Lease("here", 30, starting="01SOMEOTHERSIGNAL"))
    assert (await journal.record(other)).attempt is None
    behind = starting(queued_signal())
    assert (await journal.record(behind)).attempt is None  # not its lane's head
    assert await state(journal, behind.id) == (SignalStatus.QUEUED, [])


async def test_the_hand_on_opens_the_attempt_of_the_signal_it_is_asked_to_start(
    journal: SignalJournal,
) -> None:
    first, second, third = (asking(queued_signal()) for _ in range(3))
    for signal in (first, second, third):
        await journal.record(signal)
    number = await journal.start_attempt(first.id, time.time(), owner="here")
    handed = await journal.finish_attempt(
        first.id, number, outcome="result", status=SignalStatus.FILLED,
        hand_on=Lease("here", 30, starting=second.id))
    assert handed == HandedOn(second.id, 1)
    assert await state(journal, second.id) == (SignalStatus.EXECUTING, [None])
    # Asked to start another signal than the lane's head: the head is handed on unstarted.
    handed = await journal.finish_attempt(
        second.id, 1, outcome="result", status=SignalStatus.FILLED,
        hand_on=Lease("here", 30, starting=first.id))
    assert handed == HandedOn(third.id, None)
    assert await state(journal, third.id) == (SignalStatus.QUEUED, [])


async def test_a_withdrawn_attempt_leaves_the_signal_queued_as_before_it_started(
    journal: SignalJournal,
) -> None:
    unsent, finished = starting(queued_signal("BTC/USDT")), starting(queued_signal("ETH/USDT"))
    await journal.record(unsent)
    await journal.record(finished)
    await journal.finish_attempt(finished.id, 1, outcome="temporary", status=SignalStatus.QUEUED)
    await journal.withdraw_attempts({unsent.id: 1, finished.id: 1})
    assert await state(journal, unsent.id) == (SignalStatus.QUEUED, [])
    assert await state(journal, finished.id) == (SignalStatus.QUEUED, ["temporary"])


async def test_a_receipt_and_the_end_before_it_in_one_go_lease_the_newcomer_once(
    journal: SignalJournal,
) -> None:
    first = asking(queued_signal())
    await journal.record(first)
    number = await journal.start_attempt(first.id, time.time(), owner="here")
    newcomer = asking(queued_signal())
    handed, stored = await asyncio.gather(
        journal.finish_attempt(first.id, number, outcome="result", status=SignalStatus.FILLED,
                               hand_on=MINE),
        journal.record(newcomer),
    )
    # Whichever the journal wrote first, the newcomer is leased to this executor exactly once.
    assert [stored.leased, handed == HandedOn(newcomer.id)].count(True) == 1
    assert await journal.claim("other", lease_seconds=30, limit=10) == []


def ahead(signal: NewSignal, owner: str = "here") -> NewSignal:
    """Asking to start the signal even behind others of its lane (a plugin with lookups)."""
    return asking(signal, Lease(owner, 30, starting=signal.id, joins_lane=True, ahead=True))


async def test_a_receipt_behind_the_lanes_own_leases_is_leased_with_its_attempt(
    journal: SignalJournal,
) -> None:
    first, second, third = (ahead(queued_signal()) for _ in range(3))
    stored = [await journal.record(signal) for signal in (first, second, third)]
    assert [(s.leased, s.attempt) for s in stored] == [(True, 1), (True, 1), (True, 1)]
    # Opened in the receipt's transaction: executing, so a restart asks the broker first.
    assert await state(journal, third.id) == (SignalStatus.EXECUTING, [None])
    assert await journal.claim("other", lease_seconds=30, limit=10) == []
    # The lane's head is its oldest leased signal, whoever claims it after a restart.
    (claimed,) = await journal.claim("here", lease_seconds=30, limit=10)
    assert claimed.id == first.id


async def test_a_receipt_behind_a_lane_its_owner_holds_without_lookups_opens_no_attempt(
    journal: SignalJournal,
) -> None:
    first, second = (asking(signal, Lease("here", 30, starting=signal.id, joins_lane=True))
                     for signal in (queued_signal(), queued_signal()))
    assert (await journal.record(first)).attempt == 1
    stored = await journal.record(second)
    assert (stored.leased, stored.attempt) == (True, None)
    assert await state(journal, second.id) == (SignalStatus.QUEUED, [])


async def test_a_receipt_into_a_lane_another_owner_holds_is_not_leased(
    journal: SignalJournal,
) -> None:
    assert (await journal.record(ahead(queued_signal(), owner="other"))).leased
    stored = await journal.record(ahead(queued_signal()))
    assert (stored.leased, stored.attempt) == (False, None)


async def test_a_receipt_behind_an_unleased_pending_signal_is_not_leased(
    journal: SignalJournal,
) -> None:
    assert (await journal.record(ahead(queued_signal()))).leased
    assert not (await journal.record(queued_signal())).leased  # stored without asking
    stored = await journal.record(ahead(queued_signal()))
    assert (stored.leased, stored.attempt) == (False, None)


async def test_a_receipt_behind_an_expired_lease_of_its_owner_is_not_leased(
    journal: SignalJournal, journal_url: str,
) -> None:
    first = ahead(queued_signal())
    await journal.record(first)
    lease_elsewhere(journal_url, first.id, "here")  # ours still, then let it lapse
    execute_beside(journal_url, "UPDATE signals SET lease_until = 0 WHERE id = ?", (first.id,))
    assert not (await journal.record(ahead(queued_signal()))).leased


async def test_no_more_than_lane_ahead_signals_of_a_lane_are_leased_at_receipt(
    journal: SignalJournal,
) -> None:
    stored = [await journal.record(ahead(queued_signal())) for _ in range(LANE_AHEAD + 2)]
    assert [s.leased for s in stored] == [True] * LANE_AHEAD + [False, False]
    assert all(s.attempt == 1 for s in stored[:LANE_AHEAD])


async def test_receipts_of_one_lane_in_one_batch_are_leased_in_turn(
    journal: SignalJournal,
) -> None:
    signals = [ahead(queued_signal()) for _ in range(5)]
    stored = await asyncio.gather(*(journal.record(signal) for signal in signals))
    assert [(s.leased, s.attempt) for s in stored] == [(True, 1)] * 5
    (claimed,) = await journal.claim("here", lease_seconds=30, limit=10)
    assert claimed.id == signals[0].id


async def test_a_head_leased_at_receipt_is_not_handed_on_again(journal: SignalJournal) -> None:
    first = asking(queued_signal())
    second = asking(queued_signal(), Lease("here", 30, joins_lane=True))
    await journal.record(first)
    assert (await journal.record(second)).leased
    assert await finish(journal, first.id) is None  # its executor runs it from its lane


async def test_releasing_all_of_an_owners_leases_frees_its_lanes(journal: SignalJournal) -> None:
    mine = [ahead(queued_signal()) for _ in range(2)]
    theirs = ahead(queued_signal("ETH/USDT"), owner="other")
    for signal in (*mine, theirs):
        await journal.record(signal)
    await journal.release_all("here")
    # Executing still (asked about before any resend), but anyone may claim the head now.
    claimed = await journal.claim("another", lease_seconds=30, limit=10)
    assert [(r.id, r.status) for r in claimed] == [(mine[0].id, SignalStatus.EXECUTING)]
    assert not (await journal.record(ahead(queued_signal()))).leased  # behind an unleased one


@pytest.mark.parametrize("leased_one", ["first", "second"])
async def test_a_key_repeated_in_one_batch_keeps_the_first_whichever_asks_for_a_lease(
    journal: SignalJournal, leased_one: str,
) -> None:
    # The signals asking for a lease are stored by a statement of their own: the one that
    # came first must still be the one stored, and the other answered as its duplicate.
    filtered = queued_signal(key="k-repeated", status=SignalStatus.FILTERED)
    queued = starting(queued_signal(key="k-repeated"))
    first, second = (queued, filtered) if leased_one == "first" else (filtered, queued)
    stored = await asyncio.gather(journal.record(first), journal.record(second))
    assert [(s.signal_id, s.duplicate) for s in stored] == [(first.id, False), (first.id, True)]
    assert await journal.get(second.id) is None
    record = await journal.get(first.id)
    assert record is not None
    assert record.status is (SignalStatus.EXECUTING if first is queued else SignalStatus.FILTERED)
