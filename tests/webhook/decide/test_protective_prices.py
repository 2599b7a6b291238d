"""Stops, targets and pending entries placed and checked against the market before sizing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plugins.errors import NotSupported, TemporaryError
from plugins.orders import MarketData, OrderType
from tests.webhook.decide.policy_helpers import PolicyBench, policy_bench
from webhook.errors import PayloadError
from webhook.journal import SignalStatus

pytestmark = pytest.mark.anyio
LICENSE = "60123456789"
SAMPLE = f"{LICENSE},sell,GBPJPY,sl=50,risk=1"
"""PineConnector's own documented example (docs.pineconnector.com/syntax)."""
PAPER = {"type": "mock", "slippage": 0, "prices": {"GBPJPY": 190.0, "EURUSD": 1.085,
                                                    "BTCUSDT": 50_000.0, "USDJPY": 150.0},
         "symbol_specs": {"GBPJPY": {"digits": 3},
                          "EURUSD": {"digits": 5, "contract_size": 100_000, "tick_value": 1},
                          "USDJPY": {"digits": 3, "quantity_in_base": False}}}


async def bench_for(tmp_path: Path, **source: Any) -> PolicyBench:
    return await policy_bench(tmp_path, {"plugins": {"paper": PAPER},
                                         "sources": {"pc": source}})


async def refused(bench: PolicyBench, body: str, source: str = "pc") -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        await bench.decide(body, source)
    return caught.value


async def test_documented_sample_read_as_prices_is_refused_naming_sl_and_the_setting(
    tmp_path: Path,
) -> None:
    bench = await bench_for(tmp_path)
    error = await refused(bench, SAMPLE)
    assert error.field == "sl"
    assert "stop-loss 50 must be above the market price 190 (bid from plugin 'paper')" in str(
        error)
    assert 'sources.pc.pineconnector.target_type = "pips"' in str(error)


@pytest.mark.parametrize(
    ("target_type", "stop_loss"),
    [("pips", 190.5), ("percent", 285.0)],  # 50 pips of 0.01 above; 50% above
)
async def test_documented_sample_with_each_target_type_puts_the_stop_where_the_ea_would(
    tmp_path: Path, target_type: str, stop_loss: float
) -> None:
    bench = await bench_for(tmp_path, pineconnector={"target_type": target_type},
                            protective_prices={"max_distance_percent": 60})
    verdict = await bench.decide(SAMPLE, "pc")
    assert verdict.status is SignalStatus.QUEUED, verdict.reason
    assert verdict.order.stop_loss == pytest.approx(stop_loss)


async def test_pips_on_a_five_digit_pair_are_ten_points(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path, pineconnector={"target_type": "pips"})
    verdict = await bench.decide(f"{LICENSE},buy,EURUSD,risk=1,sl=12,tp=24", "pc")
    assert (verdict.order.stop_loss, verdict.order.take_profit) == (
        pytest.approx(1.0838), pytest.approx(1.0874))


async def test_pips_on_a_symbol_without_specs_are_rejected_naming_the_setting(
    tmp_path: Path,
) -> None:
    bench = await bench_for(tmp_path, pineconnector={"target_type": "pips"})
    verdict = await bench.decide(f"{LICENSE},buy,BTCUSDT,risk=1,sl=50", "pc")
    assert (verdict.status, verdict.rule) == (SignalStatus.REJECTED, "protective_prices")
    assert "plugins.paper.symbol_specs.BTCUSDT" in (verdict.reason or "")


@pytest.mark.parametrize(
    ("command", "order_type", "entry"),
    [("buylimit", OrderType.LIMIT, 189.8), ("sellstop", OrderType.STOP, 189.8),
     ("buystop", OrderType.STOP, 190.2), ("selllimit", OrderType.LIMIT, 190.2)],
)
async def test_pending_entry_in_pips_is_placed_from_the_market(
    tmp_path: Path, command: str, order_type: OrderType, entry: float
) -> None:
    bench = await bench_for(tmp_path, pineconnector={"pending_entry": "pips",
                                                     "target_type": "pips"})
    verdict = await bench.decide(f"{LICENSE},{command},GBPJPY,risk=1,price=20,sl=30", "pc")
    order = verdict.order
    assert (verdict.status, order.order_type) == (SignalStatus.QUEUED, order_type)
    assert order.entry_price == pytest.approx(entry)
    buying = command.startswith("buy")
    assert order.stop_loss == pytest.approx(entry - 0.3 if buying else entry + 0.3)


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ("buy 1 BTCUSDT sl 51000", "stop_loss", "must be below the market price 50000"),
        ("sell 1 BTCUSDT tp 51000", "take_profit", "must be below the market price 50000"),
        ("buy 1 BTCUSDT sl 1000", "stop_loss", "98% away from the market price 50000"),
        ("buy 1 BTCUSDT stop 49000", "stop_price", "would trigger at once"),
        ("buy 1 BTCUSDT limit 20000", "price", "60% away from the market price 50000"),
        ("buy 1 BTCUSDT limit 49000 tp 90000", "take_profit", "83.7% away from the entry 49000"),
    ],
)
async def test_a_price_on_the_wrong_side_or_implausibly_far_is_refused(
    tmp_path: Path, body: str, field: str, says: str
) -> None:
    bench = await bench_for(tmp_path)
    error = await refused(bench, body, "tv")
    assert error.field == field
    assert says in str(error)


