"""Each risk rule at, just under and just over its limit; each refusal names rule and numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plugins.orders import Order
from tests.webhook.decide.policy_helpers import PolicyBench, policy_bench
from webhook.journal import SignalStatus

pytestmark = pytest.mark.anyio
QUEUED, REJECTED = SignalStatus.QUEUED, SignalStatus.REJECTED


async def bench_with(tmp_path: Path, risk: dict[str, Any], **config: Any) -> PolicyBench:
    return await policy_bench(tmp_path, {"sources": {"tv": {"risk": risk}}, **config})


@pytest.mark.parametrize(("quantity", "status"), [(1, QUEUED), (0.999, QUEUED), (1.001, REJECTED)])
async def test_max_quantity(tmp_path: Path, quantity: float, status: SignalStatus) -> None:
    bench = await bench_with(tmp_path, {"max_quantity": 1})
    verdict = await bench.decide(f"buy {quantity} BTCUSDT")
    assert verdict.status is status
    if status is REJECTED:
        assert verdict.rule == "sources.tv.risk.max_quantity"
        assert verdict.reason == ("sources.tv.risk.max_quantity: quantity 1.001 BTCUSDT is over "
                                  "the limit of 1")


@pytest.mark.parametrize(
    ("price", "status"), [(2000, QUEUED), (1999.8, QUEUED), (2000.2, REJECTED)]
)
async def test_max_notional(tmp_path: Path, price: float, status: SignalStatus) -> None:
    bench = await bench_with(tmp_path, {"max_notional": 1000})
    verdict = await bench.decide(f"buy 0.5 ETHUSDT limit {price}")
    assert verdict.status is status
    if status is REJECTED:
        assert verdict.rule == "sources.tv.risk.max_notional"
        assert "0.5 ETHUSDT at 2000.2 (limit price) is 1000.1, over the limit of 1000" in (
            verdict.reason or "")


async def test_max_notional_of_a_market_order_uses_the_plugins_price(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_notional": 100_000})
    assert (await bench.decide("buy 1.9 BTCUSDT")).status is QUEUED
    verdict = await bench.decide("buy 2 BTCUSDT")  # 2 x 50,005 (ask)
    assert verdict.status is REJECTED
    assert "ask from plugin 'paper'" in (verdict.reason or "")


@pytest.mark.parametrize(("quantity", "status"), [(1, QUEUED), (0.99, QUEUED), (1.01, REJECTED)])
async def test_max_position(tmp_path: Path, quantity: float, status: SignalStatus) -> None:
    bench = await bench_with(tmp_path, {"max_position": 2})
    await bench.paper().execute_order(
        Order(symbol="BTCUSDT", side="buy", quantity=1)
    )
    verdict = await bench.decide(f"buy {quantity} BTCUSDT")
    assert verdict.status is status
    if status is REJECTED:
        assert verdict.reason == ("sources.tv.risk.max_position: the position in BTCUSDT would "
                                  "be 2.01 (now 1, this order +1.01), over the limit of 2")


async def test_max_position_counts_orders_still_queued(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_position": 2})
    bench.queued.append(Order(symbol="BTCUSDT", side="buy", quantity=1.5))
    verdict = await bench.decide("buy 1 BTCUSDT")
    assert verdict.status is REJECTED
    assert "now 0, queued orders +1.5, this order +1" in (verdict.reason or "")


async def test_max_position_lets_a_position_over_the_limit_shrink(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_position": 2})
    await bench.paper().execute_order(
        Order(symbol="BTCUSDT", side="sell", quantity=5)
    )
    assert (await bench.decide("buy 1 BTCUSDT")).status is QUEUED
    assert (await bench.decide("sell 1 BTCUSDT")).status is REJECTED


async def test_max_position_applies_to_the_side_a_reverse_lands_on(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_position": 2})
    await bench.paper().execute_order(
        Order(symbol="BTCUSDT", side="buy", quantity=1)
    )
    assert (await bench.decide("reverse sell 2 BTCUSDT")).status is QUEUED
    assert (await bench.decide("reverse sell 3 BTCUSDT")).status is REJECTED


async def test_closing_is_never_held_back_by_size_limits(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_quantity": 1, "max_notional": 1, "max_position": 1})
    await bench.paper().execute_order(
        Order(symbol="BTCUSDT", side="buy", quantity=5)
    )
    assert (await bench.decide("close long BTCUSDT 5")).status is QUEUED


async def test_per_symbol_limit_overrides_the_general_one(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_quantity": 1, "symbols": {"BTC*": {"max_quantity":
                                                                                0.5}}})
    verdict = await bench.decide("buy 0.6 BTCUSDT")
    assert verdict.rule == 'sources.tv.risk.symbols."BTC*".max_quantity'
    assert (await bench.decide("buy 0.5 BTCUSDT")).status is QUEUED
    assert (await bench.decide("buy 0.6 ETHUSDT")).status is QUEUED
    assert (await bench.decide("buy 1.1 ETHUSDT")).rule == "sources.tv.risk.max_quantity"


@pytest.mark.parametrize(
    ("symbol", "status"), [("BTCUSDT", QUEUED), ("ethusdt", QUEUED), ("DOGEUSDT", REJECTED)]
)
async def test_allowed_symbols(tmp_path: Path, symbol: str, status: SignalStatus) -> None:
    bench = await bench_with(tmp_path, {"allowed_symbols": ["BTCUSDT", "ETH*"]})
    verdict = await bench.decide(f"buy 1 {symbol}")
    assert verdict.status is status
    if status is REJECTED:
        assert verdict.reason == ("sources.tv.risk.allowed_symbols: DOGEUSDT is not among the "
                                  "allowed symbols (BTCUSDT, ETH*)")


async def test_plugin_limits_see_the_brokers_symbol(tmp_path: Path) -> None:
    bench = await policy_bench(tmp_path, {
        "plugins": {"paper": {"type": "mock", "risk": {"allowed_symbols": ["BTC/USDT"],
                                                       "max_quantity": 2}}},
        "symbol_maps": {"paper": {"BINANCE:BTCUSDT": "BTC/USDT"}},
        "sources": {"tv": {"risk": {"allowed_symbols": ["BINANCE:*"]}}},
    })
    verdict = await bench.decide("buy 1 BINANCE:BTCUSDT")
    assert verdict.status is QUEUED and verdict.order.symbol == "BTC/USDT"
    refused = await bench.decide("buy 3 BINANCE:BTCUSDT")
    assert refused.reason == ("plugins.paper.risk.max_quantity: quantity 3 BTC/USDT is over the "
                              "limit of 2")


async def test_max_signals_per_minute(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_signals_per_minute": 3})
    start = bench.now
    for _ in range(3):  # up to the limit
        assert (await bench.decide("buy 1 BTCUSDT")).status is QUEUED
    bench.now = start + 59.999  # just under a minute later: still full
    verdict = await bench.decide("buy 1 BTCUSDT")
    assert verdict.status is REJECTED
    assert verdict.reason == ("sources.tv.risk.max_signals_per_minute: 3 signals for source "
                              "'tv' were accepted in the last 60 s; the limit is 3")
    bench.now = start + 60  # the first ones leave the window
    assert (await bench.decide("buy 1 BTCUSDT")).status is QUEUED


async def test_rejected_signals_do_not_use_up_the_rate(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_signals_per_minute": 1, "max_quantity": 1})
    assert (await bench.decide("buy 5 BTCUSDT")).status is REJECTED
    assert (await bench.decide("buy 1 BTCUSDT")).status is QUEUED


async def test_released_reservation_frees_the_slot(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_signals_per_minute": 1})
    first = await bench.decide("buy 1 BTCUSDT")
    first.release()  # e.g. it turned out to be a duplicate
    assert (await bench.decide("buy 1 BTCUSDT")).status is QUEUED


async def test_plugin_rate_counts_every_source(tmp_path: Path) -> None:
    bench = await policy_bench(tmp_path, {
        "plugins": {"paper": {"type": "mock", "risk": {"max_signals_per_minute": 1}}},
        "sources": {"a": {}, "b": {}},
    })
    assert (await bench.decide("buy 1 BTCUSDT", source="a")).status is QUEUED
    verdict = await bench.decide("buy 1 BTCUSDT", source="b")
    assert verdict.rule == "plugins.paper.risk.max_signals_per_minute"


# 2026-11-23 is a Monday; New York is at UTC-5 then.
MONDAY_0930_NEW_YORK = 1_795_444_200.0


@pytest.mark.parametrize(
    ("offset", "status"),
    [(-1, REJECTED), (0, QUEUED), (6.5 * 3600 - 1, QUEUED), (6.5 * 3600, REJECTED)],
)
async def test_trading_hours(tmp_path: Path, offset: float, status: SignalStatus) -> None:
    hours = {"start": "09:30", "end": "16:00", "timezone": "America/New_York",
             "days": ["mon", "tue", "wed", "thu", "fri"]}
    bench = await bench_with(tmp_path, {"trading_hours": hours})
    bench.now = MONDAY_0930_NEW_YORK + offset
    verdict = await bench.decide("buy 1 ES")
    assert verdict.status is status
    if offset == -1:
        assert verdict.reason == (
            "sources.tv.risk.trading_hours: Mon 09:29:59 in America/New_York is outside the "
            "trading hours 09:30-16:00 America/New_York, mon, tue, wed, thu, fri"
        )


async def test_kill_switch_and_threshold_come_before_risk(tmp_path: Path) -> None:
    bench = await policy_bench(tmp_path, {"kill_switch": True,
                                          "sources": {"tv": {"risk": {"max_quantity": 1}}}})
    verdict = await bench.decide("buy 5 BTCUSDT")
    assert verdict.rule == "kill_switch"
    assert verdict.reason is not None and verdict.reason.startswith("kill_switch: engaged")
    low = await bench.decide("buy 5 BTCUSDT confidence 0.1")
    assert low.status is SignalStatus.FILTERED


@pytest.mark.parametrize(("confidence", "status"),
                         [(0.8, QUEUED), (0.81, QUEUED), (0.79, SignalStatus.FILTERED)])
async def test_per_source_threshold(tmp_path: Path, confidence: float,
                                    status: SignalStatus) -> None:
    bench = await policy_bench(tmp_path, {"sources": {"tv": {"confidence_threshold": 0.8},
                                                      "other": {}}})
    assert (await bench.decide(f"buy 1 ES confidence {confidence}")).status is status
    assert (await bench.decide("buy 1 ES confidence 0.6", source="other")).status is QUEUED


async def test_test_alert_passes_the_checks_but_is_not_queued(tmp_path: Path) -> None:
    bench = await bench_with(tmp_path, {"max_quantity": 10})
    body = '{"ticker": "ES", "action": "buy", "quantity": 1, "test": true}'
    verdict = await bench.decide(body)
    assert (verdict.status, verdict.rule) == (REJECTED, "test")


async def test_sizing_failure_is_a_rejection_naming_sizing(tmp_path: Path) -> None:
    bench = await policy_bench(tmp_path, {"sources": {"tv": {}}})
    body = '{"ticker": "ES", "action": "sell", "quantity": 50, "quantityType": ' \
           '"percent_of_position"}'
    verdict = await bench.decide(body)
    assert (verdict.status, verdict.rule) == (REJECTED, "sizing")
    assert verdict.reason == "sizing: 50% of the position: there is no open position"


async def test_sizing_note_says_where_the_quantity_came_from(tmp_path: Path) -> None:
    bench = await policy_bench(
        tmp_path, {"sources": {"tv": {"sizing": {"unit": "quote", "quantity": 500}}}}
    )
    verdict = await bench.decide("60123,buy,ETHUSDT")
    assert verdict.order.quantity == pytest.approx(500 / (2000 * 1.0001))
    assert verdict.sizing is not None
    assert verdict.sizing.startswith("500 quote / 2000.2 (ask from plugin 'paper')")
    assert verdict.sizing.endswith("(sources.tv.sizing.quantity)")
