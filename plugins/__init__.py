"""Execution plugins: the order types, the plugin interface, the registry and the back ends.

This package never imports `webhook`: a plugin knows orders and brokers, not HTTP.
"""

from plugins.base import ExecutionPlugin, PluginCapabilities, PluginConfig
from plugins.errors import (
    ExecutionError,
    InsufficientFunds,
    OrderRejected,
    OutcomeUnknown,
    PluginConfigError,
    RateLimited,
    TemporaryError,
    UnknownPlugin,
    UnknownSymbol,
)
from plugins.orders import (
    ExecutionResult,
    ExecutionStatus,
    MarketData,
    Order,
    OrderAction,
    OrderSide,
    OrderType,
)
from plugins.registry import PluginRegistry

__all__ = [
    "ExecutionError",
    "ExecutionPlugin",
    "ExecutionResult",
    "ExecutionStatus",
    "InsufficientFunds",
    "MarketData",
    "Order",
    "OrderAction",
    "OrderRejected",
    "OrderSide",
    "OrderType",
    "OutcomeUnknown",
    "PluginCapabilities",
    "PluginConfig",
    "PluginConfigError",
    "PluginRegistry",
    "RateLimited",
    "TemporaryError",
    "UnknownPlugin",
    "UnknownSymbol",
]
