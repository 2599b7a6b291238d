"""Bybit (unified account, USDT perpetuals) through ccxt against the fake Bybit: our id travels
as `orderLinkId`, but ccxt's lookup by client id cannot be trusted there (it raises, or reads
`list[0]` of a query with an empty order id), so the plugin claims no lookup: a doubtful send
goes to a person, and whatever such a lookup answers is checked against the id asked for."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import OutcomeUnknown
from plugins.orders import ExecutionStatus
from tests.fakes.bybit import FakeBybit
from tests.plugins.ccxt.support import SIGNAL_ID, bybit_config, order, started

pytestmark = pytest.mark.anyio

PERP = "BYBIT:BTCUSDT.P"
LOOKUPS_TRUSTING_CCXT = {"fetchOrder": {"acknowledged": True}}
"""ccxt's own option to silence its warning and query anyway."""


async def test_an_order_carries_the_signal_id_as_order_link_id(
    on_bybit: CcxtPlugin, fake_bybit: FakeBybit
) -> None:
    result = await on_bybit.execute_order(order(PERP))

    [placed] = fake_bybit.orders
    assert placed.order_link_id == SIGNAL_ID
    assert (placed.side, placed.order_type, placed.qty) == ("Buy", "Market", Decimal("0.01"))
    assert result.order_id == placed.order_id
    assert fake_bybit.position == Decimal("0.01")


async def test_a_filled_entry_is_reported_filled_though_create_answers_ids_only(
    on_bybit: CcxtPlugin, fake_bybit: FakeBybit
) -> None:
    result = await on_bybit.execute_order(order(PERP))

    assert result.status is ExecutionStatus.FILLED
    assert result.filled_quantity == pytest.approx(0.01)
    assert result.average_price == pytest.approx(60006)


async def test_ccxts_lookup_by_client_id_raises_so_it_is_unknown_not_absent(
    on_bybit: CcxtPlugin, fake_bybit: FakeBybit
) -> None:
    await on_bybit.execute_order(order(PERP))

    with pytest.raises(OutcomeUnknown, match="ArgumentsRequired"):
        await on_bybit.lookup_order(SIGNAL_ID, PERP)


async def test_a_lookup_answered_with_another_order_is_refused_not_taken_for_ours(
    fake_bybit: FakeBybit, credentials: None
) -> None:
    plugin = await started(bybit_config(fake_bybit, options=LOOKUPS_TRUSTING_CCXT))
    try:
        await plugin.execute_order(order(PERP))
        other = fake_bybit.place_by_hand("Buy", "0.005", "50000")  # open, so listed first

        with pytest.raises(OutcomeUnknown, match=f"order {other.order_id} carrying"):
            await plugin.lookup_order(SIGNAL_ID, PERP)
    finally:
        await plugin.close()
    *_, query = [q for q in fake_bybit.requests_to("/v5/order/realtime") if "orderId" in q]
    assert query["orderId"] == ""  # what ccxt sends for a lookup by client id


async def test_a_lookup_that_finds_nothing_on_bybit_is_no_proof_of_absence(
    fake_bybit: FakeBybit, credentials: None
) -> None:
    plugin = await started(bybit_config(fake_bybit, options=LOOKUPS_TRUSTING_CCXT))
    try:
        await plugin.execute_order(order(PERP))  # filled: not among the open orders listed

        with pytest.raises(OutcomeUnknown, match="proves nothing"):
            await plugin.lookup_order(SIGNAL_ID, PERP)
    finally:
        await plugin.close()


async def test_sending_a_signal_again_is_refused_as_a_duplicate_and_never_doubles(
    on_bybit: CcxtPlugin, fake_bybit: FakeBybit
) -> None:
    await on_bybit.execute_order(order(PERP))

    with pytest.raises(OutcomeUnknown):  # 110072, and the order cannot be looked up
        await on_bybit.execute_order(order(PERP))

    assert len(fake_bybit.orders) == 1
    assert fake_bybit.position == Decimal("0.01")


async def test_stop_loss_and_take_profit_travel_with_the_entry_as_the_positions(
    on_bybit: CcxtPlugin, fake_bybit: FakeBybit
) -> None:
    await on_bybit.execute_order(order(PERP, stop_loss=59000, take_profit=61000))

    [placed] = fake_bybit.orders
    assert (placed.request["stopLoss"], placed.request["takeProfit"]) == ("59000", "61000")
    assert fake_bybit.position_tpsl == {"stopLoss": "59000", "takeProfit": "61000"}


async def test_a_stop_entry_is_a_conditional_order_that_cancel_removes(
    on_bybit: CcxtPlugin, fake_bybit: FakeBybit
) -> None:
    await on_bybit.execute_order(order(PERP, order_type="stop", stop_price=61000))
    [conditional] = fake_bybit.orders
    assert conditional.status == "Untriggered"

    result = await on_bybit.execute_order(order(PERP, action="cancel", client_order_id="C" * 26))

    assert result.status is ExecutionStatus.CANCELLED
    assert conditional.status == "Cancelled"
    assert fake_bybit.move_price(Decimal(61500)) == []
