"""Perpetual swaps on a derivatives exchange (fake OKX, one-way mode): quantities in base currency
become contracts, brackets travel with the entry, close and reverse act on the position."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import OrderRejected, OutcomeUnknown, RateLimited
from plugins.orders import ExecutionStatus
from tests.fakes.okx import FakeOkx, OkxFailure
from tests.plugins.ccxt.support import SIGNAL_ID, okx_config, order, started

pytestmark = pytest.mark.anyio

PERP = "OKX:BTCUSDT.P"
INST = "BTC-USDT-SWAP"
"""0.01 BTC per contract."""


async def test_okx_declares_brackets_attached_to_the_entry(swaps: CcxtPlugin) -> None:
    assert swaps.capabilities.native_stop_loss_take_profit is True


async def test_open_long_sends_the_base_quantity_as_contracts(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    result = await swaps.execute_order(order(PERP, quantity=0.05))

    [placed] = fake_okx.orders
    assert placed.request["instId"] == INST
    assert (placed.request["side"], placed.request["ordType"]) == ("buy", "market")
    assert placed.request["sz"] == "5"
    assert placed.cl_ord_id == SIGNAL_ID
    assert result.status is ExecutionStatus.FILLED
    assert result.filled_quantity == pytest.approx(0.05)
    assert fake_okx.positions[INST] == 5


async def test_quantity_in_contracts_when_configured(fake_okx: FakeOkx, credentials: None) -> None:
    plugin = await started(okx_config(fake_okx, quantity_unit="contracts"))
    try:
        result = await plugin.execute_order(order(PERP, quantity=3))
    finally:
        await plugin.close()

    assert fake_okx.orders[0].request["sz"] == "3"
    assert result.filled_quantity == 3


async def test_contract_amount_is_truncated_to_the_lot(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await swaps.execute_order(order(PERP, quantity=0.012345))

    assert fake_okx.orders[0].request["sz"] == "1.23"


async def test_stop_loss_and_take_profit_travel_with_the_entry(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await swaps.execute_order(order(PERP, stop_loss=58000, take_profit=62000.05))

    [placed] = fake_okx.orders
    [attached] = placed.request["attachAlgoOrds"]
    assert float(attached["slTriggerPx"]) == 58000
    assert float(attached["tpTriggerPx"]) == 62000.1
    assert not [path for _, path, _ in fake_okx.requests if path == "/api/v5/trade/order-algo"]
    [oco] = fake_okx.algo_orders  # made by OKX from the attachment once the entry filled
    assert (oco["ordType"], oco["side"], oco["sz"]) == ("oco", "sell", "1")


async def test_limit_entry_with_a_bracket_is_accepted_where_brackets_attach(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    result = await swaps.execute_order(
        order(PERP, order_type="limit", price=59000, stop_loss=58000)
    )

    assert result.status is ExecutionStatus.PLACED
    assert float(fake_okx.orders[0].request["px"]) == 59000


async def test_close_flattens_the_position_with_a_reduce_only_order(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    fake_okx.positions[INST] = Decimal(5)

    result = await swaps.execute_order(order(PERP, action="close", side=None, quantity=None))

    [closing] = fake_okx.orders
    assert (closing.request["side"], closing.request["sz"]) == ("sell", "5")
    assert closing.request["reduceOnly"] is True
    assert closing.cl_ord_id == SIGNAL_ID
    assert result.filled_quantity == pytest.approx(0.05)
    assert fake_okx.positions[INST] == 0


async def test_close_of_a_short_buys_it_back(swaps: CcxtPlugin, fake_okx: FakeOkx) -> None:
    fake_okx.positions[INST] = Decimal(-3)

    await swaps.execute_order(order(PERP, action="close", side=None, quantity=None))

    assert (fake_okx.orders[0].request["side"], fake_okx.orders[0].request["sz"]) == ("buy", "3")
    assert fake_okx.positions[INST] == 0


async def test_partial_close_reduces_by_the_quantity(swaps: CcxtPlugin, fake_okx: FakeOkx) -> None:
    fake_okx.positions[INST] = Decimal(5)

    await swaps.execute_order(order(PERP, action="close", side=None, quantity=0.02))

    assert fake_okx.positions[INST] == 3


async def test_close_of_the_other_side_is_refused(swaps: CcxtPlugin, fake_okx: FakeOkx) -> None:
    fake_okx.positions[INST] = Decimal(5)

    with pytest.raises(OrderRejected, match="there is no open short position to close"):
        await swaps.execute_order(order(PERP, action="close", side="buy", quantity=None))

    assert fake_okx.orders == []


async def test_close_without_a_position_is_refused(swaps: CcxtPlugin, fake_okx: FakeOkx) -> None:
    with pytest.raises(OrderRejected, match=r"close BTC/USDT:USDT on okx: there is no open"):
        await swaps.execute_order(order(PERP, action="close", side=None, quantity=None))


async def test_reverse_flattens_and_opens_the_other_way_in_one_order(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    fake_okx.positions[INST] = Decimal(5)

    result = await swaps.execute_order(order(PERP, action="reverse", side="sell", quantity=0.02))

    [placed] = fake_okx.orders
    assert (placed.request["side"], placed.request["sz"]) == ("sell", "7")
    assert "reduceOnly" not in placed.request
    assert placed.cl_ord_id == SIGNAL_ID
    assert result.filled_quantity == pytest.approx(0.07)
    assert fake_okx.positions[INST] == -2


async def test_reverse_without_a_quantity_keeps_the_size(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    fake_okx.positions[INST] = Decimal(-4)

    await swaps.execute_order(order(PERP, action="reverse", side="buy", quantity=None))

    assert fake_okx.positions[INST] == 4


async def test_reverse_into_the_side_already_held_is_refused(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    fake_okx.positions[INST] = Decimal(5)

    with pytest.raises(OrderRejected, match=r"the position is already 0\.05"):
        await swaps.execute_order(order(PERP, action="reverse", side="buy"))


async def test_reverse_protects_the_new_position_with_one_oco_order(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    fake_okx.positions[INST] = Decimal(5)

    result = await swaps.execute_order(
        order(
            PERP, action="reverse", side="sell", quantity=0.02, stop_loss=61000, take_profit=59000
        )
    )

    assert result.error is None
    [oco] = fake_okx.algo_orders
    assert (oco["ordType"], oco["side"], oco["sz"], oco["reduceOnly"]) == ("oco", "buy", "2", True)
    assert (float(oco["slTriggerPx"]), float(oco["tpTriggerPx"])) == (61000, 59000)


async def test_a_resent_signal_returns_the_order_already_placed(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    first = await swaps.execute_order(order(PERP))

    again = await swaps.execute_order(order(PERP))

    assert len(fake_okx.orders) == 1
    assert again.order_id == first.order_id
    assert fake_okx.positions[INST] == 1


async def test_perpetual_mark_chooses_the_swap_over_the_spot_market(
    fake_okx: FakeOkx, credentials: None
) -> None:
    plugin = await started(okx_config(fake_okx, market_type="spot"))
    try:
        await plugin.execute_order(order("BTCUSDT.P"))
        await plugin.execute_order(order("BTCUSDT", client_order_id="01JDQ3F6Z8X2K9M4N7P5R0S1T3"))
    finally:
        await plugin.close()

    assert [o.inst_id for o in fake_okx.orders] == [INST, "BTC-USDT"]


async def test_cancel_cancels_the_open_orders_of_the_contract(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await swaps.execute_order(order(PERP, order_type="limit", price=50000))

    result = await swaps.execute_order(order(PERP, action="cancel", side=None, quantity=None))

    assert [o.state for o in fake_okx.orders] == ["canceled"]
    assert result.status is ExecutionStatus.CANCELLED


async def test_position_is_the_net_contracts_in_base_currency(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    fake_okx.positions[INST] = Decimal(-5)

    assert await swaps.fetch_position(PERP) == pytest.approx(-0.05)


async def test_flat_is_a_zero_position(swaps: CcxtPlugin) -> None:
    assert await swaps.fetch_position(PERP) == 0


async def test_balance_is_the_account_equity_in_usdt(swaps: CcxtPlugin) -> None:
    balance = await swaps.fetch_balance()

    assert (balance.currency, balance.equity) == ("USDT", 100000)


async def test_a_stop_entry_is_a_trigger_order_whose_lookup_needs_a_person(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    result = await swaps.execute_order(order(PERP, order_type="stop", stop_price=61000))

    [trigger] = fake_okx.algo_orders
    assert (trigger["ordType"], float(trigger["triggerPx"])) == ("trigger", 61000)
    assert result.status is ExecutionStatus.PLACED
    with pytest.raises(OutcomeUnknown, match="it is a trigger order"):
        await swaps.lookup_order(SIGNAL_ID)


async def test_a_rate_limited_order_is_retryable_and_places_nothing(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    fake_okx.fail_next(OkxFailure.RATE_LIMIT)

    with pytest.raises(RateLimited, match=r"buy 0\.01 BTC/USDT:USDT on okx"):
        await swaps.execute_order(order(PERP))

    assert fake_okx.orders == []
