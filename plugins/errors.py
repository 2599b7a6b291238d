"""Errors raised by execution plugins and the registry.

    ExecutionError
    ├── PluginConfigError      the plugin cannot start: bad option, missing package, refused login
    ├── UnknownPlugin          no plugin is registered under that name
    ├── DuplicatePlugin        a plugin is already registered under that name (also a ValueError)
    ├── NotStarted             the plugin is used before `init` or after `close`
    ├── NotSupported           the plugin cannot do this: it declares no such capability, or its
    │                          set-up lacks it (NinjaTrader's file interface gives no quotes)
    ├── OrderRejected          final: the broker (or the plugin's own checks) refused the order
    │   ├── InsufficientFunds
    │   └── UnknownSymbol
    ├── TemporaryError         nothing was placed; the same order may succeed later
    │   └── RateLimited
    └── OutcomeUnknown         the order may be at the broker or not: look it up, never resend

Plugins translate their vendor's failures into this tree with ``raise ... from exc`` and say
which symbol, side and quantity the failure concerns.
"""

from __future__ import annotations


class ExecutionError(Exception):
    """Base of every error an execution plugin or the registry raises."""


class PluginConfigError(ExecutionError):
    """The plugin cannot be created or started with this configuration."""


class UnknownPlugin(ExecutionError):
    def __init__(self, name: str, known: list[str]) -> None:
        listed = ", ".join(sorted(known)) or "none"
        super().__init__(f"unknown plugin {name!r}; registered plugins: {listed}")
        self.name = name


class DuplicatePlugin(ExecutionError, ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a plugin named {name!r} is already registered")
        self.name = name


class NotStarted(ExecutionError):
    def __init__(self, name: str) -> None:
        super().__init__(f"plugin {name!r} is not started")
        self.name = name


class NotSupported(ExecutionError):
    """The plugin cannot do what was asked; asking again will not help."""

    @classmethod
    def ability(cls, plugin: str, ability: str) -> NotSupported:
        """`plugin 'paper' cannot report its balance`: for a capability the plugin lacks."""
        return cls(f"plugin {plugin!r} cannot {ability}")


class OrderRejected(ExecutionError):
    """Final: sending the same order again will not help."""


class InsufficientFunds(OrderRejected):
    pass


class UnknownSymbol(OrderRejected):
    pass


class TemporaryError(ExecutionError):
    """Nothing was placed, and trying again later may work.

    `retry_after` is the broker's hint in seconds, when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TemporaryError):
    pass


class OutcomeUnknown(ExecutionError):
    """The request may have reached the broker: the order may exist. Never resend blindly."""
