"""The `[execution]` table: retries, concurrency, leases and circuit breakers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class ExecutionSettings(BaseModel):
    """`[execution]`: how stored signals are executed, retried and leased."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    """Tries per signal for temporary broker failures."""
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
    breaker_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    """Consecutive failed attempts on one plugin that open its circuit breaker."""
    breaker_cooldown: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """Seconds an open breaker waits before letting one attempt through again."""
