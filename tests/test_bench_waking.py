"""`make bench`'s measures of what waiting costs on this machine (`bench.waking`, and the signed
path paced in process): kept runnable, since `make bench` reads them only late in its run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bench import in_process
from bench.waking import GAPS_S, measure_waking

pytestmark = pytest.mark.anyio


def test_the_same_work_and_an_fdatasync_are_timed_after_each_gap(tmp_path: Path) -> None:
    waking = measure_waking(count=5, directory=tmp_path)
    assert [run.gap_s for run in waking.runs] == list(GAPS_S)
    assert [sync.gap_s for sync in waking.syncs] == list(GAPS_S)
    assert all(run.work_us > 0 and run.wake_us >= 0 for run in waking.runs)
    assert all(sync.wall_us > 0 and sync.cpu_us >= 0 for sync in waking.syncs)
    assert list(tmp_path.iterdir()) == []  # its file removed
    assert waking.slower(0.0) == 1.0
    assert waking.slower(0.02) == waking.after(0.02).work_us / waking.after(0.0).work_us


def test_the_signed_path_is_measured_as_fast_as_it_goes_and_at_a_constant_rate() -> None:
    """Every signal answered 202 and executed in both (`tradehook_cpu` raises otherwise)."""
    [(fast, paced)] = in_process.paced_pairs(rounds=1, count=50, rate=500)
    assert fast > 0 and paced > 0


async def test_paced_calls_are_spread_at_the_rate() -> None:
    called: list[float] = []

    async def app(scope: object, receive: object, send: Any) -> None:
        called.append(time.monotonic())
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    statuses = await in_process.paced(app, in_process.signed_requests(11, "paced"), rate=100)
    assert statuses == [202] * 11
    assert called[-1] - called[0] >= 0.1 * 0.99  # ten intervals of 10 ms
