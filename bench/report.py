"""What `make bench` found, written out: the wrk rows, then each target with its figure and
"met" or "not met", for `bench/RESULTS.md`."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.exchange_latency import OrderLatency
from bench.floor import Floor
from bench.scenarios import Burst, ExecutorCost, Memory, ToPlugin
from bench.waking import Waking

ROWS_HEADER = ("| run | signals/s | executed/s | CPU us/request | p50 ms | p99 ms | errors |",
               "| --- | ---: | ---: | ---: | ---: | ---: | --- |")
"""The head of a table of `Figures.row()` lines."""


@dataclass
class Figures:
    """One wrk row."""

    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    wrapped: bool
    cpu_us: float
    """Server CPU per request, read from the server process (executed signals included)."""
    sustained: float | None
    """Signals per second until the executor had drained what wrk's requests left: with every
    order executed, not only answered (None for a row that does not wait for that)."""
    late: int = 0
    """Of a row at a constant rate, the requests sent more than 1 ms after their time: the
    server kept the connections waiting (`signed_requests.lua`)."""
    requests: int = 0
    """The requests wrk had answered."""

    def row(self) -> str:
        wrapped = " (requests reused)" if self.wrapped else ""
        if self.late:
            wrapped += f" ({self.late:,} sent late)"
        sustained = "-" if self.sustained is None else f"{self.sustained:,.0f}"
        return (f"| {self.name} | {self.rate:,.0f} | {sustained} | {self.cpu_us:,.0f} | "
                f"{self.p50_ms:.2f} | "
                f"{self.p99_ms:.2f} | {self.errors}{wrapped} |")


@dataclass
class Report:
    rows: list[Figures]
    backlog: int
    orders: OrderLatency
    idle_mb: float
    at_50: ToPlugin
    at_1000: ToPlugin
    executors: tuple[ExecutorCost, ...]
    """Target 4 for one symbol's backlog and for signals spread over many symbols."""
    burst: Burst
    memory: Memory
    floor: Floor
    """What a signal costs at the least (`bench.floor`), measured in the same run."""
    bare_commit_p50_ms: float
    """A bare one-row SQLite commit with one fsync, at the time of target 3's row."""
    receipt_commit_p50_ms: float
    """A lone receipt's own statements and commit (`bench.floor.receipt_commit_ms`), then."""
    waking: Waking
    """What this machine charges a thread for sleeping (`bench.waking`)."""
    paced: list[tuple[float, float]]
    """The signed path in process: (CPU per signal as fast as it goes, at 1,000/s) pairs."""
    paper: list[tuple[int, float, float]]
    """A paper order with a state file (`bench.paper_state`): (orders remembered, CPU ms and
    wall ms per order)."""


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [x.split(":", 1)[1].strip()
                 for x in cpuinfo.read_text(encoding="utf-8").splitlines()
                 if x.startswith("model name")]
        cpu = names[0] if names else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def executor_figure(cost: ExecutorCost) -> str:
    shape = ("one symbol (a single lane's backlog)" if cost.symbols == 1
             else f"{cost.symbols} symbols in turn")
    return (f"{shape} **{cost.executor_us:,.0f} us** (stored only {cost.stored_us:,.0f} us; "
            f"pairs {', '.join(f'{d:,.0f}' for d in cost.differences_us)})")


def paced_figure(report: Report) -> str:
    """Why a signal costs more CPU at 1,000/s than as fast as it goes, on this machine."""
    fast = ", ".join(f"{a:,.0f}" for a, _ in report.paced)
    at_rate = ", ".join(f"{b:,.0f}" for _, b in report.paced)
    waking = report.waking.after(0.001)
    return (f"At 1,000/s the server spends {report.rows[2].cpu_us:,.0f} us of CPU per signal "
            f"where row b spends {report.rows[1].cpu_us:,.0f}: the same signed path called in "
            f"process, every order executed, costs {fast} us per signal as fast as it goes "
            f"and {at_rate} us at 1,000/s (`bench.in_process`): only the time between "
            f"signals differs. On this machine a thread's sleep and wake-up costs "
            f"{waking.wake_us:.0f} us of its CPU, and work after 1 ms asleep runs "
            f"{report.waking.slower(0.001):.1f}x slower (`bench.waking`).")


