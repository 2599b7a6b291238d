"""Starting the mt5 plugin: transports, logging in, quotes, health, and its configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest

from plugins.errors import PluginConfigError, UnknownSymbol
from plugins.loader import plugin_class, validate_plugin_config
from plugins.mt5 import MT5Config, MT5Plugin
from plugins.mt5 import transports as mt5_transports
from plugins.orders import Order
from tests.fakes.mt5_server import serve_fake_mt5
from tests.plugins.mt5_fixtures import FakeMT5, fake_mt5, mt5_server, started_mt5

__all__ = ["fake_mt5", "mt5_server"]  # fixtures used by name below

pytestmark = pytest.mark.anyio


async def start(config: MT5Config) -> MT5Plugin:
    plugin = MT5Plugin("mt5")
    await plugin.init(config)
    return plugin


async def test_native_transport_off_windows_says_to_use_rpyc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mt5_transports, "running_on_windows", lambda: False)
    with pytest.raises(PluginConfigError, match='only for Windows.*transport = "rpyc"'):
        await start(MT5Config(transport="native"))


async def test_native_transport_without_the_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mt5_transports, "running_on_windows", lambda: True)
    monkeypatch.setitem(sys.modules, "MetaTrader5", None)
    with pytest.raises(PluginConfigError, match=r"MetaTrader5 package: pip install"):
        await start(MT5Config(transport="native"))


async def test_rpyc_transport_without_rpyc_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "rpyc.utils.factory", None)
    with pytest.raises(PluginConfigError, match=r"rpyc package: pip install 'tradehook\[mt5\]'"):
        await start(MT5Config(transport="rpyc"))


async def test_an_unreachable_rpyc_server_fails_at_start_naming_it() -> None:
    with pytest.raises(PluginConfigError, match="rpyc server at 127.0.0.1:1 .*rpyc_classic"):
        await start(MT5Config(transport="rpyc", port=1))


async def test_an_rpyc_server_without_metatrader5_fails_at_start() -> None:
    with serve_fake_mt5(terminal=False) as server:
        with pytest.raises(PluginConfigError, match="cannot import MetaTrader5"):
            await start(MT5Config(transport="rpyc", port=server.port))


async def test_a_refused_login_fails_with_last_error_and_without_the_password(
    fake_mt5: FakeMT5, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_mt5.fake_reset(login=5001, password="right-one", server="Broker-Live")
    monkeypatch.setenv("MT5_TEST_PASSWORD", "wrong-secret")
    config = fake_mt5.config(login=5001, password_env="MT5_TEST_PASSWORD", server="Broker-Live")
    with pytest.raises(PluginConfigError, match="Authorization failed") as caught:
        await start(config)
    assert "wrong-secret" not in str(caught.value)


async def test_login_server_path_and_the_password_from_its_variable_reach_initialize(
    fake_mt5: FakeMT5, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_mt5.fake_reset(login=5001, password="pw", server="Broker-Live")
    monkeypatch.setenv("MT5_TEST_PASSWORD", "pw")
    options = {"login": 5001, "password_env": "MT5_TEST_PASSWORD", "server": "Broker-Live",
               "path": "C:/MT5/terminal64.exe"}  # fmt: skip
    async with started_mt5(fake_mt5, **options):
        pass
    call = fake_mt5.state()["initialize_calls"][0]
    assert call["path"] == "C:/MT5/terminal64.exe"
    assert (call["login"], call["password"], call["server"]) == (5001, "pw", "Broker-Live")


async def test_an_unset_password_variable_fails_at_start_naming_it(
    fake_mt5: FakeMT5, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MT5_TEST_PASSWORD", raising=False)
    with pytest.raises(PluginConfigError, match="password_env: .*MT5_TEST_PASSWORD is not set"):
        await start(fake_mt5.config(login=5001, password_env="MT5_TEST_PASSWORD"))


async def test_without_a_login_the_terminal_keeps_its_own_account(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5):
        pass
    call = fake_mt5.state()["initialize_calls"][0]
    assert not {"login", "password", "server"} & set(call)


async def test_a_configured_symbol_the_broker_lacks_fails_at_start(fake_mt5: FakeMT5) -> None:
    with pytest.raises(PluginConfigError, match="cannot select 'NOPE.m'"):
        await start(fake_mt5.config(symbols={"NOPE": "NOPE.m"}))


async def test_fetch_data_reads_the_symbol_tick(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        quote = await plugin.fetch_data("EURUSD")
    assert (quote.symbol, quote.bid, quote.ask) == ("EURUSD", 1.085, 1.08512)
    assert quote.last == pytest.approx(1.08506)


async def test_fetch_data_of_an_unknown_symbol_is_unknown_symbol(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(UnknownSymbol):
            await plugin.fetch_data("NOSUCH")


async def test_health_needs_a_connected_terminal_that_may_trade(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        healthy = await plugin.health_check()
        fake_mt5.fake_set(connected=False)
        disconnected = await plugin.health_check()
        fake_mt5.fake_set(connected=True, trade_allowed=False)
        not_allowed = await plugin.health_check()
    assert (healthy, disconnected, not_allowed) == (True, False, False)


async def test_close_shuts_the_terminal_session_down(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        pass
    assert "shutdown" in [name for name, _ in fake_mt5.state()["calls"]]
    assert await plugin.health_check() is False


def test_importing_the_plugin_imports_neither_metatrader5_nor_rpyc() -> None:
    code = (
        "import sys, plugins.mt5; "
        "print(sorted(m for m in ('MetaTrader5', 'rpyc') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         encoding="utf-8", check=True)
    assert out.stdout.strip() == "[]"


def test_the_loader_finds_the_plugin_and_checks_its_options() -> None:
    assert plugin_class("mt5") is MT5Plugin
    config = validate_plugin_config(
        "mt5", {"transport": "rpyc", "host": "10.0.0.5", "allow_insecure_bridge": True}
    )
    assert isinstance(config, MT5Config) and config.port == 18812
    with pytest.raises(PluginConfigError, match="deviaton"):
        validate_plugin_config("mt5", {"deviaton": 5})
    with pytest.raises(PluginConfigError, match="password"):
        validate_plugin_config("mt5", {"password": "never in the file"})


async def test_fetch_balance_reads_the_account(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        balance = await plugin.fetch_balance()
    assert (balance.currency, balance.equity, balance.free) == ("USD", 10_000.0, 10_000.0)


async def test_fetch_position_nets_long_and_short_positions(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        for n, (side, quantity) in enumerate([("buy", 0.5), ("sell", 0.2), ("buy", 0.1)]):
            await plugin.execute_order(
                Order(symbol="EURUSD", side=side, quantity=quantity, client_order_id=f"p{n}")
            )
        held = await plugin.fetch_position("EURUSD")
        flat = await plugin.fetch_position("GBPUSD")
    assert (held, flat) == (pytest.approx(0.4), 0.0)
