"""Managed exits as the journal keeps them: one exit plan per filled entry that asked for exits.

A plan is the durable state of the exits engine (`webhook.execute.exits`): what is still open,
where the stop is, the best price seen, which take-profit levels were sent and filled. Every
change is a compare-and-set on its `version`, made in the same transaction as the exit orders
it sends (child signals `ENTRY.tp1`, `ENTRY.stop`), so of two managers, or a manager before and
after a restart, exactly one sends each exit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from plugins.orders import ManagedExits, OrderSide
from webhook.journal.records import NewSignal


class ExitPlanState(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class ExitPlan(BaseModel):
    """The exits of one filled entry (`signal_id`), as they stand."""

    model_config = ConfigDict(frozen=True)

    signal_id: str
    plugin: str
    symbol: str
    side: OrderSide
    """The entry's side: a buy's exits sell."""
    entry_price: float
    quantity: float
    """The entry's filled quantity: the take-profit shares are of it."""
    open_quantity: float
    """What no exit has closed yet."""
    exits: ManagedExits
    stop: float | None = None
    """The protective stop as it stands (None until a trailing stop with a trigger starts)."""
    best_price: float
    """The best price since the entry: the highest for a buy, the lowest for a sell."""
    levels_done: tuple[int, ...] = ()
    """Take-profit levels (numbered from 1 as given) whose exit order was sent."""
    levels_filled: tuple[int, ...] = ()
    """Of those, the levels whose exit order filled (a break-even `after_take_profit` waits
    for the first)."""
    break_even_done: bool = False
    native_stop: bool = False
    """The broker holds the stop (its plugin can move a position's stop); else tradehook
    closes at market when its polled price crosses it."""
    state: ExitPlanState = ExitPlanState.ACTIVE
    version: int = 1
    created_at: float
    updated_at: float
    note: str | None = None
    """The last step, for people (`trailing stop moved to 104.5 (best 109.5)`)."""

    @property
    def buying(self) -> bool:
        return self.side is OrderSide.BUY

    def exit_order_ids(self) -> list[str]:
        """The ids its exit orders have, or will have if they are sent."""
        levels = [f"tp{number}" for number in range(1, len(self.exits.take_profits) + 1)]
        return [exit_child_id(self.signal_id, kind) for kind in [*levels, "stop"]]


