"""The `[execution]` table: retry budget, staleness, concurrency, leases and circuit breakers."""

from __future__ import annotations

import logging
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

logger = logging.getLogger("tradehook.config")
Seconds = Annotated[float, Field(gt=0, le=7 * 24 * 3600, allow_inf_nan=False)]
DEFAULT_RETRY_BUDGET = 120.0
"""Long enough to ride out a restart of an exchange's edge or of a terminal."""


class MaxLag(BaseModel):
    """`max_lag = { market = 300, resting = 3600 }`: the oldest a signal may be when it is sent,
    in seconds from the alert's own time (else from its receipt). Market orders are what the
    first key bounds; limit, stop and stop-limit orders (they rest at the broker), the second.
    Unset keys fall back to the next level: source or plugin, then `[execution]`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    market: Seconds | None = None
    resting: Seconds | None = None


class ExecutionSettings(BaseModel):
    """`[execution]`: how stored signals are executed, retried and leased."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    retry_budget: Seconds = DEFAULT_RETRY_BUDGET
    """Seconds of temporary failures a signal may ride out before it ends `failed`. Time spent
    waiting while its plugin's circuit breaker is open does not count; a `[plugins.NAME]`
    table may set its own."""
    max_lag: MaxLag = MaxLag()
    """How old a signal may be when it is sent (default: 300 s for market orders, 3600 s for
    resting ones); past it, it ends `expired`, unsent."""
    max_attempts: Annotated[int, Field(ge=1, le=100)] | None = None
    """Deprecated and ignored: retries are bounded by `retry_budget`, in seconds."""
    retry_base_delay: Annotated[float, Field(gt=0, le=60)] = 0.5
    retry_max_delay: Annotated[float, Field(gt=0, le=3600)] = 30.0
    concurrency: Annotated[int, Field(ge=1, le=1000)] = 32
    """Signals executed at once (never two for the same plugin and symbol)."""
    enabled: bool = True
    """False for a receiver that only stores signals, leaving execution to other instances
    that share its journal."""
    instance: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    """This executor's name in the journal's leases (default: host name and port). A restart
    under the same name takes its signals back at once; two running executors need two names."""
    lease_seconds: Annotated[float, Field(ge=1, le=3600)] = 30.0
    """How long a claim on a signal lasts without renewal; after a crash, another executor
    takes the signal over this long after the last renewal."""
    poll_interval: Annotated[float, Field(gt=0, le=60)] = 1.0
    """How often to look for signals that other receivers stored or crashed executors left."""
    exits_interval: Annotated[float, Field(ge=0.05, le=3600)] = 1.0
    """How often, in seconds, managed exits (trailing stops, break-even, take-profit ladders)
    ask each plugin for the price of each symbol with an active exit plan."""
    breaker_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    """Consecutive failed attempts on one plugin that open its circuit breaker."""
    breaker_cooldown: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """Seconds an open breaker waits before letting one probe request through."""

    @field_validator("max_attempts")
    @classmethod
    def _warn_deprecated(cls, value: int | None) -> int | None:
        if value is not None:
            logger.warning("execution.max_attempts is deprecated and ignored: temporary failures "
                           "are retried for execution.retry_budget seconds")
        return value
