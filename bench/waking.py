"""What this machine charges a thread for waiting: the same Python work, timed back to back
and right after the thread has slept, and the CPU that each sleep and wake-up costs of its own.

A signal at 50/s finds the server asleep for 20 ms, and at 1,000/s the event loop sleeps
between signals and while the WAL is synced. On a machine where a wake-up is cheap and the
caches stay warm, neither changes what the signal's own work costs. Where they are not (a
virtual machine whose idle CPU goes back to its host), every step after a wake-up runs slower,
and the wake-up itself is CPU time the server process is charged for, which the wrk rows' CPU
per request includes.

`python -m bench.waking` times a piece of the signal path that does no I/O (the body read into
a validated `Order` and its signature checked) with `time.thread_time`, in one thread: back to
back, after 1 ms asleep and after 20 ms asleep. The thread's own CPU over each run
(`resource.getrusage(RUSAGE_THREAD)`), less the work's, is what the sleeps and wake-ups cost.
It also times the one `fdatasync` that a durable receipt needs (of 4 KB just written to a file
already allocated) after the same gaps: its wall time, and the thread's CPU inside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.floor import BODY
from plugins.orders import Order
from webhook.auth.signatures import WebhookSecret, sign, verify_signature

GAPS_S = (0.0, 0.001, 0.02)
"""How long the thread sleeps before each piece of work: not at all, 1 ms (signals at
1,000/s), 20 ms (at 50/s)."""


@dataclass(frozen=True)
class AfterSleep:
    gap_s: float
    work_us: float
    """The median of the work's own CPU time, each piece timed alone."""
    wake_us: float
    """The thread's CPU per piece beyond the work: its sleep and its wake-up."""


@dataclass(frozen=True)
class SyncAfterSleep:
    gap_s: float
    wall_us: float
    """The median wall time of one fdatasync."""
    cpu_us: float
    """The median of the thread's CPU time inside it."""


@dataclass(frozen=True)
class Waking:
    runs: tuple[AfterSleep, ...]
    """One per gap in `GAPS_S`, in that order."""
    syncs: tuple[SyncAfterSleep, ...]
    """One per gap in `GAPS_S`, in that order."""

    def after(self, gap_s: float) -> AfterSleep:
        return next(run for run in self.runs if run.gap_s == gap_s)

    def sync_after(self, gap_s: float) -> SyncAfterSleep:
        return next(sync for sync in self.syncs if sync.gap_s == gap_s)

    def slower(self, gap_s: float) -> float:
        """How many times the work's own cost after `gap_s` asleep is its cost back to back."""
        return self.after(gap_s).work_us / self.after(0.0).work_us


def signal_work() -> Callable[[], object]:
    """A piece of a signal's own work with no I/O: its signature checked, its body read into
    a validated `Order`."""
    secret = WebhookSecret.generate()
    stamp = int(time.time())
    headers = {"webhook-id": "msg-1", "webhook-timestamp": str(stamp),
               "webhook-signature": sign(secret, "msg-1", stamp, BODY)}

    def work() -> object:
        verify_signature([secret], headers, BODY)
        return Order.model_validate(orjson.loads(BODY))

    return work


def _thread_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def after_sleep(work: Callable[[], object], gap_s: float, count: int) -> AfterSleep:
    for _ in range(50):  # warm, back to back
        work()
    times: list[int] = []
    began = _thread_cpu_s()
    for _ in range(count):
        if gap_s:
            time.sleep(gap_s)
        start = time.thread_time_ns()
        work()
        times.append(time.thread_time_ns() - start)
    per_piece_us = (_thread_cpu_s() - began) / count * 1e6
    work_us = statistics.median(times) / 1e3
    return AfterSleep(gap_s, work_us, max(0.0, per_piece_us - sum(times) / count / 1e3))


def sync_after_sleep(fd: int, gap_s: float, count: int) -> SyncAfterSleep:
    block = b"\x01" * 4096
    walls: list[int] = []
    cpus: list[int] = []
    for n in range(count):
        if gap_s:
            time.sleep(gap_s)
        os.pwrite(fd, block, n % 256 * len(block))
        cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
        os.fdatasync(fd)
        walls.append(time.perf_counter_ns() - wall)
        cpus.append(time.thread_time_ns() - cpu)
    return SyncAfterSleep(gap_s, statistics.median(walls) / 1e3, statistics.median(cpus) / 1e3)


def measure_waking(count: int = 300, directory: Path | None = None) -> Waking:
    """`count` pieces and syncs after each gap (ten times as many back to back and after 1 ms,
    where they take less time), the syncs of a file in `directory` (the journal's disk; the
    current directory by default): about 20 s in all."""
    work = signal_work()
    runs = tuple(after_sleep(work, gap, count if gap >= 0.01 else 10 * count)
                 for gap in GAPS_S)
    with tempfile.TemporaryDirectory(prefix="tradehook-waking-", dir=directory or Path()) as tmp:
        fd = os.open(Path(tmp) / "synced", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, bytes(256 * 4096), 0)
            os.fsync(fd)
            syncs = tuple(sync_after_sleep(fd, gap, count if gap >= 0.01 else 10 * count)
                          for gap in GAPS_S)
        finally:
            os.close(fd)
    return Waking(runs, syncs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    waking = measure_waking(parser.parse_args().count)
    for run in waking.runs:
        print(f"after {run.gap_s * 1e3:4.0f} ms asleep: the work {run.work_us:6.1f} us "
              f"({waking.slower(run.gap_s):.1f}x back to back), the sleep and wake-up "
              f"{run.wake_us:6.1f} us of the thread's CPU")
    for sync in waking.syncs:
        print(f"after {sync.gap_s * 1e3:4.0f} ms asleep: an fdatasync of 4 KB {sync.wall_us:6.1f}"
              f" us, of which the thread's CPU {sync.cpu_us:6.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
