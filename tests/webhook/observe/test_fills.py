"""Fills from journal records: FIFO realised P&L, slippage against the alert, the stats groups."""

from __future__ import annotations

import time

import pytest

from webhook.journal.ids import first_id_at, new_signal_id
from webhook.journal.period import FillRow, PeriodCount
from webhook.observe.fills import FifoBook, fills_of
from webhook.observe.signal_stats import latency_histogram, signal_stats

_clock = [1_000.0]


def filled(side: str | None, quantity: float, price: float, *, alert: float | None = None,
           symbol: str = "ETHUSDT", plugin: str = "paper", source: str = "tv",
           action: str = "open", fee: float | None = None, tick: float | None = None,
           took: float = 0.01) -> FillRow:
    _clock[0] += 60
    return FillRow(
        id=new_signal_id(), received_at=_clock[0], updated_at=_clock[0] + took, source=source,
        plugin=plugin, symbol=symbol, side=side, action=action, order_type="market",
        price=alert, stop_price=None, filled_quantity=quantity, average_price=price, fee=fee,
        price_tick=tick,
    )


def test_fifo_closes_the_oldest_lots_first_at_their_own_prices() -> None:
    records = [filled("buy", 1, 100), filled("buy", 1, 110), filled("sell", 1.5, 120)]
    book = FifoBook()
    fills = list(fills_of(records, book))
    # 1 @ 100 -> 120 and 0.5 @ 110 -> 120: 20 + 5
    assert [f.realised_pnl for f in fills] == [0, 0, pytest.approx(25)]
    [left] = book.open_lots()
    assert (left.quantity, left.average_price) == (pytest.approx(0.5), 110)


def test_a_sell_beyond_the_long_opens_a_short_and_a_buy_realises_it() -> None:
    records = [filled("buy", 1, 100), filled("sell", 3, 90), filled("buy", 2, 80)]
    fills = list(fills_of(records, FifoBook()))
    assert [f.realised_pnl for f in fills] == [0, pytest.approx(-10), pytest.approx(20)]


def test_a_close_without_side_trades_against_what_is_held() -> None:
    records = [filled("sell", 2, 50), filled(None, 2, 45, action="close")]
    book = FifoBook()
    fills = list(fills_of(records, book))
    assert fills[1].side == "buy"
    assert fills[1].realised_pnl == pytest.approx(10)
    assert book.open_lots() == []


def test_fills_are_matched_per_plugin_and_symbol() -> None:
    records = [filled("buy", 1, 100, plugin="a"), filled("sell", 1, 200, plugin="b"),
               filled("buy", 1, 10, symbol="BTC"), filled("sell", 1, 120, plugin="a")]
    fills = list(fills_of(records, FifoBook()))
    assert [f.realised_pnl for f in fills] == [0, 0, 0, pytest.approx(20)]


def test_slippage_is_positive_when_worse_than_the_alert_on_either_side() -> None:
    buy = filled("buy", 1, 2001, alert=2000, tick=0.5)
    sell = filled("sell", 1, 1999, alert=2000)
    better = filled("buy", 1, 1999, alert=2000, tick=0.5)
    fills = list(fills_of([buy, sell, better], FifoBook()))
    assert fills[0].slippage_bps == pytest.approx(5)
    assert fills[0].slippage_ticks == pytest.approx(2)
    assert fills[1].slippage_bps == pytest.approx(5)
    assert fills[1].slippage_ticks is None  # the plugin did not say the tick
    assert fills[2].slippage_bps == pytest.approx(-5)


def test_a_result_without_a_price_or_quantity_is_no_fill() -> None:
    rows = [filled("buy", 1, 100)._replace(average_price=None),
            filled("buy", 1, 100)._replace(filled_quantity=0)]
    assert list(fills_of(rows, FifoBook())) == []


def test_stats_group_pnl_fees_and_slippage_by_source_and_plugin() -> None:
    records = [filled("buy", 1, 100, alert=99, source="tv", fee=0.1, took=0.2),
               filled("sell", 1, 130, alert=131, source="agent", fee=0.2, took=0.4)]
    counts = [PeriodCount("tv", "paper", "filled", None, 1),
              PeriodCount("agent", "paper", "filled", None, 1),
              PeriodCount("agent", "paper", "rejected", "max_quantity 1", 2)]
    stats = signal_stats(counts, records)
    assert stats.signals == 4
    assert stats.sources["agent"].rejections == {"max_quantity 1": 2}
    assert stats.plugins["paper"].realised_pnl == pytest.approx(30)
    assert stats.plugins["paper"].fees == pytest.approx(0.3)
    assert stats.plugins["paper"].net_pnl == pytest.approx(29.7)
    # the P&L belongs to the fill that realised it, the closing one
    assert stats.sources["tv"].realised_pnl == 0
    assert stats.sources["agent"].net_pnl == pytest.approx(29.8)
    assert stats.sources["tv"].slippage_bps.mean == pytest.approx(1 / 99 * 10_000)
    assert stats.plugins["paper"].alert_to_fill_ms.p99 == pytest.approx(400)
    assert [p.pnl for p in stats.pnl_curve] == [pytest.approx(-0.1), pytest.approx(29.7)]
    assert stats.open_lots == []


def test_latency_histogram_puts_each_time_in_its_bin() -> None:
    bins = latency_histogram([0.5, 3, 3.2, 40_000])
    counts = {(b.from_ms, b.to_ms): b.count for b in bins if b.count}
    assert counts == {(0, 1): 1, (2, 5): 2, (30_000, None): 1}


def test_first_id_at_sorts_between_earlier_and_later_ids() -> None:
    now = time.time()
    made = new_signal_id()
    assert first_id_at(now - 1) < made < first_id_at(now + 1)
