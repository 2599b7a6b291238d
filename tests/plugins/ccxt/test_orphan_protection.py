"""A contract position's stop-loss and take-profit as two independent reduce-only triggers (every
exchange without a one-call OCO for contracts: Binance futures, or OKX's lone legs): when one
fills, the other is cancelled before it can act on a later position, by the next entry on the
market, by the periodic look, and by a restarted plugin.

The fake OKX plays such an exchange: the plugin's guarantees row is given no OCO and no attached
brackets, so the plugin places the two legs as separate `conditional` algo orders, which the
fake triggers for real (`FakeOkx.move_price`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import anyio
import pytest

from plugins.ccxt import CcxtPlugin
from tests.fakes.okx import FakeOkx
from tests.plugins.ccxt.support import SIGNAL_ID, okx_config, order, started

pytestmark = pytest.mark.anyio

PERP = "OKX:BTCUSDT.P"
INST = "BTC-USDT-SWAP"
LONG = order(PERP, quantity=0.02, stop_loss=59000, take_profit=61000)


def live(fake: FakeOkx) -> list[dict[str, Any]]:
    return [a for a in fake.algo_orders if a["state"] == "live"]


async def without_oco(fake: FakeOkx, **options: Any) -> CcxtPlugin:
    plugin = await started(okx_config(fake, **({"protection_check_interval": 0} | options)))
    trader = plugin._started_actions().trader
    trader.guarantees = trader.guarantees.model_copy(
        update={"native_oco": (), "attached_stop_loss_take_profit": ()}
    )
    return plugin


@pytest.fixture
async def separate(fake_okx: FakeOkx, credentials: None) -> AsyncIterator[CcxtPlugin]:
    plugin = await without_oco(fake_okx)
    yield plugin
    await plugin.close()


async def take_profit_filled(plugin: CcxtPlugin, fake: FakeOkx) -> dict[str, Any]:
    """A bracketed long whose take-profit fills; returns the stop-loss it leaves open."""
    result = await plugin.execute_order(LONG)
    assert result.error is None
    assert sorted(a["algoClOrdId"] for a in live(fake)) == [f"{SIGNAL_ID}sl", f"{SIGNAL_ID}tp"]
    [fired] = fake.move_price(INST, Decimal(61100))
    assert fired["algoClOrdId"] == f"{SIGNAL_ID}tp"
    assert fake.positions[INST] == 0
    [stop_loss] = live(fake)
    return stop_loss


async def test_the_next_entry_cancels_the_filled_take_profits_stop_loss_first(
    separate: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await take_profit_filled(separate, fake_okx)

    await separate.execute_order(order(PERP, quantity=0.02, client_order_id="N" * 26))

    assert live(fake_okx) == []
    assert fake_okx.positions[INST] == 2
    assert fake_okx.move_price(INST, Decimal(58900)) == []  # the new long stays open
    assert fake_okx.positions[INST] == 2


async def test_one_look_cancels_the_stop_loss_left_by_a_filled_take_profit(
    separate: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    stop_loss = await take_profit_filled(separate, fake_okx)

    cancelled = await separate._started_sweeper().sweep()

    assert [o.client_order_id for o in cancelled] == [stop_loss["algoClOrdId"]]
    assert live(fake_okx) == []


async def test_a_restarted_plugin_cancels_what_a_fill_left_while_it_was_down(
    separate: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await take_profit_filled(separate, fake_okx)
    await separate.close()

    restarted = await without_oco(fake_okx)
    await restarted.close()

    assert live(fake_okx) == []


async def test_the_look_runs_by_itself_on_a_swap_account(
    fake_okx: FakeOkx, credentials: None
) -> None:
    plugin = await without_oco(fake_okx, protection_check_interval=0.05)
    try:
        await take_profit_filled(plugin, fake_okx)
        for _ in range(500):  # up to 10 s on a busy machine; no speed is asserted
            if not live(fake_okx):
                break
            await anyio.sleep(0.02)
        assert live(fake_okx) == []
    finally:
        await plugin.close()


async def test_the_legs_of_an_open_position_and_stop_entries_are_kept(
    separate: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await separate.execute_order(LONG)
    stop_entry = order(PERP, order_type="stop", stop_price=62000, client_order_id="S" * 26)
    await separate.execute_order(stop_entry)

    assert await separate._started_sweeper().sweep() == []
    assert len(live(fake_okx)) == 3


async def test_a_stop_loss_on_the_side_that_would_add_to_the_position_is_cancelled(
    separate: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await take_profit_filled(separate, fake_okx)  # its stop-loss sells
    fake_okx.positions[INST] = Decimal(-3)  # a short opened by hand: the sell cannot reduce it

    await separate._started_sweeper().sweep()

    assert live(fake_okx) == []
