"""What a price does to an exit plan: pure, prices in and steps out, no I/O.

A price first tests the stop as it stood (hit: close what remains, once); then the take-profit
levels it reached close their shares of the entry's quantity (a reduce-only close each); then
the stop moves, only ever in the position's favour: to the entry plus the break-even offset once
the break-even trigger is met, and behind the best price by the trailing distance once the
trailing trigger is met and the move is at least the trailing step. Prices are the plugin's
last traded price (`MarketData.last`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from plugins.orders import ExecutionResult, Order, OrderAction, number_text
from webhook.journal.exit_plans import ExitPlan, ExitPlanState

QUANTITY_EPSILON = 1e-9
"""Less than this left open is nothing: the last level closes what remains."""


@dataclass(frozen=True)
class ExitStep:
    """One thing the price did: a take-profit level reached, the stop hit, or the stop moved."""

    kind: Literal["take_profit", "stop_hit", "stop_moved"]
    price: float
    """The price that did it."""
    level: int | None = None
    """Of a take-profit: the level's number, from 1, as the alert gave them."""
    quantity: float | None = None
    """Of a take-profit or a stop hit: what to close."""
    stop: float | None = None
    """Of a stop move: where the stop is now."""
    reason: Literal["trailing", "break_even"] | None = None
    """Of a stop move: which rule moved it."""

    def describe(self) -> str:
        price = number_text(self.price)
        if self.kind == "take_profit":
            return (f"take-profit level {self.level} reached at {price}: closing "
                    f"{number_text(self.quantity or 0)}")
        if self.kind == "stop_hit":
            return f"stop hit at {price}: closing {number_text(self.quantity or 0)}"
        rule = "break-even" if self.reason == "break_even" else "trailing stop"
        return f"{rule}: stop moved to {number_text(self.stop or 0)} (price {price})"


@dataclass(frozen=True)
class ExitDecision:
    plan: ExitPlan
    """The plan after the price (the same plan when nothing changed)."""
    steps: tuple[ExitStep, ...] = ()


def initial_plan(signal_id: str, plugin: str, order: Order, result: ExecutionResult, *,
                 entry_price: float, native_stop: bool, now: float) -> ExitPlan:
    """The plan of an entry that just filled: its stop is the order's stop-loss, or (better for
    the position) the trailing stop's, when that one trails from the entry."""
    assert order.exits is not None and order.side is not None  # noqa: S101 - entries with exits
    quantity = (order.quantity if order.action is OrderAction.REVERSE and order.quantity
                else result.filled_quantity)
    plan = ExitPlan(
        signal_id=signal_id, plugin=plugin, symbol=order.symbol, side=order.side,
        entry_price=entry_price, quantity=quantity, open_quantity=quantity, exits=order.exits,
        stop=order.stop_loss, best_price=entry_price, native_stop=native_stop,
        created_at=now, updated_at=now, note="plan created",
    )
    trailing = order.exits.trailing_stop
    if trailing is not None and trailing.trigger is None:
        trailed = _toward_entry(plan, entry_price, trailing.distance(entry_price))
        plan = plan.model_copy(update={"stop": _better_stop(plan, plan.stop, trailed)})
    return plan


def decide(plan: ExitPlan, price: float, *, filled_levels: Collection[int] = (),
           now: float) -> ExitDecision:
    """The plan after `price`; `filled_levels` are take-profit levels whose exit orders the
    journal shows filled (break-even `after_take_profit` waits for the first)."""
    if plan.state is ExitPlanState.CLOSED:
        return ExitDecision(plan)
    filled = tuple(sorted(set(plan.levels_filled) | (set(filled_levels) & set(plan.levels_done))))
    start = plan.model_copy(update={"levels_filled": filled})
    if plan.stop is not None and _profit(plan, price) <= _profit(plan, plan.stop):
        step = ExitStep("stop_hit", price, quantity=plan.open_quantity)
        return _decided(plan, start, {"open_quantity": 0.0, "state": ExitPlanState.CLOSED},
                        (step,), now)
    changes: dict[str, object] = {}
    if _profit(plan, price) > _profit(plan, plan.best_price):
        changes["best_price"] = price
    current = start.model_copy(update=changes)
    current, steps = _take_profits(current, price)
    if current.state is ExitPlanState.ACTIVE:
        current, moved = _move_stop(current, price)
        steps += moved
    return _decided(plan, current, {}, steps, now)


