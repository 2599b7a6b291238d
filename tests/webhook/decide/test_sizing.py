"""Sizing with known prices: each unit, relative brackets, and plugins that cannot tell."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from plugins.base import ExecutionPlugin
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import AccountBalance, MarketData, Order
from plugins.registry import PluginRegistry
from webhook.decide.broker_lookup import BrokerLookup
from webhook.decide.quantities import PriceOffset, QuantityUnit, RelativeBracket
from webhook.decide.sizing import size_order
from webhook.errors import SizingError

pytestmark = pytest.mark.anyio
PRICE = 50_000.0  # mock quote: ask and bid are PRICE * (1 +/- 0.0001)
ASK, BID = PRICE * 1.0001, PRICE * 0.9999


async def paper(equity: float = 10_000.0) -> MockPlugin:
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig(delay_ms=0, prices={"BTCUSDT": PRICE}, equity=equity))
    return plugin


def order(**fields: Any) -> Order:
    return Order.model_validate({"symbol": "BTCUSDT", "side": "buy", "quantity": 1, **fields})


async def sized(
    the_order: Order,
    unit: QuantityUnit,
    plugin: ExecutionPlugin[Any] | None = None,
    bracket: RelativeBracket | None = None,
) -> tuple[Order, str | None]:
    registry = PluginRegistry()
    chosen = plugin or await paper()
    registry.register(chosen)
    facts = BrokerLookup(registry, chosen.name, "BTCUSDT", timeout=0.5)
    result = await size_order(the_order, unit, facts, bracket=bracket)
    return result.order, result.note


async def test_units_are_sent_as_they_are() -> None:
    result, note = await sized(order(quantity=0.25), QuantityUnit.UNITS)
    assert result.quantity == 0.25
    assert note == "0.25 units (the alert)"


async def test_quote_amount_is_divided_by_the_plugins_ask_to_buy() -> None:
    result, note = await sized(order(quantity=1000), QuantityUnit.QUOTE)
    assert result.quantity == pytest.approx(1000 / ASK)
    assert note is not None and "1000 quote / 50005" in note and "ask" in note


async def test_quote_amount_is_divided_by_the_bid_to_sell() -> None:
    result, _ = await sized(order(side="sell", quantity=1000), QuantityUnit.QUOTE)
    assert result.quantity == pytest.approx(1000 / BID)


async def test_quote_amount_of_a_limit_order_uses_the_limit_price() -> None:
    result, note = await sized(order(quantity=1000, order_type="limit", price=40_000),
                               QuantityUnit.QUOTE)
    assert result.quantity == 0.025
    assert note is not None and "limit price" in note


async def test_percent_of_equity() -> None:
    result, note = await sized(order(quantity=10, order_type="limit", price=40_000),
                               QuantityUnit.PERCENT_OF_EQUITY, await paper(equity=20_000))
    assert result.quantity == 0.05  # 10% of 20,000 = 2,000 at 40,000
    assert note is not None and "10% of equity 20000 USD = 2000 / 40000" in note


async def test_percent_of_position() -> None:
    plugin = await paper()
    await plugin.execute_order(order(quantity=4))
    result, note = await sized(order(action="close", side="sell", quantity=50),
                               QuantityUnit.PERCENT_OF_POSITION, plugin)
    assert result.quantity == 2
    assert note is not None and "50% of the position 4 = 2" in note


async def test_percent_of_no_position_is_refused() -> None:
    with pytest.raises(SizingError, match="no open position"):
        await sized(order(quantity=50), QuantityUnit.PERCENT_OF_POSITION)


async def test_risk_amount_over_the_stop_distance() -> None:
    the_order = order(quantity=100, order_type="limit", price=180, stop_loss=170)
    result, note = await sized(the_order, QuantityUnit.RISK_AMOUNT)
    assert result.quantity == 10
    assert note is not None and "stop-loss 170" in note


async def test_risk_percent_of_equity_over_the_stop_distance() -> None:
    the_order = order(quantity=1, order_type="limit", price=100, stop_loss=90)
    result, _ = await sized(the_order, QuantityUnit.RISK_PERCENT, await paper(equity=10_000))
    assert result.quantity == 10  # 1% of 10,000 = 100 risk, 10 per unit


async def test_risk_sizing_without_a_stop_loss_is_refused() -> None:
    with pytest.raises(SizingError, match="needs a stop-loss"):
        await sized(order(quantity=100), QuantityUnit.RISK_AMOUNT)


async def test_relative_bracket_is_measured_from_the_plugins_price() -> None:
    bracket = RelativeBracket(
        stop_loss=PriceOffset(field="sl_pct", percent=1),
        take_profit=PriceOffset(field="tp_pct", percent=2),
    )
    result, _ = await sized(order(), QuantityUnit.UNITS, bracket=bracket)
    assert result.stop_loss == pytest.approx(ASK * 0.99)
    assert result.take_profit == pytest.approx(ASK * 1.02)


async def test_close_without_quantity_needs_no_sizing() -> None:
    result, note = await sized(order(action="close", side=None, quantity=None), QuantityUnit.QUOTE)
    assert (result.quantity, note) == (None, None)


class Blind(MockPlugin):
    """A plugin that knows no balance, no positions and no prices."""

    async def fetch_balance(self) -> AccountBalance:
        return await ExecutionPlugin.fetch_balance(self)

    async def fetch_position(self, symbol: str) -> float:
        return await ExecutionPlugin.fetch_position(self, symbol)

    async def fetch_data(self, symbol: str) -> MarketData:
        raise RuntimeError("no market data here")


class Slow(MockPlugin):
    async def fetch_data(self, symbol: str) -> MarketData:
        await asyncio.sleep(5)
        raise AssertionError("never reached")


async def blind() -> Blind:
    plugin = Blind("blind")
    await plugin.init(MockConfig(delay_ms=0))
    return plugin


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        (QuantityUnit.PERCENT_OF_EQUITY, "could not report a price"),
        (QuantityUnit.PERCENT_OF_POSITION, "cannot report its position"),
    ],
)
async def test_plugin_that_cannot_tell_gives_a_reason(unit: QuantityUnit, message: str) -> None:
    with pytest.raises(SizingError, match=message):
        await sized(order(quantity=10), unit, await blind())


async def test_balance_unknown_is_a_reason() -> None:
    with pytest.raises(SizingError, match="'blind' cannot report its balance"):
        await sized(order(quantity=10, order_type="limit", price=5),
                    QuantityUnit.PERCENT_OF_EQUITY, await blind())


async def test_signal_price_stands_in_when_the_plugin_has_no_price() -> None:
    result, note = await sized(order(quantity=100, price=50), QuantityUnit.QUOTE, await blind())
    assert result.quantity == 2
    assert note is not None and "signal price" in note


async def test_slow_plugin_gives_up_within_the_timeout() -> None:
    plugin = Slow("slow")
    await plugin.init(MockConfig(delay_ms=0))
    with pytest.raises(SizingError, match="within 0.5 s"):
        await sized(order(quantity=100), QuantityUnit.QUOTE, plugin)


async def test_computed_bracket_on_the_wrong_side_is_refused() -> None:
    bracket = RelativeBracket(stop_loss=PriceOffset(field="stopLoss.percent", percent=150))
    with pytest.raises(SizingError):
        await sized(order(), QuantityUnit.UNITS, bracket=bracket)