def targets(report: Report) -> list[str]:
    a, b, c, d, e = report.rows
    burst, memory = report.burst, report.memory
    growth = memory.after_all_mb - memory.after_first_mb
    return [
        f"1. Full signed path **{b.rate / a.rate:.2f}** of bare Starlette's requests/s "
        f"(target >= 0.5: {verdict(b.rate / a.rate >= 0.5)}); CPU per acknowledged and "
        f"executed signal **{b.cpu_us:,.0f} us** against **{a.cpu_us:,.0f} us** for bare "
        f"Starlette, **{b.cpu_us / a.cpu_us:.1f}x** (target <= 2x: "
        f"{verdict(b.cpu_us <= 2 * a.cpu_us)}). The least a signal can cost, measured alone "
        f"in this run (`bench.floor`: the journal's four writes {report.floor.fewest_writes_us:.0f}"
        f" us, the signature {report.floor.signature_us:.0f} us, the Order "
        f"{report.floor.order_us:.0f} us): **{report.floor.total_us:.0f} us** beyond the bare "
        f"request, where the target leaves {a.cpu_us:.0f} us; with a signal's attempt kept in "
        f"its own row (two writes, {report.floor.one_row_us:.0f} us) and the paper plugin's own "
        f"call ({report.floor.plugin_call_us:.0f} us), **{report.floor.least_us:.0f} us**.",
        f"2. Answer p99 at 1,000 signals/s offered, every order executed: **{c.p99_ms:.2f} ms** "
        f"(target < 5 ms: {verdict(c.p99_ms < 5)}; achieved {c.rate:,.0f}/s); while the plugin "
        f"takes 10 s per order: **{d.p99_ms:.2f} ms** (target < 50 ms: "
        f"{verdict(d.p99_ms < 50)}; {report.backlog:,} orders still waiting at the end). "
        f"{paced_figure(report)}",
        f"3. From receipt to the plugin's call at 50 signals/s: p50 **{report.at_50.p50_ms:.2f} "
        f"ms**, p99 **{report.at_50.p99_ms:.2f} ms** (targets < 0.5 and < 2 ms: "
        f"{verdict(report.at_50.p50_ms < 0.5 and report.at_50.p99_ms < 2)}; on this disk "
        f"meanwhile, 20 ms apart, a bare one-row commit: p50 {report.bare_commit_p50_ms:.2f} ms, "
        f"and a receipt's own statements and commit alone, without HTTP or the event loop: p50 "
        f"{report.receipt_commit_p50_ms:.2f} ms; `bench.waking`: one fdatasync "
        f"{report.waking.sync_after(0.02).wall_us / 1e3:.2f} ms after 20 ms asleep, "
        f"{report.waking.sync_after(0.0).wall_us / 1e3:.2f} ms back to back, and a signal's "
        f"own Python, its signature and its Order, {report.waking.slower(0.02):.1f}x slower "
        f"after 20 ms asleep than back to back); at 1,000/s: p99 "
        f"**{report.at_1000.p99_ms:.2f} ms** over {report.at_1000.signals:,} signals (target "
        f"< 5 ms: {verdict(report.at_1000.p99_ms < 5)}).",
        "4. Executor CPU per executed order (mock, no delay; CPU per signal stored and "
        "executed, less per signal only stored, the signed path called in process, the median "
        f"of interleaved pairs): {'; '.join(map(executor_figure, report.executors))} "
        f"(target <= 150 us in each: "
        f"{verdict(all(x.executor_us <= 150 for x in report.executors))}).",
        f"5. Burst of {burst.signals:,} signals for 50 symbols written at once: slowest "
        f"acknowledgement **{burst.slowest_ack_s:.2f} s**, {burst.lost} not executed, "
        f"{burst.out_of_order} out of arrival order per symbol (target: all within 3 s, none "
        f"lost, order kept: "
        f"{verdict(burst.slowest_ack_s < 3 and burst.lost == 0 and burst.out_of_order == 0)}).",
        f"6. PostgreSQL journal: **{e.rate:,.0f}** signals/s answered (target >= 2,000: "
        f"{verdict(e.rate >= 2000)}); with every order executed, until the executor had "
        f"drained, **{e.sustained or 0:,.0f}**/s.",
        f"7. Idle RSS of `tradehook serve` on the embedded defaults, its sync helper included: "
        f"**{report.idle_mb:.0f} MB** "
        f"(target < 100 MB: {verdict(report.idle_mb < 100)}); after {memory.first:,} signals "
        f"{memory.after_first_mb:.0f} MB, after {memory.total:,} {memory.after_all_mb:.0f} MB, "
        f"**{growth:+.0f} MB** (target within 20 MB: {verdict(abs(growth) <= 20)}).",
        f"- Also: from a signal to its order at the exchange (ccxt plugin, local fake Binance, "
        f"{report.orders.signals} signals at {report.orders.rate:g}/s): p50 "
        f"**{report.orders.p50_ms:.1f} ms**, p99 **{report.orders.p99_ms:.1f} ms**; "
        f"{report.orders.missing} missing, {report.orders.doubled} doubled.",
        "- Also: a paper order with a `state_file` (`bench.paper_state`, delay 0), CPU per "
        "order: " + ", ".join(f"**{cpu_ms:.2f} ms** with {remembered:,} orders remembered"
                              for remembered, cpu_ms, _ in report.paper) + ".",
    ]


def render(report: Report, duration: int) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Run by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.",
        f"wrk, 2 threads, {duration} s per row, unique pre-signed requests (native JSON); "
        "servers are one uvicorn process each; CPU per request is read from the server "
        "process (`/proc/PID/stat`, every thread, and its running children: the SQLite "
        "journal's sync helper), after the executor has drained (executed/s counts until then; "
        "- where a row does not wait for it). Rows c and d offer a constant 1,000 requests/s "
        "(`bench/signed_requests.lua`); a request sent more than 1 ms after its time is "
        "counted as late.",
        "",
        *ROWS_HEADER,
        *(f.row() for f in report.rows),
        "",
        "## Targets",
        "",
        *targets(report),
        "",
    ]
    return "\n".join(lines)
