"""The retry budget and the max lag, on their own (a hand-turned clock, no sleeping)."""

from __future__ import annotations

import pytest

from plugins.orders import Order
from webhook.execute.deadlines import (
    DEFAULT_MARKET_LAG,
    DEFAULT_RESTING_LAG,
    DeliveryLimits,
    RetryBudget,
)
from webhook.execute.settings import ExecutionSettings, MaxLag

MARKET = Order(symbol="BTC/USDT", side="buy", quantity=1)
LIMIT = Order(symbol="BTC/USDT", side="buy", quantity=1, order_type="limit", price=100)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_runs_from_the_first_failure_and_not_before() -> None:
    clock = Clock()
    budget = RetryBudget(10, clock)
    clock.now += 50  # queued behind others: not trying, not spending
    assert budget.spent == 0 and not budget.exhausted
    budget.failed(charge_from=clock.now)
    clock.now += 9.9
    assert not budget.exhausted
    clock.now += 0.1
    assert budget.exhausted


def test_budget_stands_still_while_paused_on_an_open_breaker() -> None:
    clock = Clock()
    budget = RetryBudget(10, clock)
    budget.failed(charge_from=clock.now)
    clock.now += 4
    budget.pause()
    clock.now += 600  # the breaker was open for ten minutes
    budget.resume()
    clock.now += 1
    assert budget.spent == pytest.approx(5)
    assert budget.left == pytest.approx(5)


def test_a_failed_probe_is_counted_but_not_charged() -> None:
    clock = Clock()
    budget = RetryBudget(10, clock)
    budget.failed(charge_from=None)  # the half-open breaker's probe
    clock.now += 60
    assert budget.failures == 1
    assert budget.spent == 0 and not budget.exhausted


def test_defaults_are_separate_for_market_and_resting_orders() -> None:
    limits = DeliveryLimits()
    assert limits.max_lag(MARKET, plugin="p", source="s") == DEFAULT_MARKET_LAG
    assert limits.max_lag(LIMIT, plugin="p", source="s") == DEFAULT_RESTING_LAG


def test_the_stricter_of_source_and_plugin_wins_then_execution() -> None:
    limits = DeliveryLimits(
        ExecutionSettings(max_lag=MaxLag(market=120)),
        plugin_lags={"desk": MaxLag(market=30)},
        source_lags={"tv": MaxLag(market=60, resting=900)},
    )
    assert limits.max_lag(MARKET, plugin="desk", source="tv") == 30
    assert limits.max_lag(MARKET, plugin="other", source="tv") == 60
    assert limits.max_lag(MARKET, plugin="other", source="agent") == 120
    assert limits.max_lag(LIMIT, plugin="desk", source="tv") == 900
    assert limits.max_lag(LIMIT, plugin="desk", source="agent") == DEFAULT_RESTING_LAG


def test_age_counts_from_the_alerts_own_time_when_it_has_one() -> None:
    limits = DeliveryLimits(ExecutionSettings(max_lag=MaxLag(market=60)))
    stamped = MARKET.model_copy(update={"alert_time": 1000.0})
    fresh_receipt = 1100.0
    reason = limits.too_old(stamped, plugin="p", source="s", received_at=fresh_receipt,
                            now=1100.0)
    assert reason is not None
    assert "100 s old from the alert's own time" in reason
    assert "max lag of 60 s for a market order" in reason
    assert limits.too_old(MARKET, plugin="p", source="s", received_at=fresh_receipt,
                          now=1100.0) is None


def test_age_of_an_approved_signal_counts_from_its_approval() -> None:
    limits = DeliveryLimits(ExecutionSettings(max_lag=MaxLag(market=60)))
    stamped = MARKET.model_copy(update={"alert_time": 1000.0})  # waited 4 minutes for a person
    assert limits.too_old(stamped, plugin="p", source="s", received_at=1000.0,
                          approved_at=1240.0, now=1250.0) is None
    reason = limits.too_old(stamped, plugin="p", source="s", received_at=1000.0,
                            approved_at=1240.0, now=1301.0)
    assert reason is not None and "61 s old from its approval" in reason


def test_age_counts_from_receipt_otherwise() -> None:
    limits = DeliveryLimits(ExecutionSettings(max_lag=MaxLag(resting=60)))
    assert limits.too_old(LIMIT, plugin="p", source="s", received_at=0.0, now=60.0) is None
    reason = limits.too_old(LIMIT, plugin="p", source="s", received_at=0.0, now=61.0)
    assert reason is not None and "61 s old from its receipt" in reason
    assert "for a limit order" in reason


def test_a_plugin_may_have_its_own_budget() -> None:
    limits = DeliveryLimits(ExecutionSettings(retry_budget=120), plugin_budgets={"mt5": 600})
    assert limits.retry_budget("mt5") == 600
    assert limits.retry_budget("ccxt") == 120


def test_max_attempts_is_still_accepted_from_old_files() -> None:
    settings = ExecutionSettings.model_validate({"max_attempts": 5})
    assert settings.retry_budget == 120
