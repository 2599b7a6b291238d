"""How long a signal may keep trying (its retry budget) and how old it may be when it is sent
(its max lag).

The budget is seconds of temporary failures, counted from a signal's first failed attempt,
without the time it waited while its plugin's circuit breaker was open: an outage that opens
the breaker costs no signal its budget, the signals wait for the plugin to come back. A signal
ends `failed` only once its budget is spent.

The max lag is measured from the moment a person approved the signal (approval queue), else
from the alert's own time when it carries one (TradingView's `{{timenow}}`, TradersPost's
`time`), else from the signal's receipt, and checked right before
each send: a signal older than it is never sent and ends `expired`. A source and a plugin may
each set one (the stricter applies), else `[execution] max_lag`, else the defaults below.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from plugins.orders import Order, OrderType
from webhook.execute.settings import ExecutionSettings, MaxLag

DEFAULT_MARKET_LAG = 300.0
"""A market order from an alert older than five minutes is not sent as if it were new."""
DEFAULT_RESTING_LAG = 3600.0
"""Limit and stop orders rest at the broker at their own price: they may wait longer."""


@dataclass(frozen=True)
class DeliveryLimits:
    """The budgets and max lags of every plugin and source, resolved from the configuration."""

    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    plugin_budgets: Mapping[str, float] = field(default_factory=dict)
    plugin_lags: Mapping[str, MaxLag] = field(default_factory=dict)
    source_lags: Mapping[str, MaxLag] = field(default_factory=dict)

    def retry_budget(self, plugin: str) -> float:
        return self.plugin_budgets.get(plugin, self.execution.retry_budget)

    def max_lag(self, order: Order, *, plugin: str, source: str | None) -> float:
        resting = order.order_type is not OrderType.MARKET
        chosen: list[float] = [
            value for lag in (self.plugin_lags.get(plugin), self.source_lags.get(source or ""))
            if lag is not None and (value := _of_kind(lag, resting)) is not None
        ]
        if chosen:
            return min(chosen)
        configured = _of_kind(self.execution.max_lag, resting)
        if configured is not None:
            return configured
        return DEFAULT_RESTING_LAG if resting else DEFAULT_MARKET_LAG

    def too_old(
        self, order: Order, *, plugin: str, source: str | None, received_at: float | None,
        now: float, approved_at: float | None = None,
    ) -> str | None:
        """Why the order must not be sent any more, or None while it is fresh enough."""
        if approved_at is not None:
            born, since = approved_at, "its approval"
        elif order.alert_time is not None:
            born, since = order.alert_time, "the alert's own time"
        elif received_at is not None:
            born, since = received_at, "its receipt"
        else:
            return None
        limit = self.max_lag(order, plugin=plugin, source=source)
        age = now - born
        if age <= limit:
            return None
        kind = "market" if order.order_type is OrderType.MARKET else order.order_type.value
        return (f"not sent: {age:.0f} s old from {since}, past the max lag of {limit:g} s for a "
                f"{kind} order; nothing reached the broker")


def _of_kind(lag: MaxLag, resting: bool) -> float | None:
    return lag.resting if resting else lag.market


class RetryBudget:
    """One signal's budget: charged with the time between its attempts, except the time spent
    waiting on an open breaker (`paused`)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._spent = 0.0
        self._since: float | None = None
        self.failures = 0

    @property
    def spent(self) -> float:
        running = 0.0 if self._since is None else self._clock() - self._since
        return self._spent + running

    @property
    def exhausted(self) -> bool:
        return self.failures > 0 and self.spent >= self.seconds

    @property
    def left(self) -> float:
        return max(0.0, self.seconds - self.spent)

    def failed(self, *, charge_from: float | None) -> None:
        """A temporary failure: the clock runs from the attempt's start (`charge_from`) on;
        None for a failure not charged (a breaker's probe)."""
        self.failures += 1
        if self._since is None and charge_from is not None:
            self._since = charge_from

    def pause(self) -> None:
        """Waiting on an open breaker: stop the clock."""
        if self._since is not None:
            self._spent += self._clock() - self._since
            self._since = None

    def resume(self) -> None:
        if self._since is None and self.failures > 0:
            self._since = self._clock()
