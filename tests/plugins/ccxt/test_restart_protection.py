"""An entry whose answer was lost before a restart still gets its stop-loss and take-profit once
a lookup (given the order as the journal holds it) finds it filled, and only once: a spot buy on
Binance, and a reverse on OKX swaps (whose old position's triggers go too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import OutcomeUnknown, TemporaryError
from plugins.orders import ExecutionResult, ExecutionStatus
from tests.fakes.binance import Failure, FakeBinance
from tests.fakes.okx import FakeOkx
from tests.plugins.ccxt.support import (
    SIGNAL_ID,
    binance_config,
    credentials_in_environment,
    giving_up_soon,
    let_time_pass,
    lose_next_order_answer,
    okx_config,
    okx_swaps,
    order,
    started,
)

pytestmark = pytest.mark.anyio

BRACKETED = order(stop_loss=59000, take_profit=61000)


async def restarted_plugin(fake: FakeBinance) -> CcxtPlugin:
    plugin = await started(binance_config(fake))
    let_time_pass(plugin, plugin.describe().details["not_found_is_proof_after_seconds"])
    return plugin


async def lost_entry(spot: CcxtPlugin, fake: FakeBinance) -> None:
    """The bracketed buy reaches the exchange, its answer never comes back, the process ends."""
    fake.fail_next(Failure.TIMEOUT_AFTER_ACCEPT)
    with giving_up_soon(spot), pytest.raises(OutcomeUnknown):
        await spot.execute_order(BRACKETED)
    await spot.close()


@pytest.mark.parametrize(
    ("liquidity", "status", "protected"),
    [
        (None, ExecutionStatus.FILLED, "0.00999"),  # 0.01 less the commission taken in BTC
        ("0.006", ExecutionStatus.PARTIALLY_FILLED, "0.00599"),  # the rest of 0.01 expired
    ],
)
async def test_after_a_restart_the_found_entry_gets_its_bracket_for_what_it_bought(
    spot: CcxtPlugin,
    fake_binance: FakeBinance,
    credentials: None,
    liquidity: str | None,
    status: ExecutionStatus,
    protected: str,
) -> None:
    fake_binance.book.liquidity = None if liquidity is None else Decimal(liquidity)
    await lost_entry(spot, fake_binance)
    plugin = await restarted_plugin(fake_binance)
    try:
        found = await plugin.lookup_order(SIGNAL_ID, "BTCUSDT", order=BRACKETED)
    finally:
        await plugin.close()

    assert found is not None and found.error is None
    assert found.status is status
    [oco] = fake_binance.order_lists
    assert oco["params"]["quantity"] == protected


async def test_a_second_restart_does_not_place_the_bracket_again(
    spot: CcxtPlugin, fake_binance: FakeBinance, credentials: None
) -> None:
    await lost_entry(spot, fake_binance)
    for _ in range(2):
        plugin = await restarted_plugin(fake_binance)
        try:
            await plugin.lookup_order(SIGNAL_ID, "BTCUSDT", order=BRACKETED)
        finally:
            await plugin.close()

    assert len(fake_binance.order_lists) == 1


async def test_right_after_a_restart_a_missing_bracket_is_no_proof_yet(
    spot: CcxtPlugin, fake_binance: FakeBinance, credentials: None
) -> None:
    await lost_entry(spot, fake_binance)
    plugin = await started(binance_config(fake_binance))
    try:
        with pytest.raises(TemporaryError, match="receive window"):
            await plugin.lookup_order(SIGNAL_ID, "BTCUSDT", order=BRACKETED)
    finally:
        await plugin.close()

    assert fake_binance.order_lists == []


REVERSE = order(
    "OKX:BTCUSDT.P", action="reverse", side="sell", quantity=0.02, stop_loss=61000,
    take_profit=59000,
)  # fmt: skip


async def okx_reverse_lost() -> AsyncIterator[FakeOkx]:
    """A 5-contract long reversed into a 2-contract short with a bracket, the reverse's answer
    lost: the position is short 2 and unprotected when the process ends."""
    async with okx_swaps() as (plugin, fake):
        fake.positions["BTC-USDT-SWAP"] = Decimal(5)
        lose_next_order_answer(plugin, fake)
        with pytest.raises(OutcomeUnknown):
            await plugin.execute_order(REVERSE)
        assert fake.positions["BTC-USDT-SWAP"] == -2 and fake.algo_orders == []
        yield fake


async def found_after_restart(fake: FakeOkx) -> ExecutionResult | None:
    with credentials_in_environment():
        plugin = await started(okx_config(fake))
    try:
        return await plugin.lookup_order(SIGNAL_ID, "OKX:BTCUSDT.P", order=REVERSE)
    finally:
        await plugin.close()


async def test_a_reverse_found_after_a_restart_gets_its_bracket_once() -> None:
    async for fake in okx_reverse_lost():
        for _ in range(2):
            found = await found_after_restart(fake)
            assert found is not None and found.error is None

        [oco] = [a for a in fake.algo_orders if a["state"] == "live"]
        assert (oco["ordType"], oco["side"], oco["sz"]) == ("oco", "buy", "2")
        assert len(fake.algo_orders) == 1


async def test_after_a_reverse_and_a_restart_the_old_positions_triggers_are_cancelled() -> None:
    async for fake in okx_reverse_lost():
        old = {"instId": "BTC-USDT-SWAP", "side": "sell", "ordType": "conditional", "sz": "5",
               "slTriggerPx": "58000", "slOrdPx": "-1", "reduceOnly": "true", "state": "live",
               "algoClOrdId": "B" * 26 + "sl", "algoId": "1", "cTime": "0", "placedPx": "60000"}
        fake.algo_orders.append(old)  # the long's stop-loss, placed by an earlier signal

        await found_after_restart(fake)

        assert old["state"] == "canceled"
