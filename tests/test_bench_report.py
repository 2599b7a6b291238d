"""`make bench`'s report (`bench.report`): every target of issue 16 is written with its figure
and "met" or "NOT met", from the figures of one run (here, made up: the report is what is
tested, not the machine)."""

from __future__ import annotations

import re

from bench.exchange_latency import OrderLatency
from bench.floor import Floor
from bench.report import Figures, Report, render
from bench.scenarios import Burst, ExecutorCost, Memory, ToPlugin
from bench.waking import AfterSleep, SyncAfterSleep, Waking


def report(*, answer_p99_ms: float) -> Report:
    rows = [
        Figures("a. bare", 27_000, 1.1, 1.5, 0, True, 37, None),
        Figures("b. full", 3_800, 8.0, 12.0, 0, False, 370, 2_700),
        Figures("c. at 1,000/s", 999, 1.6, answer_p99_ms, 0, False, 990, 997),
        Figures("d. slow plugin", 1_000, 1.1, 3.0, 0, False, 650, None),
        Figures("e. postgres", 2_400, 12.0, 26.0, 0, False, 300, 2_400),
    ]
    waking = Waking(
        (AfterSleep(0.0, 11, 1), AfterSleep(0.001, 20, 28), AfterSleep(0.02, 44, 40)),
        (SyncAfterSleep(0.0, 130, 50), SyncAfterSleep(0.001, 170, 57),
         SyncAfterSleep(0.02, 400, 95)),
    )
    return Report(
        rows, 10_000, OrderLatency(400, 50, 2.5, 5.4, 0, 0), 94,
        ToPlugin(50, 300, 0.9, 1.7), ToPlugin(1000, 10_000, 1.5, 4.6),
        (ExecutorCost(1, 122, 150, (121, 122)), ExecutorCost(50, 123, 156, (100, 124))),
        Burst(5000, 1.7, 0, 0), Memory(94, 112, 115, 10_000, 100_000),
        Floor(36, 35, 5, 4, 30, 14), 0.4, 0.47, waking, [(290, 1000), (287, 993)],
        [(0, 0.33, 0.45), (10_000, 0.41, 0.52)],
    )


def test_every_target_is_written_with_its_verdict() -> None:
    text = render(report(answer_p99_ms=4.2), duration=10)
    verdicts = {int(n): line for n, line in re.findall(r"^(\d)\. (.*)$", text, re.MULTILINE)}
    assert sorted(verdicts) == [1, 2, 3, 4, 5, 6, 7]
    assert all("met" in line for line in verdicts.values())
    assert "(target < 5 ms: met;" in verdicts[2]
    assert "290, 287 us per signal as fast as it goes and 1,000, 993 us at 1,000/s" in verdicts[2]
    assert "one fdatasync 0.40 ms after 20 ms asleep, 0.13 ms back to back" in verdicts[3]
    assert "4.0x slower after 20 ms asleep" in verdicts[3]


def test_a_target_missed_says_so() -> None:
    text = render(report(answer_p99_ms=5.2), duration=10)
    assert "**5.20 ms** (target < 5 ms: NOT met;" in text


def test_the_paper_state_files_cost_is_written_by_history() -> None:
    text = render(report(answer_p99_ms=4.2), duration=10)
    assert ("a paper order with a `state_file` (`bench.paper_state`, delay 0), CPU per order: "
            "**0.33 ms** with 0 orders remembered, **0.41 ms** with 10,000 orders remembered."
            ) in text
