"""A fanned-out signal and its children in the journal, run against both back ends."""

from __future__ import annotations

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from webhook.journal import NewSignal, SignalJournal, SignalStatus
from webhook.journal.records import child_id

pytestmark = pytest.mark.anyio


def fanned(key: str, count: int) -> tuple[NewSignal, list[NewSignal]]:
    parent = queued_signal(key=key, status=SignalStatus.FANNED_OUT).model_copy(
        update={"plugin": None})
    children = [
        queued_signal(plugin=f"account{n}").model_copy(
            update={"id": child_id(parent.id, n), "raw_body": b""})
        for n in range(1, count + 1)
    ]
    return parent, children


async def test_children_are_stored_with_their_parent_and_read_back_in_order(
    journal: SignalJournal,
) -> None:
    parent, children = fanned("fan-1", 11)

    assert (await journal.record(parent, children)).duplicate is False
    stored = await journal.get(parent.id)

    assert stored is not None
    assert [c.id for c in stored.children] == [c.id for c in children]  # .10 after .9
    assert [c.plugin for c in stored.children] == [f"account{n}" for n in range(1, 12)]
    claimed = await journal.claim("me", lease_seconds=30, limit=20)
    assert {r.id for r in claimed} == {c.id for c in children}  # the parent is never claimed


async def test_a_repeated_parent_stores_no_children(journal: SignalJournal) -> None:
    first, _ = fanned("fan-2", 2)
    await journal.record(first, [])
    again, children = fanned("fan-2", 2)

    stored = await journal.record(again, children)

    assert (stored.duplicate, stored.signal_id) == (True, first.id)
    assert all([await journal.get(c.id) is None for c in children])


async def test_a_signal_that_is_not_fanned_out_has_no_children(journal: SignalJournal) -> None:
    lone = queued_signal()
    neighbour = queued_signal().model_copy(update={"id": child_id(lone.id, 1)})
    await journal.record(lone)
    await journal.record(neighbour)

    stored = await journal.get(lone.id)

    assert stored is not None and stored.children == []
