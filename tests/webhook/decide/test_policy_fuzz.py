"""Whatever an alert asks for, the policy ends in a verdict (or the alert is invalid)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.webhook.decide.policy_helpers import policy_bench
from webhook.errors import PayloadError
from webhook.journal import SignalStatus

NUMBERS = st.one_of(st.floats(min_value=1e-12, max_value=1e300), st.integers(1, 10**12))
ALERTS = st.fixed_dictionaries(
    {"ticker": st.sampled_from(["BTCUSDT", "ETHUSDT", "ES", "NEW"]),
     "action": st.sampled_from(["buy", "sell", "exit", "add"]),
     "quantity": NUMBERS},
    optional={
        "sentiment": st.sampled_from(["long", "short", "flat"]),
        "quantityType": st.sampled_from(["fixed_quantity", "dollar_amount", "percent_of_equity",
                                         "percent_of_position", "risk_dollar_amount",
                                         "risk_percent"]),
        "limitPrice": NUMBERS,
        "takeProfit": st.fixed_dictionaries({"percent": NUMBERS}),
        "stopLoss": st.fixed_dictionaries({"amount": NUMBERS}),
    },
)
CONFIG = {"sources": {"tv": {"risk": {"max_notional": 1e6, "max_position": 100}}}}


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ALERTS)
def test_any_traderspost_alert_gets_a_verdict(tmp_path: Path, alert: dict[str, object]) -> None:
    async def decide() -> None:
        bench = await policy_bench(tmp_path, CONFIG)
        try:
            verdict = await bench.decide(json.dumps(alert))
        except PayloadError as exc:
            assert exc.field
            return
        assert verdict.status in (SignalStatus.QUEUED, SignalStatus.REJECTED)
        if verdict.status is SignalStatus.REJECTED:
            assert verdict.rule and verdict.reason

    asyncio.run(decide())
