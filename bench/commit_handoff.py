"""How long the SQLite journal's COMMITs wait for the GIL on the committer's thread.

`python -m bench.commit_handoff [--symbols N ...]` runs tradehook's signed path in process
(`bench.in_process`: SQLite journal, paper plugin with no delay, executor on) and times every
COMMIT handed to the committer's thread (`webhook.journal.sqlite_durability.CommitThread`):
- *to start*: from the hand-off until the thread runs the call, which it can only do once it
  holds the GIL;
- *COMMIT*: the call itself, the fsync and the GIL taken back after it;
- *round trip*: from the hand-off until the caller's future is done on the event loop;
beside the voluntary context switches of the committer's thread and of the event loop's
(`/proc/self/task/*/status`, Linux). `bench.in_process` and `make bench` (target 4) give the
CPU per order of the same two shapes.

While the event loop's thread is busy, the committer waits for the GIL, and every time the busy
thread lets go of it for a moment (a system call, a statement) the waiting one is woken, finds it
taken again, and sleeps: a context switch each time, and the commit is late. One symbol's
backlog keeps the loop busy from the first signal to the last; signals for many symbols leave
it idle now and then, and there the hand-off costs next to nothing.

On Linux the journal no longer hands its batches to that thread: a helper process syncs the
WAL instead (`webhook.journal.wal_sync`). This measure turns the helper off, as where
`os.fdatasync` is missing, to time the thread that is still used there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import in_process
from bench.scenarios import BAR_CLOSE_SYMBOLS, percentile
from webhook.journal import wal_sync
from webhook.journal.sqlite_durability import CommitThread


@dataclass
class Handoffs:
    """The waits of every COMMIT handed to the committer's thread, in seconds."""

    to_start: list[float] = field(default_factory=list)
    commit: list[float] = field(default_factory=list)
    round_trip: list[float] = field(default_factory=list)
    committer_switches: int = 0
    """Voluntary context switches of the committer's thread over its life."""

    def line(self) -> str:
        return (f"{len(self.commit)} commits; to start {quantiles(self.to_start)}; COMMIT "
                f"{quantiles(self.commit)}; round trip {quantiles(self.round_trip)}; the "
                f"committer's thread switched {self.committer_switches:,} times")


def quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"p50 {statistics.median(values) * 1e3:.2f} ms, "
            f"p90 {percentile(values, 0.9) * 1e3:.2f} ms")


@contextmanager
def timed_handoffs() -> Iterator[Handoffs]:
    """Time every call handed to a `CommitThread` while the block runs."""
    handoffs = Handoffs()
    original, original_stop = CommitThread.run, CommitThread.stop

    def run(self: CommitThread, call: Callable[[], Any]) -> asyncio.Future[Any]:
        handed = time.perf_counter()

        def timed() -> Any:
            started = time.perf_counter()
            handoffs.to_start.append(started - handed)
            try:
                return call()
            finally:
                handoffs.commit.append(time.perf_counter() - started)

        future = original(self, timed)
        future.add_done_callback(
            lambda _: handoffs.round_trip.append(time.perf_counter() - handed))
        return future

    async def stop(self: CommitThread) -> None:
        thread = self._thread
        if thread is not None and thread.native_id is not None:
            handoffs.committer_switches += switches(thread.native_id)
        await original_stop(self)

    CommitThread.run = run  # type: ignore[method-assign]
    CommitThread.stop = stop  # type: ignore[method-assign]
    try:
        yield handoffs
    finally:
        CommitThread.run = original  # type: ignore[method-assign]
        CommitThread.stop = original_stop  # type: ignore[method-assign]


def switches(thread_id: int) -> int:
    """Voluntary context switches of one thread of this process so far (Linux)."""
    status = Path(f"/proc/self/task/{thread_id}/status").read_text(encoding="utf-8")
    for line in status.splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            return int(line.split()[1])
    return 0


def one_shape(symbols: int, count: int) -> str:
    with open(os.devnull, "w", encoding="utf-8") as null:  # noqa: PTH123 - as stderr is
        before = switches(threading.get_native_id())
        with timed_handoffs() as handoffs:
            asyncio.run(in_process.tradehook_cpu(
                count, execute=True, log_level="info", log_stream=null, symbols=symbols))
    loop_switches = switches(threading.get_native_id()) - before
    return (f"{count:,} signals for {symbols} symbol(s), the executor on: {handoffs.line()}, "
            f"the event loop's {loop_switches:,} times (both over the whole run, warm-up and "
            "start-up included)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, nargs="+", default=[1, BAR_CLOSE_SYMBOLS])
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    wal_sync.AVAILABLE = False  # the committer's thread, as where fdatasync is missing
    for symbols in args.symbols:
        print(one_shape(symbols, args.count), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
