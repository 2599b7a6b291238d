"""The one worker thread that blocking broker libraries run on."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from plugins.errors import NotStarted
from plugins.worker_thread import WorkerThread

pytestmark = pytest.mark.anyio


async def test_calls_run_one_at_a_time_in_order_on_one_named_thread() -> None:
    worker = WorkerThread("mt5", "mt5-mt5")
    worker.start()
    seen: list[tuple[int, str]] = []

    def call(n: int) -> int:
        time.sleep(0.01 if n == 0 else 0)
        seen.append((n, threading.current_thread().name))
        return n * 10

    try:
        results = await asyncio.gather(*(worker.run(lambda n=n: call(n)) for n in range(3)))
    finally:
        await worker.close()
    assert results == [0, 10, 20]
    assert [n for n, _ in seen] == [0, 1, 2]
    assert {name for _, name in seen} == {"mt5-mt5_0"}


async def test_before_start_and_after_close_it_is_not_started() -> None:
    worker = WorkerThread("nt", "nt-nt")
    with pytest.raises(NotStarted, match=r"^plugin 'nt' is not started$"):
        await worker.run(lambda: None)
    worker.start()
    await worker.close()
    assert not worker.running
    with pytest.raises(NotStarted):
        await worker.run(lambda: None)


async def test_close_runs_the_last_call_on_the_thread_first() -> None:
    worker = WorkerThread("nt", "nt-nt")
    worker.start()
    where: list[str] = []
    await worker.close(lambda: where.append(threading.current_thread().name))
    assert where == ["nt-nt_0"]
    await worker.close()  # a second close does nothing
