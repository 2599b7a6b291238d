"""The statistics read of both journals: counts in the database, fills as plain rows."""

from __future__ import annotations

import time

import pytest

from plugins.orders import ExecutionResult, ExecutionStatus, Order
from tests.webhook.journal.journal_helpers import queued_signal
from webhook.journal import SignalJournal, SignalStatus
from webhook.journal.period import FillRow, PeriodCount

pytestmark = pytest.mark.anyio


async def _filled(journal: SignalJournal, price: float, *, source: str = "signed") -> str:
    signal = queued_signal("ETHUSDT", source=source)
    order = Order.model_validate({"symbol": "ETHUSDT", "side": "sell", "quantity": 2,
                                  "order_type": "stop", "stop_price": price - 1, "price": price})
    await journal.record(signal.model_copy(update={"order": order}))
    number = await journal.start_attempt(signal.id, time.time())
    result = ExecutionResult(success=True, status=ExecutionStatus.PARTIALLY_FILLED,
                             filled_quantity=1.5, average_price=price - 2, fee=0.25,
                             price_tick=0.01)
    await journal.finish_attempt(signal.id, number, outcome="result",
                                 status=SignalStatus.PARTIALLY_FILLED, result=result)
    return signal.id


async def test_counts_group_by_source_plugin_status_and_rejection_reason(
    journal: SignalJournal,
) -> None:
    start = time.time() - 1
    await _filled(journal, 2000)
    for reason in ("max_quantity 1", "max_quantity 1", "allowed_symbols"):
        rejected = queued_signal(status=SignalStatus.REJECTED)
        await journal.record(rejected.model_copy(update={"reason": reason}))
    await journal.record(queued_signal(source="tv", status=SignalStatus.FILTERED).model_copy(
        update={"reason": "confidence 0.4 below 0.6"}))
    counts = sorted(await journal.period_counts(start, None))
    assert counts == [
        PeriodCount("signed", "paper", "partially_filled", None, 1),
        PeriodCount("signed", "paper", "rejected", "allowed_symbols", 1),
        PeriodCount("signed", "paper", "rejected", "max_quantity 1", 2),
        PeriodCount("tv", "paper", "filtered", None, 1),
    ]
    assert await journal.period_counts(time.time() + 1, None) == []
    assert await journal.period_counts(None, start) == []


async def test_fills_come_newest_first_with_the_values_of_order_and_result(
    journal: SignalJournal,
) -> None:
    first = await _filled(journal, 2000)
    await journal.record(queued_signal())  # not filled
    second = await _filled(journal, 2100, source="tv")
    rows = await journal.period_fills(None, None, limit=10)
    assert [row.id for row in rows] == [second, first]
    row = rows[0]
    assert isinstance(row, FillRow)
    assert (row.source, row.plugin, row.symbol, row.side, row.action, row.order_type) == (
        "tv", "paper", "ETHUSDT", "sell", "open", "stop")
    assert (row.price, row.stop_price, row.filled_quantity, row.average_price, row.fee,
            row.price_tick) == (2100, 2099, 1.5, 2098, 0.25, 0.01)
    assert row.received_at <= row.updated_at
    assert [r.id for r in await journal.period_fills(None, None, limit=1)] == [second]