class ExitPlanStore:
    """What a journal offers the exits engine; a journal without it raises NotImplementedError
    (the default of each method)."""

    async def create_exit_plan(self, plan: ExitPlan) -> bool:
        """Store a new plan; False (and nothing written) when its entry has one already."""
        raise NotImplementedError(f"{type(self).__name__} keeps no exit plans")

    async def advance_exit_plan(self, plan: ExitPlan, children: Sequence[NewSignal] = ()
                                ) -> bool:
        """Replace the stored plan whose version is `plan.version - 1` by `plan`, and store
        `children` (its exit orders, queued) in the same transaction; False, with nothing
        written, when the stored plan is at another version (someone else advanced it)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no exit plans")

    async def exit_plan(self, signal_id: str) -> ExitPlan | None:
        raise NotImplementedError(f"{type(self).__name__} keeps no exit plans")

    async def active_exit_plans(self) -> list[ExitPlan]:
        raise NotImplementedError(f"{type(self).__name__} keeps no exit plans")

    async def entries_without_plan(self, since: float, limit: int = 100) -> list[str]:
        """Ids of entries received since `since` (Unix seconds) that filled, asked for exits
        and have no plan (after a crash between the entry's final status and its plan), oldest
        first. The bound keeps the look at start to the recent part of the journal."""
        raise NotImplementedError(f"{type(self).__name__} keeps no exit plans")


EXIT_CHILD_KINDS = ("tp", "stop")
"""An exit order's id is its entry's, `.`, and `tpN` (take-profit level N) or `stop`."""


def exit_child_id(entry_id: str, kind: str) -> str:
    return f"{entry_id}.{kind}"


def is_exit_order(signal_id: str) -> bool:
    kind = signal_id.rpartition(".")[2]
    return kind == "stop" or (kind.startswith("tp") and kind[2:].isdigit())


PLAN_COLUMNS = (
    "signal_id, plugin, symbol, side, entry_price, quantity, open_quantity, exits_json, stop, "
    "best_price, levels_done, levels_filled, break_even_done, native_stop, state, version, "
    "created_at, updated_at, note"
)
PLAN_TABLE = """CREATE TABLE IF NOT EXISTS exit_plans (
    signal_id TEXT {collate} PRIMARY KEY REFERENCES signals (id),
    plugin TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    entry_price {real} NOT NULL,
    quantity {real} NOT NULL,
    open_quantity {real} NOT NULL,
    exits_json TEXT NOT NULL,
    stop {real},
    best_price {real} NOT NULL,
    levels_done TEXT NOT NULL,
    levels_filled TEXT NOT NULL,
    break_even_done BOOLEAN NOT NULL,
    native_stop BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL,
    note TEXT
)"""
"""Both back ends' table, given their text collation and floating-point type."""
ACTIVE_INDEX = ("CREATE INDEX IF NOT EXISTS exit_plans_active ON exit_plans (plugin, symbol) "
                "WHERE state = 'active'")
ENTRIES_WITHOUT_PLAN = (
    "SELECT s.id FROM signals AS s LEFT JOIN exit_plans AS p ON p.signal_id = s.id "
    "WHERE s.status IN ('filled', 'partially_filled') AND s.id >= PLACEHOLDER "
    "AND p.signal_id IS NULL AND s.order_json LIKE '%\"exits\":{%' "
    "ORDER BY s.id LIMIT PLACEHOLDER"
)
"""An order's JSON holds `"exits":null` unless it asked for exits; PLACEHOLDER is the
driver's."""


def plan_row(plan: ExitPlan) -> tuple[Any, ...]:
    return (
        plan.signal_id, plan.plugin, plan.symbol, plan.side.value, plan.entry_price,
        plan.quantity, plan.open_quantity, plan.exits.model_dump_json(), plan.stop,
        plan.best_price, json.dumps(plan.levels_done), json.dumps(plan.levels_filled),
        plan.break_even_done, plan.native_stop, plan.state.value, plan.version,
        plan.created_at, plan.updated_at, plan.note,
    )


CHANGING = ("open_quantity", "stop", "best_price", "levels_done", "levels_filled",
            "break_even_done", "native_stop", "state", "version", "updated_at", "note")
"""The columns an advance rewrites; the rest are the entry's and never change."""


def update_statement(placeholder: str) -> str:
    """The compare-and-set: the changing columns, where the id and the previous version match;
    its values are `update_values`."""
    assignments = ", ".join(f"{column} = {placeholder}" for column in CHANGING)
    return (f"UPDATE exit_plans SET {assignments} "  # noqa: S608 - constant column names
            f"WHERE signal_id = {placeholder} AND version = {placeholder}")


def update_values(plan: ExitPlan) -> tuple[Any, ...]:
    by_column = dict(zip(PLAN_COLUMNS.split(", "), plan_row(plan), strict=True))
    return (*(by_column[column] for column in CHANGING), plan.signal_id, plan.version - 1)


def plan_from(row: Sequence[Any]) -> ExitPlan:
    (signal_id, plugin, symbol, side, entry_price, quantity, open_quantity, exits_json, stop,
     best_price, levels_done, levels_filled, break_even_done, native_stop, state, version,
     created_at, updated_at, note) = row
    return ExitPlan(
        signal_id=signal_id, plugin=plugin, symbol=symbol, side=OrderSide(side),
        entry_price=entry_price, quantity=quantity, open_quantity=open_quantity,
        exits=ManagedExits.model_validate_json(exits_json), stop=stop, best_price=best_price,
        levels_done=tuple(json.loads(levels_done)), levels_filled=tuple(json.loads(levels_filled)),
        break_even_done=bool(break_even_done), native_stop=bool(native_stop),
        state=ExitPlanState(state), version=version, created_at=created_at,
        updated_at=updated_at, note=note,
    )
