"""A wrong ccxt configuration fails at start with a message that names the key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from plugins.ccxt import CcxtConfig, CcxtPlugin
from plugins.ccxt.exchange import create_exchange
from plugins.errors import PluginConfigError
from plugins.loader import plugin_class, start_plugin, validate_plugin_config
from tests.fakes import binance
from tests.fakes.binance import FakeBinance
from tests.plugins.ccxt.support import binance_config, order, started

pytestmark = pytest.mark.anyio


def test_the_loader_finds_the_plugin_type() -> None:
    assert plugin_class("ccxt") is CcxtPlugin


def test_a_missing_ccxt_package_gives_the_install_hint() -> None:
    script = (
        "import sys\n"
        "class NoCcxt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ccxt' or name.startswith('ccxt.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoCcxt())\n"
        "from plugins.loader import plugin_class\n"
        "plugin_class('ccxt')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)

    assert done.returncode != 0
    assert (
        "PluginConfigError: plugin type 'ccxt' needs the package 'ccxt': "
        "pip install 'tradehook[ccxt]'" in done.stderr.decode()
    )


def test_options_are_checked_naming_the_key() -> None:
    with pytest.raises(PluginConfigError, match=r"^api_key: Extra inputs are not permitted"):
        validate_plugin_config("ccxt", {"exchange": "binance", "api_key": "pasted-by-mistake"})
    with pytest.raises(PluginConfigError, match=r"^market_type: "):
        validate_plugin_config("ccxt", {"exchange": "binance", "market_type": "margin"})
    with pytest.raises(PluginConfigError, match=r"^exchange: Field required"):
        validate_plugin_config("ccxt", {})


def test_sandbox_and_demo_cannot_both_be_on() -> None:
    with pytest.raises(PluginConfigError, match="sandbox and demo cannot both be on"):
        validate_plugin_config("ccxt", {"exchange": "bybit", "sandbox": True, "demo": True})


def test_unknown_exchange_id_is_refused() -> None:
    config = CcxtConfig(exchange="binanse")

    with pytest.raises(PluginConfigError, match=r"^exchange: 'binanse' is not a ccxt exchange id"):
        create_exchange(config)


async def test_a_credential_the_exchange_needs_must_be_named() -> None:
    plugin = CcxtPlugin("okx")

    with pytest.raises(PluginConfigError, match=r"^password_env: okx needs it"):
        await plugin.init(CcxtConfig(exchange="okx", api_key_env="K", secret_env="S"))


async def test_an_unset_credential_variable_is_named_without_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TRADEHOOK_TEST_UNSET_KEY", raising=False)
    plugin = CcxtPlugin("binance")

    with pytest.raises(
        PluginConfigError,
        match=r"^api_key_env: the environment variable TRADEHOOK_TEST_UNSET_KEY is not set",
    ):
        await plugin.init(
            CcxtConfig(exchange="binance", api_key_env="TRADEHOOK_TEST_UNSET_KEY", secret_env="S")
        )


def test_sandbox_points_ccxt_at_the_testnet() -> None:
    config = CcxtConfig(exchange="binance", sandbox=True)

    exchange = create_exchange(config)

    assert exchange.urls["api"]["public"].startswith("https://testnet.binance.vision/")


def test_api_host_keeps_each_path() -> None:
    config = CcxtConfig(exchange="binance", api_host="http://127.0.0.1:9")

    exchange = create_exchange(config)

    assert exchange.urls["api"]["public"] == "http://127.0.0.1:9/api/v3"
    assert exchange.urls["api"]["fapiPrivate"] == "http://127.0.0.1:9/fapi/v1"


def test_urls_replace_named_entries() -> None:
    config = CcxtConfig(exchange="okx", urls={"rest": "https://okx-proxy.internal"})

    exchange = create_exchange(config)

    assert exchange.urls["api"]["rest"] == "https://okx-proxy.internal"


def test_an_unknown_url_entry_lists_the_real_ones() -> None:
    config = CcxtConfig(exchange="okx", urls={"public": "https://okx-proxy.internal"})

    with pytest.raises(
        PluginConfigError, match=r"^urls\.public: okx has no such API URL; it has rest"
    ):
        create_exchange(config)


async def test_refused_credentials_fail_at_start_without_showing_them(
    fake_binance: FakeBinance, credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_BINANCE_SECRET", "a-secret-the-exchange-does-not-know")
    plugin = CcxtPlugin("binance")

    with pytest.raises(PluginConfigError) as raised:
        await plugin.init(binance_config(fake_binance))

    message = str(raised.value)
    assert message.startswith("binance refused the API credentials")
    assert "api_key_env=TEST_BINANCE_KEY, secret_env=TEST_BINANCE_SECRET" in message
    assert "a-secret-the-exchange-does-not-know" not in message
    assert binance.API_KEY not in message


async def test_an_unreachable_exchange_fails_at_start(
    fake_binance: FakeBinance, credentials: None
) -> None:
    config = binance_config(fake_binance)
    fake_binance.stop()

    with pytest.raises(PluginConfigError, match=r"^cannot start binance: ExchangeNotAvailable"):
        await CcxtPlugin("binance").init(config)


async def test_a_symbol_map_entry_must_name_a_market(
    fake_binance: FakeBinance, credentials: None
) -> None:
    config = binance_config(fake_binance, symbols={"xbtusd": "XBT/USD"})

    with pytest.raises(PluginConfigError, match=r"^symbols\.XBTUSD: 'XBT/USD' is not a market"):
        await started(config)


async def test_the_symbol_map_routes_an_alert_symbol(
    fake_binance: FakeBinance, credentials: None
) -> None:
    plugin = await started(binance_config(fake_binance, symbols={"XBTUSD": "BTC/USDT"}))
    try:
        await plugin.execute_order(order("xbtusd"))
    finally:
        await plugin.close()

    assert fake_binance.orders[0].params["symbol"] == "BTCUSDT"


async def test_start_plugin_validates_and_starts_it(
    fake_binance: FakeBinance, credentials: None
) -> None:
    options = binance_config(fake_binance).model_dump(exclude_defaults=True)
    plugin = await start_plugin("binance", "ccxt", validate_plugin_config("ccxt", options))
    try:
        assert await plugin.health_check()
    finally:
        await plugin.close()
