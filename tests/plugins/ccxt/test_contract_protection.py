"""Protective orders on contract markets (fake OKX): the stop-loss and take-profit of a position
cancel each other, and closing, reversing or cancelling removes them, so that they never act on
the next position; contract sizes are divided exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import OutcomeUnknown
from tests.fakes.okx import FakeOkx
from tests.plugins.ccxt.support import SIGNAL_ID, okx_config, order, started

pytestmark = pytest.mark.anyio

PERP = "OKX:BTCUSDT.P"
INST = "BTC-USDT-SWAP"


def live(fake: FakeOkx) -> list[dict[str, object]]:
    return [a for a in fake.algo_orders if a["state"] == "live"]


async def short_with_bracket(plugin: CcxtPlugin, fake: FakeOkx) -> None:
    """Reverse a 5-contract long into a 2-contract short with SL 61000 and TP 59000."""
    fake.positions[INST] = Decimal(5)
    reverse = order(
        PERP, action="reverse", side="sell", quantity=0.02, stop_loss=61000, take_profit=59000
    )
    result = await plugin.execute_order(reverse)
    assert result.error is None


async def test_the_take_profit_triggering_leaves_no_stop_loss_behind(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await short_with_bracket(swaps, fake_okx)

    triggered = fake_okx.move_price(INST, Decimal(58900))

    assert len(triggered) == 1
    assert fake_okx.positions[INST] == 0
    assert live(fake_okx) == []


async def test_close_cancels_the_positions_stop_loss_and_take_profit(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await short_with_bracket(swaps, fake_okx)

    close = order(PERP, action="close", quantity=None, client_order_id="C" * 26)
    result = await swaps.execute_order(close)

    assert result.error is None
    assert fake_okx.positions[INST] == 0
    assert live(fake_okx) == []
    fake_okx.positions[INST] = Decimal(-3)  # a later short is not closed by the old bracket
    assert fake_okx.move_price(INST, Decimal(58900)) == []


async def test_reverse_cancels_the_old_positions_protection(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await short_with_bracket(swaps, fake_okx)

    reverse = order(PERP, action="reverse", side="buy", quantity=None, client_order_id="R" * 26)
    await swaps.execute_order(reverse)

    assert live(fake_okx) == []
    assert fake_okx.positions[INST] == 2


async def test_cancel_cancels_trigger_orders_too(swaps: CcxtPlugin, fake_okx: FakeOkx) -> None:
    await short_with_bracket(swaps, fake_okx)

    await swaps.execute_order(order(PERP, action="cancel", side=None, client_order_id="X" * 26))

    assert live(fake_okx) == []


async def test_a_base_quantity_becomes_exactly_its_contracts(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await swaps.execute_order(order(PERP, quantity=0.58))  # 0.58 / 0.01 is 57.99999 in floats

    assert fake_okx.orders[0].request["sz"] == "58"


async def test_a_spot_stop_entry_on_okx_is_a_trigger_order_a_lookup_cannot_see(
    fake_okx: FakeOkx, credentials: None
) -> None:
    plugin = await started(okx_config(fake_okx, market_type="spot"))
    try:
        await plugin.execute_order(order("BTC/USDT", order_type="stop", stop_price=61000))
        with pytest.raises(OutcomeUnknown, match="it is a trigger order"):
            await plugin.lookup_order(SIGNAL_ID)
    finally:
        await plugin.close()

    [trigger] = fake_okx.algo_orders
    assert trigger["ordType"] == "trigger"
