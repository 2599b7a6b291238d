"""Accounts: one signal fanned out to several plugin instances, each with its own size rule.

    [account_groups.crypto]            # a group of accounts (each a configured plugin)
    binance_main = { multiplier = 1 }
    binance_sub = { multiplier = 0.25 }
    paper = { quantity = 0.01 }
    bybit = { sizing = { unit = "percent_of_equity", quantity = 5 } }

A source's `plugin`, its `routes` and the top-level `routes` may name a group instead of a
plugin; an alert may name its own accounts (`"accounts": ["binance_main", "paper"]`) where its
source lets it (`allow_accounts_field`). Each account gets a child signal of its own
(`webhook.decide.fanout`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from plugins.orders import Order, OrderAction
from webhook.decide.quantities import QuantityUnit
from webhook.decide.sizing import SizingSettings
from webhook.dialects import ParsedSignal
from webhook.errors import PayloadError, SizingError

Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class AccountRule(BaseModel):
    """How big one account's order is, given the alert's: at most one of the three; none is
    a multiplier of 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    multiplier: Positive | None = None
    """The alert's quantity (or target position) times this."""
    quantity: Positive | None = None
    """This many units whatever the alert says (a target keeps its direction)."""
    sizing: SizingSettings | None = None
    """This account's own sizing, e.g. 5 percent of its equity (`unit`, `quantity`)."""

    @model_validator(mode="after")
    def _one_rule(self) -> Self:
        given = [n for n in ("multiplier", "quantity", "sizing") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError("give one of multiplier, quantity and sizing, not "
                             f"{' and '.join(given)}")
        return self

    def describe(self) -> str:
        if self.quantity is not None:
            return f"quantity {self.quantity:g}"
        if self.sizing is not None:
            amount = "" if self.sizing.quantity is None else f" {self.sizing.quantity:g}"
            return f"sizing{amount} {self.sizing.unit.value}"
        return f"multiplier {self.multiplier or 1:g}"

    def apply(self, parsed: ParsedSignal, order: Order) -> tuple[ParsedSignal, Order]:
        """The alert and its order as this account trades them. Raises `SizingError` where the
        rule cannot apply (own sizing of a target position)."""
        update: dict[str, object] = {}
        positions = {
            name: None if value is None else self.scaled_position(value)
            for name in ("expected_position", "resulting_position")
            if (value := getattr(parsed, name)) is not None
        }
        if positions:
            parsed = parsed.model_copy(update=positions)
        if order.action is OrderAction.TARGET and order.target_position is not None:
            update["target_position"] = self._position(order.target_position)
        elif order.quantity is not None:
            if self.quantity is not None:
                update["quantity"] = self.quantity
                parsed = parsed.model_copy(update={"quantity_unit": QuantityUnit.UNITS})
            elif self.sizing is not None:
                if self.sizing.quantity is not None:
                    update["quantity"] = self.sizing.quantity
                parsed = parsed.model_copy(update={"quantity_unit": self.sizing.unit})
            else:
                update["quantity"] = float(f"{order.quantity * (self.multiplier or 1):.12g}")
        if not update:
            return parsed, order
        return parsed, order.model_copy(update=update)

    def scaled_position(self, position: float) -> float | None:
        """A position the alert speaks of (expected before, or left after), in this account's
        size; None where the rule gives no way to tell (own sizing)."""
        if self.sizing is not None:
            return None
        return self._position(position)

    def _position(self, position: float) -> float:
        if self.sizing is not None:
            raise SizingError(f"account sizing by {self.sizing.unit.value} cannot size a target "
                              "position: give this account a multiplier or a quantity")
        if self.quantity is not None:
            return math.copysign(self.quantity, position) if position else 0.0
        return float(f"{position * (self.multiplier or 1):.12g}")


AccountGroups = Mapping[str, Mapping[str, AccountRule]]


@dataclass(frozen=True)
class Account:
    plugin: str
    rule: AccountRule


def chosen_accounts(
    parsed: ParsedSignal,
    routed: str,
    groups: AccountGroups,
    plugins: list[str],
    *,
    may_choose: bool,
    source_name: str,
) -> list[Account] | None:
    """The accounts a signal goes to, None for one plugin as before: the alert's `accounts`
    (each a plugin or a group; a plugin of the routed group keeps its rule there), else the
    routed name when it is a group. `PayloadError` (field `accounts`) for a name that is
    neither, or an alert that may not choose."""
    routed_group = groups.get(routed, {})
    if parsed.accounts is None:
        if routed not in groups:
            return None
        return [Account(plugin, rule) for plugin, rule in routed_group.items()]
    if not may_choose:
        raise PayloadError("accounts", f"source {source_name!r} does not let alerts choose "
                           "accounts; remove the field or set "
                           f"sources.{source_name}.allow_accounts_field = true")
    if parsed.plugin is not None:
        raise PayloadError("accounts", "give plugin or accounts, not both")
    chosen: dict[str, AccountRule] = {}
    for name in parsed.accounts:
        if name in groups:
            for plugin, rule in groups[name].items():
                chosen.setdefault(plugin, rule)
        elif name in plugins:
            chosen.setdefault(name, routed_group.get(name, AccountRule()))
        else:
            known = ", ".join(sorted([*plugins, *groups]))
            raise PayloadError("accounts", f"unknown account {name!r}; configured plugins and "
                               f"account groups: {known}")
    return [Account(plugin, rule) for plugin, rule in chosen.items()]


def account_group_problem(
    groups: AccountGroups, plugins: Mapping[str, object]
) -> tuple[str, str] | None:
    """The key and the problem of a wrong `[account_groups]` table, None when it is right."""
    for name, members in groups.items():
        key = f"account_groups.{name}"
        if name in plugins:
            return key, f"{name!r} is the name of a plugin too; name the group otherwise"
        if not members:
            return key, "names no account"
        for plugin in members:
            if plugin not in plugins:
                configured = ", ".join(sorted(plugins)) or "none"
                return f"{key}.{plugin}", (f"no plugin named {plugin!r} (configured: "
                                           f"{configured})")
    return None
