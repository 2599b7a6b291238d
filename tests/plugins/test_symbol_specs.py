"""Symbol specs (digits, point, pip, contract size) from each back end, through the registry."""

from __future__ import annotations

import pytest

from plugins.base import PluginCapabilities
from plugins.ccxt.symbols import DECIMAL_PLACES, TICK_SIZE, market_specs
from plugins.errors import NotSupported, UnknownSymbol
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import pip_size
from plugins.registry import PluginRegistry
from tests.fakes.ninjatrader_oif import OifPlatform
from tests.plugins.mt5_fixtures import FakeMT5, fake_mt5, mt5_server, started_mt5
from tests.plugins.ninjatrader_fixtures import oif_config, platform, started_ninjatrader

__all__ = ["fake_mt5", "mt5_server", "platform"]  # fixtures used by name below

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("point", "digits", "pip"),
    [(0.00001, 5, 0.0001), (0.001, 3, 0.01), (0.0001, 4, 0.0001), (0.01, 2, 0.01),
     (0.1, 1, 0.1)],
)
def test_a_pip_is_ten_points_on_three_and_five_digit_symbols(
    point: float, digits: int, pip: float
) -> None:
    assert pip_size(point, digits) == pip


async def test_paper_specs_are_configured_per_symbol() -> None:
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig(symbol_specs={"GBPJPY": {"digits": 3}}))  # type: ignore[dict-item]
    registry = PluginRegistry()
    registry.register(plugin)
    specs = await registry.fetch_symbol_specs("gbpjpy")
    assert (specs.digits, specs.point, specs.pip) == (3, 0.001, 0.01)
    with pytest.raises(NotSupported, match=r"plugins\.paper\.symbol_specs\.EURUSD"):
        await registry.fetch_symbol_specs("EURUSD")


async def test_a_plugin_that_declares_no_specs_is_not_asked() -> None:
    plugin = MockPlugin("bare")
    plugin.capabilities = PluginCapabilities()
    await plugin.init(MockConfig(symbol_specs={"GBPJPY": {"digits": 3}}))  # type: ignore[dict-item]
    registry = PluginRegistry()
    registry.register(plugin)
    with pytest.raises(NotSupported, match=r"^plugin 'bare' cannot report symbol specs$"):
        await registry.fetch_symbol_specs("GBPJPY")


@pytest.mark.parametrize(
    ("symbol", "digits", "point", "pip", "tick", "contract"),
    [("GBPJPY", 3, 0.001, 0.01, 0.001, 100_000), ("EURUSD", 5, 0.00001, 0.0001, 0.00001,
                                                   100_000),
     ("XAUUSD", 2, 0.01, 0.01, 0.01, 100), ("US500", 2, 0.01, 0.01, 0.25, 100_000)],
)
async def test_mt5_specs_are_symbol_info_over_the_bridge(
    fake_mt5: FakeMT5, symbol: str, digits: int, point: float, pip: float, tick: float,
    contract: float,
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        specs = await plugin.fetch_symbol_specs(symbol)
    assert (specs.digits, specs.point, specs.pip) == (digits, pytest.approx(point), pip)
    assert (specs.tick_size, specs.contract_size) == (pytest.approx(tick), contract)


async def test_mt5_specs_of_an_unknown_symbol_say_so(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(UnknownSymbol, match="NOPE"):
            await plugin.fetch_symbol_specs("NOPE")


@pytest.mark.parametrize(
    ("precision", "mode", "digits", "pip", "tick"),
    [(0.01, TICK_SIZE, 2, 0.01, None), (0.00001, TICK_SIZE, 5, 0.0001, None),
     (0.5, TICK_SIZE, 1, 0.1, 0.5), (3, DECIMAL_PLACES, 3, 0.01, None)],
)
def test_ccxt_specs_follow_the_precision_mode(
    precision: float, mode: int, digits: int, pip: float, tick: float | None
) -> None:
    market = {"symbol": "X/USDT", "precision": {"price": precision}, "contract": False}
    specs = market_specs("XUSDT", market, mode)
    assert (specs.digits, specs.pip, specs.tick_size) == (digits, pip, tick)


def test_ccxt_market_without_a_price_precision_has_no_specs() -> None:
    with pytest.raises(NotSupported, match="no price precision"):
        market_specs("XUSDT", {"symbol": "X/USDT", "precision": {}}, TICK_SIZE)


async def test_ninjatrader_specs_are_the_configured_tick_of_the_root(
    platform: OifPlatform,
) -> None:
    config = oif_config(platform, tick_sizes={"ES": 0.25})
    async with started_ninjatrader(config) as plugin:
        specs = await plugin.fetch_symbol_specs("ES 12-25")
        assert (specs.digits, specs.point, specs.pip, specs.tick_size) == (2, 0.25, 0.25, 0.25)
        # A quarter point of one E-mini contract ($50 a point, CME's contract unit) is $12.50.
        assert (specs.tick_value, specs.quantity_in_base) == (12.5, False)
        with pytest.raises(NotSupported, match=r"plugins\.ninjatrader\.tick_sizes\.CL"):
            await plugin.fetch_symbol_specs("CL 01-26")


async def test_ninjatrader_without_a_point_value_reports_no_tick_value(
    platform: OifPlatform,
) -> None:
    config = oif_config(platform, tick_sizes={"CL": 0.01}, point_values={})
    async with started_ninjatrader(config) as plugin:
        specs = await plugin.fetch_symbol_specs("CL 01-26")
        assert (specs.tick_value, specs.quantity_in_base) == (None, False)


async def test_mt5_tick_value_is_per_lot_in_the_deposit_currency(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        eurusd = await plugin.fetch_symbol_specs("EURUSD")
        gbpjpy = await plugin.fetch_symbol_specs("GBPJPY")
    assert eurusd.tick_value == pytest.approx(1.0)  # 0.00001 x 100 000 USD
    assert gbpjpy.tick_value == pytest.approx(100 / 190.112)  # 100 JPY in USD (the fake's rate)
