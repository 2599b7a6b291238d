"""Execution plugins: the order types, the plugin interface, the registry and the back ends.

This package never imports `webhook`: a plugin knows orders and brokers, not HTTP.
"""

from plugins.base import ExecutionPlugin, PluginCapabilities, PluginConfig
from plugins.errors import (
    DuplicatePlugin,
    ExecutionError,
    InsufficientFunds,
    NotStarted,
    NotSupported,
    OrderRejected,
    OutcomeUnknown,
    PluginConfigError,
    RateLimited,
    TemporaryError,
    UnknownPlugin,
    UnknownSymbol,
)
from plugins.orders import (
    AccountBalance,
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
    "AccountBalance",
    "DuplicatePlugin",
    "ExecutionError",
    "ExecutionPlugin",
    "ExecutionResult",
    "ExecutionStatus",
    "InsufficientFunds",
    "MarketData",
    "NotStarted",
    "NotSupported",
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