def _decided(before: ExitPlan, after: ExitPlan, changes: dict[str, object],
             steps: tuple[ExitStep, ...], now: float) -> ExitDecision:
    after = after.model_copy(update=changes)
    if after == before:
        return ExitDecision(before)
    note = "; ".join(step.describe() for step in steps) or before.note
    return ExitDecision(after.model_copy(update={
        "version": before.version + 1, "updated_at": now, "note": note}), steps)


def _take_profits(plan: ExitPlan, price: float) -> tuple[ExitPlan, tuple[ExitStep, ...]]:
    levels = sorted(enumerate(plan.exits.take_profits, 1),
                    key=lambda numbered: _profit(plan, numbered[1].price))
    open_quantity, done, steps = plan.open_quantity, list(plan.levels_done), []
    for number, level in levels:
        if number in done or _profit(plan, price) < _profit(plan, level.price):
            continue
        quantity = min(open_quantity, plan.quantity * level.share)
        if open_quantity - quantity < QUANTITY_EPSILON * max(1.0, plan.quantity):
            quantity = open_quantity
        open_quantity -= quantity
        done.append(number)
        steps.append(ExitStep("take_profit", price, level=number, quantity=quantity))
        if open_quantity <= 0:
            break
    if not steps:
        return plan, ()
    state = ExitPlanState.CLOSED if open_quantity <= 0 else ExitPlanState.ACTIVE
    return plan.model_copy(update={"open_quantity": max(open_quantity, 0.0),
                                   "levels_done": tuple(done), "state": state}), tuple(steps)


def _move_stop(plan: ExitPlan, price: float) -> tuple[ExitPlan, tuple[ExitStep, ...]]:
    steps: list[ExitStep] = []
    break_even = plan.exits.break_even
    if break_even is not None and not plan.break_even_done:
        reached = (plan.levels_filled if break_even.after_take_profit
                   else _profit(plan, price) >= (break_even.trigger or 0.0))
        target = _toward_entry(plan, plan.entry_price, -break_even.offset)
        if reached and _profit(plan, price) > _profit(plan, target):  # the stop stays below
            moves = plan.stop is None or _profit(plan, target) > _profit(plan, plan.stop)
            plan = plan.model_copy(update={"break_even_done": True,
                                           "stop": target if moves else plan.stop})
            if moves:
                steps.append(ExitStep("stop_moved", price, stop=target, reason="break_even"))
    trailing = plan.exits.trailing_stop
    if trailing is not None and _profit(plan, plan.best_price) >= (trailing.trigger or 0.0):
        target = _toward_entry(plan, plan.best_price, trailing.distance(plan.best_price))
        gain = None if plan.stop is None else _profit(plan, target) - _profit(plan, plan.stop)
        if _profit(plan, price) > _profit(plan, target) and (
                gain is None or (gain > 0 and gain >= (trailing.step or 0.0))):
            plan = plan.model_copy(update={"stop": target})
            steps.append(ExitStep("stop_moved", price, stop=target, reason="trailing"))
    return plan, tuple(steps)


def _profit(plan: ExitPlan, price: float) -> float:
    """How far `price` is in the position's favour from the entry (negative: against it)."""
    return price - plan.entry_price if plan.buying else plan.entry_price - price


def _toward_entry(plan: ExitPlan, price: float, distance: float) -> float:
    """`distance` from `price` against the position (below it for a buy)."""
    return price - distance if plan.buying else price + distance


def _better_stop(plan: ExitPlan, one: float | None, other: float) -> float:
    if one is None:
        return other
    return max(one, other) if plan.buying else min(one, other)
