"""Entries with managed exits that the exits engine cannot honour on a plugin are refused,
naming the plugin and why."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.mock import MockPlugin
from plugins.orders import Order
from plugins.registry import PluginRegistry
from webhook.decide.exit_checks import exits_refusal

TRAILING = {"trailing_stop": {"amount": 5}}


class StopLessPaper(MockPlugin):
    capabilities = MockPlugin.capabilities.model_copy(update={"position_stop": False})


class QuotelessPaper(MockPlugin):
    capabilities = MockPlugin.capabilities.model_copy(update={"quotes": False})


@pytest.fixture
def registry() -> PluginRegistry:
    plugins = PluginRegistry()
    for plugin in (MockPlugin("paper"), StopLessPaper("broker"), QuotelessPaper("files")):
        plugins.register(plugin)
    return plugins


def entry(**fields: Any) -> Order:
    return Order.model_validate({"symbol": "ES", "side": "buy", "quantity": 1,
                                 "exits": TRAILING, **fields})


def test_a_market_entry_is_managed_everywhere_prices_are_given(registry: PluginRegistry) -> None:
    assert exits_refusal(entry(), "paper", registry) is None
    assert exits_refusal(entry(), "broker", registry) is None
    assert exits_refusal(entry(stop_loss=95), "paper", registry) is None  # the plan's first stop


def test_a_resting_entry_is_refused(registry: PluginRegistry) -> None:
    refused = exits_refusal(entry(order_type="limit", price=99), "paper", registry)
    assert refused is not None and "limit entry rests at plugin 'paper'" in refused


def test_a_stop_loss_beside_exits_is_refused_where_the_stop_is_managed(
    registry: PluginRegistry,
) -> None:
    refused = exits_refusal(entry(stop_loss=95), "broker", registry)
    assert refused is not None and refused.startswith(
        "exits: plugin 'broker' would place the stop_loss at the broker")
    refused = exits_refusal(entry(take_profit=110), "paper", registry)
    assert refused is not None and "take-profit level (share 1)" in refused


def test_a_plugin_without_prices_is_refused(registry: PluginRegistry) -> None:
    refused = exits_refusal(entry(), "files", registry)
    assert refused is not None and "plugin 'files' gives no prices" in refused
