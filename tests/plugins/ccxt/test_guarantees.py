"""The per-exchange guarantees table, read against ccxt's own exchange classes (no network)."""

from __future__ import annotations

import ccxt.async_support as ccxt
import pytest

from plugins.ccxt import CcxtConfig
from plugins.ccxt.exchange import create_exchange
from plugins.ccxt.guarantees import TABLE, guarantees_for, market_buy_needs_price
from plugins.errors import PluginConfigError

TRUSTED_LOOKUPS = {"binance", "binanceus", "binanceusdm", "okx"}


def test_every_exchange_in_the_table_is_a_ccxt_exchange() -> None:
    assert set(TABLE) <= set(ccxt.exchanges)


def test_only_binance_and_okx_lookups_are_trusted() -> None:
    trusted = {name for name, row in TABLE.items() if row.lookup_by_client_id}

    assert trusted == TRUSTED_LOOKUPS


def test_an_exchange_missing_from_the_table_claims_no_lookup_and_says_so() -> None:
    row = guarantees_for("bitmart")

    assert row.lookup_by_client_id is False
    assert any("bitmart keeps our client order id" in note for note in row.weaknesses())


def test_coinbase_gets_our_id_through_its_own_parameter() -> None:
    assert guarantees_for("coinbase").client_id_param == "client_order_id"


@pytest.mark.parametrize("exchange", ["gate", "coinbase", "htx"])
def test_exchanges_whose_market_buys_ccxt_prices_are_recognised(exchange: str) -> None:
    assert market_buy_needs_price(getattr(ccxt, exchange)()) is True


@pytest.mark.parametrize("exchange", ["binance", "okx", "kraken"])
def test_exchanges_that_take_a_market_buys_amount_are_recognised(exchange: str) -> None:
    assert market_buy_needs_price(getattr(ccxt, exchange)()) is False


def test_demo_on_an_exchange_without_demo_urls_names_the_setting() -> None:
    config = CcxtConfig(exchange="okx", demo=True)

    with pytest.raises(PluginConfigError, match="demo: okx has no demo environment"):
        create_exchange(config)


def test_binance_gets_a_receive_window_below_the_timeout_and_okx_none() -> None:
    binance = create_exchange(CcxtConfig(exchange="binance", timeout=10))
    okx = create_exchange(CcxtConfig(exchange="okx", timeout=10))

    assert binance.options["recvWindow"] == 5000
    assert okx.options.get("recvWindow") is None
