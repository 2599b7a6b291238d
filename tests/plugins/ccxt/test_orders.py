"""Each order type reaches the (fake) Binance spot exchange with the right parameters, rounded to
the market's precision, after the market's minimums were checked."""

from __future__ import annotations

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.ccxt.results import CcxtOrder
from plugins.errors import OrderRejected, UnknownSymbol
from plugins.orders import ExecutionStatus
from plugins.registry import PluginRegistry
from tests.fakes.binance import FakeBinance
from tests.plugins.ccxt.support import SIGNAL_ID, order

pytestmark = pytest.mark.anyio


async def test_market_buy_fills_and_carries_the_signal_id(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    result = await spot.execute_order(order())

    [placed] = fake_binance.orders
    assert placed.params["type"] == "MARKET"
    assert placed.params["side"] == "BUY"
    assert placed.params["quantity"] == "0.01"
    assert placed.params["newClientOrderId"] == SIGNAL_ID
    assert result.status is ExecutionStatus.FILLED
    assert result.order_id == str(placed.order_id)
    assert result.client_order_id == SIGNAL_ID
    assert result.filled_quantity == pytest.approx(0.01)
    assert result.average_price == pytest.approx(60006.0)
    # Binance charged 0.1% of the BTC bought (its fills' commission), valued at the fill price;
    # the tick is the market's PRICE_FILTER tickSize.
    assert result.fee == pytest.approx(0.01 * 0.001 * 60006.0)
    assert result.price_tick == pytest.approx(0.01)


async def test_market_order_sends_no_price_so_binance_reads_the_quantity_as_base(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order(price=60000))

    [placed] = fake_binance.orders
    assert "price" not in placed.params
    assert "quoteOrderQty" not in placed.params


async def test_market_sell(spot: CcxtPlugin, fake_binance: FakeBinance) -> None:
    result = await spot.execute_order(order(side="sell"))

    assert fake_binance.orders[0].params["side"] == "SELL"
    assert result.average_price == pytest.approx(59994.0)
    assert result.fee == pytest.approx(0.01 * 59994.0 * 0.001)  # charged in USDT


async def test_limit_order_rests_with_its_price(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    result = await spot.execute_order(order(order_type="limit", price=59000))

    [placed] = fake_binance.orders
    assert placed.params["type"] == "LIMIT"
    assert placed.params["timeInForce"] == "GTC"
    assert float(placed.params["price"]) == 59000
    assert result.status is ExecutionStatus.PLACED
    assert result.filled_quantity == 0


async def test_stop_order_is_a_stop_loss_with_its_trigger(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    result = await spot.execute_order(order(order_type="stop", stop_price=61000))

    [placed] = fake_binance.orders
    assert placed.params["type"] == "STOP_LOSS"
    assert float(placed.params["stopPrice"]) == 61000
    assert "price" not in placed.params
    assert result.status is ExecutionStatus.PLACED


async def test_stop_limit_order_carries_both_prices(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order(order_type="stop_limit", stop_price=61000, price=61100))

    [placed] = fake_binance.orders
    assert placed.params["type"] == "STOP_LOSS_LIMIT"
    assert float(placed.params["stopPrice"]) == 61000
    assert float(placed.params["price"]) == 61100


async def test_quantity_is_truncated_to_the_lot_step(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order(quantity=0.0123456789))

    assert fake_binance.orders[0].params["quantity"] == "0.01234"


async def test_price_is_rounded_to_the_tick(spot: CcxtPlugin, fake_binance: FakeBinance) -> None:
    await spot.execute_order(order(order_type="limit", price=59000.126))

    assert fake_binance.orders[0].params["price"] == "59000.13"


async def test_amount_below_the_minimum_is_refused_with_the_numbers(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(
        OrderRejected, match=r"amount 0\.0005 ETH is below ETH/USDT's minimum of 0\.001"
    ):
        await spot.execute_order(order("ETHUSDT", quantity=0.0005))

    assert fake_binance.requests_to("POST", "/api/v3/order") == []


async def test_amount_below_the_lot_step_is_refused(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(OrderRejected, match=r"buy 0\.000001 BTC/USDT .*amount step"):
        await spot.execute_order(order(quantity=0.000001))

    assert fake_binance.requests_to("POST", "/api/v3/order") == []


async def test_market_order_value_below_the_minimum_is_refused_at_the_current_ask(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(
        OrderRejected,
        match=r"order value 3\.0003 USDT \(0\.00005 BTC at 60006\) is below BTC/USDT's minimum "
        r"of 5 USDT",
    ):
        await spot.execute_order(order(quantity=0.00005))

    assert fake_binance.requests_to("POST", "/api/v3/order") == []


async def test_limit_order_value_is_checked_at_its_own_price(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(OrderRejected, match=r"order value 4 USDT \(0\.0001 BTC at 40000\)"):
        await spot.execute_order(order(quantity=0.0001, order_type="limit", price=40000))

    assert fake_binance.requests_to("POST", "/api/v3/order") == []
    assert fake_binance.requests_to("GET", "/api/v3/ticker/24hr") == []


async def test_unknown_symbol_is_refused_naming_it(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(
        UnknownSymbol, match=r"^buy 0\.01 DOGEUSDT: unknown symbol 'DOGEUSDT' on binance"
    ):
        await spot.execute_order(order("DOGEUSDT"))

    assert fake_binance.requests_to("POST", "/api/v3/order") == []


async def test_unknown_symbol_becomes_a_rejected_result_in_the_registry(spot: CcxtPlugin) -> None:
    registry = PluginRegistry()
    registry.register(spot)

    result = await registry.execute_order(order("DOGEUSDT"))

    assert result.status is ExecutionStatus.REJECTED and not result.success
    assert result.error is not None and "unknown symbol 'DOGEUSDT'" in result.error
    assert result.client_order_id == SIGNAL_ID


@pytest.mark.parametrize(
    "symbol", ["BINANCE:BTCUSDT", "BTCUSDT", "BTC/USDT", "btcusdt", "BTC-USDT"]
)
async def test_alert_symbols_resolve_to_the_exchange_market(
    spot: CcxtPlugin, fake_binance: FakeBinance, symbol: str
) -> None:
    await spot.execute_order(order(symbol))

    assert fake_binance.orders[0].params["symbol"] == "BTCUSDT"


async def test_fetch_data_returns_the_ticker(spot: CcxtPlugin) -> None:
    quote = await spot.fetch_data("BINANCE:ETHUSDT")

    assert quote.symbol == "ETH/USDT"
    assert (quote.bid, quote.ask, quote.last) == (2999.7, 3000.3, 3000.0)
    assert quote.volume == 1234.5


async def test_health_check_asks_the_exchange_time(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    assert await spot.health_check()
    assert fake_binance.requests_to("GET", "/api/v3/time")


async def test_health_check_is_false_when_the_exchange_is_gone(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.stop()

    assert not await spot.health_check()


@pytest.mark.parametrize("time_in_force", ["ioc", "fok", "gtc"])
async def test_limit_order_carries_its_time_in_force(
    spot: CcxtPlugin, fake_binance: FakeBinance, time_in_force: str
) -> None:
    await spot.execute_order(order(order_type="limit", price=59000, time_in_force=time_in_force))

    assert fake_binance.orders[0].params["timeInForce"] == time_in_force.upper()


async def test_a_time_in_force_the_exchange_lacks_is_refused(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(OrderRejected, match=r"time in force 'day' is not available for limit"):
        await spot.execute_order(order(order_type="limit", price=59000, time_in_force="day"))

    assert fake_binance.orders == []


async def test_market_order_sends_no_time_in_force(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order(time_in_force="ioc"))

    assert "timeInForce" not in fake_binance.orders[0].params


async def test_balance_is_the_total_in_the_balance_currency(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(
        order("ETHUSDT", side="sell", quantity=1, order_type="limit", price=3500)
    )
    await spot.execute_order(
        order(
            "BTCUSDT",
            side="buy",
            quantity=0.1,
            order_type="limit",
            price=50000,
            client_order_id="01JDQ3F6Z8X2K9M4N7P5R0S1T3",
        )
    )

    balance = await spot.fetch_balance()

    assert (balance.currency, balance.equity, balance.free) == ("USDT", 100000, 95000)


async def test_spot_position_is_the_base_currency_held(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(
        order("ETHUSDT", side="sell", quantity=1, order_type="limit", price=3500)
    )

    assert await spot.fetch_position("ETHUSDT") == 10


def test_a_fee_in_a_third_currency_is_unknown_rather_than_left_out() -> None:
    market = {"symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "settle": None}
    fees = [{"cost": 0.5, "currency": "USDT"}, {"cost": 0.001, "currency": "BNB"}]
    entry = CcxtOrder.parse({"id": "1", "status": "closed", "filled": 0.01, "average": 60000,
                             "fees": fees})
    assert entry.fee_in_quote(market) is None
    assert CcxtOrder.parse({"fees": fees[:1], "average": 1}).fee_in_quote(market) == 0.5
    assert CcxtOrder.parse({"fees": [], "average": 1}).fee_in_quote(market) is None
