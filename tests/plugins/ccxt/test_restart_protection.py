"""An entry whose answer was lost before a restart still gets its stop-loss and take-profit once
a lookup (given the order as the journal holds it) finds it filled, and only once."""

from __future__ import annotations

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import OutcomeUnknown, TemporaryError
from tests.fakes.binance import Failure, FakeBinance
from tests.plugins.ccxt.support import SIGNAL_ID, binance_config, let_time_pass, order, started

pytestmark = pytest.mark.anyio

BRACKETED = order(stop_loss=59000, take_profit=61000)


async def restarted_plugin(fake: FakeBinance) -> CcxtPlugin:
    plugin = await started(binance_config(fake))
    let_time_pass(plugin, plugin.describe().details["not_found_is_proof_after_seconds"])
    return plugin


async def lost_entry(spot: CcxtPlugin, fake: FakeBinance) -> None:
    """The bracketed buy reaches the exchange, its answer never comes back, the process ends."""
    spot.exchange.timeout = 300
    fake.fail_next(Failure.TIMEOUT_AFTER_ACCEPT)
    with pytest.raises(OutcomeUnknown):
        await spot.execute_order(BRACKETED)
    await spot.close()


async def test_after_a_restart_the_found_entry_gets_its_bracket(
    spot: CcxtPlugin, fake_binance: FakeBinance, credentials: None
) -> None:
    await lost_entry(spot, fake_binance)
    plugin = await restarted_plugin(fake_binance)
    try:
        found = await plugin.lookup_order(SIGNAL_ID, "BTCUSDT", order=BRACKETED)
    finally:
        await plugin.close()

    assert found is not None and found.error is None
    [oco] = fake_binance.order_lists
    assert oco["params"]["quantity"] == "0.00999"


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