async def test_the_bound_is_a_setting(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path, protective_prices={"max_distance_percent": 99})
    verdict = await bench.decide("buy 1 BTCUSDT sl 1000", "pc")
    assert verdict.status is SignalStatus.QUEUED


async def test_the_alerts_own_price_is_the_market_it_is_checked_against(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path)  # the plugin says 50000; the alert saw 51000
    assert (await bench.decide("buy 1 BTCUSDT price 51000 sl 50500", "tv")).status is (
        SignalStatus.QUEUED)
    assert (await refused(bench, "buy 1 BTCUSDT price 51000 sl 51500", "tv")).field == (
        "stop_loss")


async def test_relative_stops_farther_than_the_bound_are_refused(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path)
    error = await refused(bench, f"{LICENSE},buy,EURUSD,risk=1,sl_pct=70")
    assert error.field == "sl_pct"


async def test_a_limit_beyond_the_market_is_a_marketable_limit_and_allowed(
    tmp_path: Path,
) -> None:
    bench = await bench_for(tmp_path)
    assert (await bench.decide("buy 1 BTCUSDT limit 50100 sl 49000", "tv")).status is (
        SignalStatus.QUEUED)


async def test_paper_trading_a_symbol_without_a_price_is_not_checked_against_a_made_up_one(
    tmp_path: Path,
) -> None:
    bench = await bench_for(tmp_path)  # the paper account knows no price for NVDA
    for body in ("buy 1 NVDA limit 180", "buy 1 NVDA limit 180 sl 170", "buy 1 NVDA sl 170"):
        assert (await bench.decide(body, "tv")).status is SignalStatus.QUEUED, body
    assert (await refused(bench, "buy 1 NVDA limit 180 sl 190", "tv")).field == "stop_loss"


async def bench_whose_quotes_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> PolicyBench:
    bench = await bench_for(tmp_path)

    async def no_quote(symbol: str) -> MarketData:
        raise error

    monkeypatch.setattr(bench.paper(), "fetch_data", no_quote)
    return bench


async def test_a_plugin_that_cannot_quote_gets_only_the_checks_against_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = await bench_whose_quotes_raise(tmp_path, monkeypatch,
                                           NotSupported("quotes need the DLL"))
    assert (await bench.decide("buy 1 BTCUSDT limit 20000 sl 19000", "tv")).status is (
        SignalStatus.QUEUED)  # 60% from a market nobody can tell
    assert (await refused(bench, "buy 1 BTCUSDT limit 20000 tp 90000", "tv")).field == (
        "take_profit")


async def test_a_failed_quote_rejects_rather_than_sends_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = await bench_whose_quotes_raise(tmp_path, monkeypatch,
                                           TemporaryError("the terminal is reconnecting"))
    verdict = await bench.decide("buy 1 BTCUSDT sl 49000", "tv")
    assert (verdict.status, verdict.rule) == (SignalStatus.REJECTED, "protective_prices")
    assert "reconnecting" in (verdict.reason or "")


async def test_vol_dollar_is_sized_with_the_brokers_tick_value_per_lot(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path)
    verdict = await bench.decide(f"{LICENSE},sell,EURUSD,vol_dollar=50,sl_pips=20", "pc")
    assert verdict.status is SignalStatus.QUEUED, verdict.reason
    assert verdict.order.quantity == pytest.approx(0.25)  # 20 pips = 200 ticks of $1 per lot
    assert "tick value 1" in (verdict.sizing or "")


async def test_without_a_tick_value_the_risk_is_per_unit_of_the_base(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path, sizing={"unit": "risk_amount"})
    verdict = await bench.decide(f"{LICENSE},sell,GBPJPY,risk=50,sl_price=190.2", "pc")
    assert verdict.order.quantity == pytest.approx(250)  # 50 / 0.2


async def test_risk_in_lots_without_a_tick_value_is_refused_not_guessed(tmp_path: Path) -> None:
    # Dividing the money at risk by the stop's distance counts units of the asset; for lots or
    # contracts it would be off by the contract's size (50 times on an E-mini).
    bench = await bench_for(tmp_path, sizing={"unit": "risk_amount"})
    verdict = await bench.decide(f"{LICENSE},sell,USDJPY,risk=50,sl_price=150.2", "pc")
    assert (verdict.status, verdict.rule) == (SignalStatus.REJECTED, "sizing")
    assert "what one tick of USDJPY is worth per lot or contract" in (verdict.reason or "")
