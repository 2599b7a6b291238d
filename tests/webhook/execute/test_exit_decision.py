"""The exit decision: prices in, steps out (trailing stop, break-even, ladder, stop hit)."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.orders import ExecutionResult, ExecutionStatus, Order
from webhook.execute.exits.decision import ExitDecision, decide, initial_plan
from webhook.journal.exit_plans import ExitPlan, ExitPlanState


def plan_for(exits: dict[str, Any], *, side: str = "buy", quantity: float = 3,
             entry: float = 100.0, **order: Any) -> ExitPlan:
    entry_order = Order.model_validate({"symbol": "ES", "side": side, "quantity": quantity,
                                        "exits": exits, **order})
    filled = ExecutionResult(success=True, status=ExecutionStatus.FILLED,
                             filled_quantity=quantity, average_price=entry)
    return initial_plan("E", "paper", entry_order, filled, entry_price=entry,
                        native_stop=False, now=0.0)


def walk(plan: ExitPlan, *prices: float, filled: tuple[int, ...] = ()) -> list[ExitDecision]:
    decisions = []
    for price in prices:
        decision = decide(plan, price, filled_levels=filled, now=1.0)
        plan = decision.plan
        decisions.append(decision)
    return decisions


def test_a_trailing_stop_starts_behind_the_entry_follows_the_best_price_never_back() -> None:
    plan = plan_for({"trailing_stop": {"amount": 5}})
    assert plan.stop == 95

    stops = [d.plan.stop for d in walk(plan, 103, 101, 108, 104)]

    assert stops == [98, 98, 103, 103]


def test_a_trailing_stop_by_percent_trails_the_best_price_for_a_sell() -> None:
    plan = plan_for({"trailing_stop": {"percent": 10}}, side="sell")
    assert plan.stop == pytest.approx(110)

    last = walk(plan, 90, 95)[-1].plan

    assert (last.best_price, last.stop) == (90, pytest.approx(99))


def test_a_trailing_trigger_waits_for_the_profit_and_a_step_skips_small_moves() -> None:
    plan = plan_for({"trailing_stop": {"amount": 2, "trigger": 5, "step": 1}})
    assert plan.stop is None

    stops = [d.plan.stop for d in walk(plan, 104, 105, 105.5, 106.2)]

    assert stops == [None, 103, 103, 104.2]


def test_the_stop_hit_closes_what_remains_once() -> None:
    plan = plan_for({"trailing_stop": {"amount": 5}})

    hit, after = walk(plan, 108, 102.5, 90)[1:]

    assert [(s.kind, s.quantity) for s in hit.steps] == [("stop_hit", 3)]
    assert (hit.plan.state, hit.plan.open_quantity) == (ExitPlanState.CLOSED, 0)
    assert after.steps == () and after.plan == hit.plan


def test_a_three_level_ladder_closes_the_position_in_its_shares() -> None:
    plan = plan_for({"take_profits": [{"price": 110, "share": 0.5}, {"price": 105, "share": 0.25},
                                      {"price": 120, "share": 0.25}]}, quantity=4)

    decisions = walk(plan, 106, 112, 125)

    assert [[(s.level, s.quantity) for s in d.steps] for d in decisions] == [
        [(2, 1)], [(1, 2)], [(3, 1)]]
    assert decisions[-1].plan.state is ExitPlanState.CLOSED
    assert decisions[-1].plan.levels_done == (2, 1, 3)


def test_a_jump_past_several_levels_closes_each_of_them() -> None:
    plan = plan_for({"take_profits": [{"price": 105, "share": 0.5}, {"price": 110, "share": 0.5}]},
                    quantity=2)

    (decision,) = walk(plan, 111)

    assert [(s.level, s.quantity) for s in decision.steps] == [(1, 1), (2, 1)]
    assert decision.plan.open_quantity == 0


def test_break_even_after_the_first_take_profit_waits_for_its_fill() -> None:
    plan = plan_for({"take_profits": [{"price": 105, "share": 0.5}, {"price": 110, "share": 0.5}],
                     "break_even": {"after_take_profit": True, "offset": 0.5}},
                    quantity=2, stop_loss=95)

    sent = walk(plan, 106)[-1]
    assert (sent.plan.stop, sent.plan.levels_done) == (95, (1,))
    moved = decide(sent.plan, 106, filled_levels={1}, now=2.0)

    assert [(s.kind, s.stop, s.reason) for s in moved.steps] == [
        ("stop_moved", 100.5, "break_even")]
    assert moved.plan.break_even_done and moved.plan.levels_filled == (1,)


def test_break_even_by_trigger_with_an_offset_for_a_sell() -> None:
    plan = plan_for({"break_even": {"trigger": 4, "offset": 1}}, side="sell", stop_loss=106)

    stops = [d.plan.stop for d in walk(plan, 97, 96, 99)]

    assert stops == [106, 99, 99]


def test_nothing_changes_without_a_better_price() -> None:
    plan = plan_for({"trailing_stop": {"amount": 5}})

    decision = decide(plan, 99, now=5.0)

    assert decision.steps == () and decision.plan is plan
