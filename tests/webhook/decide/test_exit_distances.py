"""Managed exits given in pips (PineConnector's betrigger= and trail...=) become price distances
with the broker's pip size when the signal is decided, or the signal is refused without one.

Until the exits engine lands, the policy rejects orders with exits (rule "exits") after placing
them: these tests check the placed order, not its status."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.orders import BreakEven, ManagedExits, TrailingStop
from tests.webhook.decide.policy_helpers import PolicyBench, policy_bench
from webhook.journal import SignalStatus

pytestmark = pytest.mark.anyio
LICENSE = "60123456789"
PAPER = {"type": "mock", "slippage": 0, "prices": {"GBPJPY": 190.0, "EURUSD": 1.085,
                                                    "BTCUSDT": 50_000.0},
         "symbol_specs": {"GBPJPY": {"digits": 3}, "EURUSD": {"digits": 5}}}


async def bench_for(tmp_path: Path) -> PolicyBench:
    return await policy_bench(tmp_path, {"plugins": {"paper": PAPER}, "sources": {"pc": {}}})


async def test_pips_on_a_five_digit_pair_are_ten_points(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path)
    verdict = await bench.decide(f"{LICENSE},buy,EURUSD,risk=1,betrigger=15,beoffset=2,"
                                 "trailtrig=30,traildist=20,trailstep=5", "pc")
    assert verdict.order.exits == ManagedExits(
        trailing_stop=TrailingStop(amount=0.002, trigger=0.003, step=0.0005),
        break_even=BreakEven(trigger=0.0015, offset=0.0002),
    )


async def test_pips_on_a_three_digit_pair_are_hundredths(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path)
    verdict = await bench.decide(f"{LICENSE},sell,GBPJPY,risk=1,traildist=20", "pc")
    assert verdict.order.exits == ManagedExits(trailing_stop=TrailingStop(amount=0.2))


async def test_pips_on_a_symbol_without_specs_are_rejected_saying_why(tmp_path: Path) -> None:
    bench = await bench_for(tmp_path)
    verdict = await bench.decide(f"{LICENSE},buy,BTCUSDT,risk=1,betrigger=50", "pc")
    assert (verdict.status, verdict.rule) == (SignalStatus.REJECTED, "protective_prices")
    assert "a distance in pips needs the symbol's pip size" in (verdict.reason or "")
    assert verdict.order.exits is None
