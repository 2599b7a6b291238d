"""The alert's own time, from which its staleness is measured: TradingView's `timenow` and
TradersPost's `time`, as ISO 8601 or unix seconds or milliseconds."""

from __future__ import annotations

import pytest

from webhook.dialects.traderspost import parse_traderspost
from webhook.dialects.tradingview import parse_tradingview
from webhook.errors import PayloadError

TV = {"ticker": "BTCUSDT", "action": "buy", "contracts": "1"}
TP = {"ticker": "AAPL", "action": "buy", "quantity": 1}
NOON = 1796126400.0  # 2026-12-01T12:00:00Z


@pytest.mark.parametrize("written", ["2026-12-01T12:00:00Z", "2026-12-01T12:00:00",
                                     "2026-12-01T13:00:00+01:00", NOON, str(int(NOON)),
                                     NOON * 1000])
def test_timenow_is_the_tradingview_alerts_own_time(written: object) -> None:
    order = parse_tradingview({**TV, "timenow": written}).order
    assert order.alert_time == NOON


def test_time_is_not_taken_for_it_since_it_is_often_the_bars_opening() -> None:
    order = parse_tradingview({**TV, "time": "2026-12-01T00:00:00Z"}).order
    assert order.alert_time is None


def test_traderspost_time_is_its_alerts_own_time() -> None:
    assert parse_traderspost({**TP, "time": "2026-12-01T12:00:00Z"}).order.alert_time == NOON
    assert parse_traderspost(TP).order.alert_time is None


@pytest.mark.parametrize("written", ["yesterday", "0", -5, True])
def test_a_time_that_is_no_time_names_the_field(written: object) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_tradingview({**TV, "timenow": written})
    assert caught.value.field == "timenow"
