"""Symbol specs from the markets the fake exchanges publish (Binance PRICE_FILTER tickSize, OKX
tickSz and ctVal), as ccxt loads them."""

from __future__ import annotations

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import UnknownSymbol
from tests.fakes.okx import FakeOkx
from tests.plugins.ccxt.support import okx_config, started

pytestmark = pytest.mark.anyio


async def test_binance_spot_specs_are_its_tick_size(spot: CcxtPlugin) -> None:
    specs = await spot.fetch_symbol_specs("BTCUSDT")
    assert (specs.digits, specs.point, specs.pip, specs.contract_size) == (2, 0.01, 0.01, None)
    assert (await spot.fetch_symbol_specs("ETHBTC")).pip == 0.0001  # 5 digits: ten points


async def test_okx_swap_specs_carry_the_contract_size(swaps: CcxtPlugin) -> None:
    specs = await swaps.fetch_symbol_specs("BTCUSDT.P")
    assert (specs.digits, specs.point, specs.contract_size) == (1, 0.1, 0.01)
    assert (specs.quantity_in_base, specs.tick_value) == (True, None)  # quantities in BTC


async def test_okx_swap_in_contracts_values_a_tick_per_contract(
    fake_okx: FakeOkx, credentials: None
) -> None:
    plugin = await started(okx_config(fake_okx, quantity_unit="contracts"))
    try:
        specs = await plugin.fetch_symbol_specs("BTCUSDT.P")
    finally:
        await plugin.close()
    # One contract is 0.01 BTC (ctVal): a 0.1 USDT tick makes 0.001 USDT on it.
    assert (specs.quantity_in_base, specs.tick_value) == (False, 0.001)


async def test_a_symbol_the_exchange_does_not_list_is_unknown(spot: CcxtPlugin) -> None:
    with pytest.raises(UnknownSymbol):
        await spot.fetch_symbol_specs("NOPEUSDT")
