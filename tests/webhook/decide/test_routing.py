"""Routing by alert field, source, symbol pattern and default; symbol maps; config errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.webhook.decide.policy_helpers import PolicyBench, policy_bench
from webhook.config.loader import load_settings
from webhook.decide.symbols import best_match, map_symbol
from webhook.dialects import parse_alert
from webhook.errors import ConfigError, PayloadError

pytestmark = pytest.mark.anyio
PLUGINS = {name: {"type": "mock"} for name in ("paper", "binance", "ninjatrader", "mt5")}


async def bench(tmp_path: Path, **config: Any) -> PolicyBench:
    return await policy_bench(tmp_path, {"plugins": PLUGINS, "default_plugin": "paper", **config})


def route(bench: PolicyBench, body: str, source: str = "tv") -> str:
    configured = bench.settings.sources.get(source)
    parsed = parse_alert(body.encode())
    return bench.router.route(parsed, source, configured, signed=source == "signed")


SOURCE_ROUTES = {"*USDT": "binance", "ES*": "ninjatrader", "NQ*": "ninjatrader", "*": "mt5"}


@pytest.mark.parametrize(
    ("symbol", "plugin"),
    [("BTCUSDT", "binance"), ("ethusdt", "binance"), ("ES1!", "ninjatrader"),
     ("NQZ5", "ninjatrader"), ("EURUSD", "mt5")],
)
async def test_source_routes_by_symbol_pattern(tmp_path: Path, symbol: str, plugin: str) -> None:
    the_bench = await bench(tmp_path, sources={"tv": {"routes": SOURCE_ROUTES}})
    assert route(the_bench, f"buy 1 {symbol}") == plugin


async def test_most_specific_pattern_wins_whatever_the_order(tmp_path: Path) -> None:
    routes = {"*": "mt5", "BTC*": "paper", "*USDT": "binance"}
    the_bench = await bench(tmp_path, sources={"tv": {"routes": routes}})
    assert route(the_bench, "buy 1 BTCUSDT") == "binance"  # 4 literal characters beat 3
    assert route(the_bench, "buy 1 BTCUSD") == "paper"
    assert route(the_bench, "buy 1 XAUUSD") == "mt5"


async def test_order_of_precedence(tmp_path: Path) -> None:
    the_bench = await bench(
        tmp_path,
        routes={"*USDT": "binance", "ES*": "ninjatrader"},
        sources={"tv": {"routes": {"ES*": "mt5"}, "plugin": "paper",
                        "allow_plugin_field": True}},
    )
    assert route(the_bench, "buy 1 ES plugin binance") == "binance"  # the alert's own field
    assert route(the_bench, "buy 1 ES") == "mt5"  # the source's routes
    assert route(the_bench, "buy 1 BTCUSDT") == "paper"  # the source's plugin
    assert route(the_bench, "buy 1 ES", source="other") == "ninjatrader"  # global routes
    assert route(the_bench, "buy 1 EURUSD", source="other") == "paper"  # the default


async def test_plugin_field_is_refused_where_the_source_does_not_allow_it(
    tmp_path: Path,
) -> None:
    the_bench = await bench(tmp_path, sources={"tv": {}})
    with pytest.raises(PayloadError) as caught:
        route(the_bench, "buy 1 ES plugin binance")
    assert caught.value.field == "plugin"
    assert "allow_plugin_field" in caught.value.problem


async def test_signed_senders_may_name_a_plugin_unless_their_settings_say_no(
    tmp_path: Path,
) -> None:
    the_bench = await bench(tmp_path)
    assert route(the_bench, "buy 1 ES plugin binance", source="signed") == "binance"
    limited = await bench(tmp_path, sources={"signed": {"risk": {"max_quantity": 5}}})
    assert route(limited, "buy 1 ES plugin binance", source="signed") == "binance"
    closed = await bench(tmp_path, sources={"signed": {"allow_plugin_field": False}})
    with pytest.raises(PayloadError):
        route(closed, "buy 1 ES plugin binance", source="signed")


async def test_unknown_plugin_in_the_alert_is_named(tmp_path: Path) -> None:
    the_bench = await bench(tmp_path)
    with pytest.raises(PayloadError, match="unknown plugin 'nope'"):
        route(the_bench, "buy 1 ES plugin nope", source="signed")


async def test_symbol_map_renames_for_the_plugin_only(tmp_path: Path) -> None:
    the_bench = await bench(tmp_path, symbol_maps={"ninjatrader": {"ES1!": "ES 12-25"},
                                                   "mt5": {"EURUSD": "EURUSD.m"}})
    assert the_bench.router.broker_symbol("ninjatrader", "ES1!") == "ES 12-25"
    assert the_bench.router.broker_symbol("mt5", "eurusd") == "EURUSD.m"
    assert the_bench.router.broker_symbol("paper", "ES1!") == "ES1!"


def test_symbol_map_falls_back_to_the_name_without_the_exchange() -> None:
    table = {"BTCUSDT": "BTC/USDT", "BINANCE:ETHUSDT": "ETH/USDT"}
    assert map_symbol(table, "BINANCE:BTCUSDT") == "BTC/USDT"
    assert map_symbol(table, "BINANCE:ETHUSDT") == "ETH/USDT"
    assert map_symbol(table, "ETHUSDT") == "ETHUSDT"


def test_no_pattern_matches() -> None:
    assert best_match(["ES*", "*USDT"], "EURUSD") is None


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[routes]\n"*USDT" = "kraken"\n', 'routes."*USDT"'),
        ('[sources.tv.routes]\n"ES*" = "nt"\n', 'sources.tv.routes."ES*"'),
        ('[sources.tv.routes]\n"" = "mock"\n', "sources.tv.routes"),
        ('[symbol_maps.nt]\n"ES1!" = "ES 12-25"\n', "symbol_maps.nt"),
        ('[sources.tv.risk]\nmax_quantity = 0\n', "sources.tv.risk.max_quantity"),
        ('[sources.tv.risk]\nmax_quantiy = 1\n', "sources.tv.risk.max_quantiy"),
        ('[sources.tv.sizing]\nunit = "shares"\n', "sources.tv.sizing.unit"),
        ('[plugins.mock]\ntype = "mock"\n[plugins.mock.risk]\nmax_position = -1\n',
         "plugins.mock.risk.max_position"),
        ('[sources.tv.risk.trading_hours]\nstart = "09:00"\nend = "17:00"\n'
         'timezone = "Europe/Atlantis"\n', "sources.tv.risk.trading_hours.timezone"),
        ('[sources.tv]\ndialect = "ninja"\n', "sources.tv.dialect"),
        ("kill_switch = 'maybe'\n", "kill_switch"),
    ],
)
def test_wrong_routing_or_risk_setting_fails_at_start_naming_the_key(
    tmp_path: Path, toml: str, key: str
) -> None:
    config = tmp_path / "tradehook.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert str(caught.value).startswith(f"{key}:"), str(caught.value)


def test_risk_limits_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, env={
        "TRADEHOOK_SOURCES__TV__RISK__ALLOWED_SYMBOLS": "BTCUSDT, ETH*",
        "TRADEHOOK_SOURCES__TV__RISK__MAX_QUANTITY": "1.5",
        "TRADEHOOK_KILL_SWITCH": "true",
    })
    assert settings.sources["tv"].risk.allowed_symbols == ["BTCUSDT", "ETH*"]
    assert settings.sources["tv"].risk.max_quantity == 1.5
    assert settings.kill_switch
