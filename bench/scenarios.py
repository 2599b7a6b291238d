"""The scenarios of `make bench` beyond wrk's rows: a bar-close burst, the delay from receipt to
the plugin's call, the executor's CPU per order, and memory over 100,000 signals.

Each posts pre-signed native signals with `bench.raw_client` to a real `tradehook serve`, waits
until the executor has drained, and reads the figures from the server process (`/proc`) and from
its SQLite journal, which records when each signal was received, each attempt started and
each result was made; but the executor's CPU per order, which is read in process
(`bench.in_process`), where it holds still.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import in_process
from bench.process_meter import rss_mb
from bench.raw_client import post_all, read_answer, signed_request
from tests.e2e.server import RunningServer


def native_body(symbol: str, n: int) -> bytes:
    return json.dumps({"symbol": symbol, "side": "buy" if n % 2 else "sell", "quantity": 0.01,
                       "confidence": 0.8}).encode()


def requests_for(server: RunningServer, count: int, tag: str, symbols: int = 1) -> list[bytes]:
    host = server.url.removeprefix("http://")
    return [
        signed_request(server.secret, host, f"{tag}-{n}", native_body(f"SYM{n % symbols}USDT", n))
        for n in range(count)
    ]


def post(server: RunningServer, requests: list[bytes], *, connections: int, window: int
         ) -> list[float]:
    """Post the requests; the seconds to each 202 (raises if any was not queued)."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    answers = asyncio.run(post_all(host, int(port), requests, connections=connections,
                                   window=window))
    refused = [a for a in answers if a.status != 202]
    if refused or len(answers) != len(requests):
        raise RuntimeError(f"{len(requests) - len(answers) + len(refused)} of {len(requests)} "
                           f"signals were not queued: {refused[:1]}")
    return [a.seconds for a in answers]


def drained(server: RunningServer, timeout: float = 300.0) -> None:
    """Wait until the executor has nothing left to run."""
    headers = {"authorization": f"Bearer {server.admin_token}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = httpx.get(f"{server.url}/ready", headers=headers, timeout=10).json()
        if ready.get("backlog", 0) == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("the executor did not drain in time")


BAR_CLOSE_SYMBOLS = 50
"""How many symbols the signals of a bar close are for, in the rows that spread them."""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


@dataclass(frozen=True)
class Burst:
    signals: int
    slowest_ack_s: float
    lost: int
    out_of_order: int


def burst(server: RunningServer, *, count: int = 5000,
          symbols: int = BAR_CLOSE_SYMBOLS) -> Burst:
    """`count` signals for `symbols` symbols written at once, as many alerts firing at a bar
    close: every acknowledgement timed, then every signal's execution checked in the journal."""
    requests = requests_for(server, count, f"burst-{time.time_ns()}", symbols)
    acks = post(server, requests, connections=symbols, window=count // symbols)
    drained(server)
    with sqlite3.connect(server.workdir / "tradehook.db") as db:
        rows = db.execute(
            "SELECT s.id, s.symbol, s.status, MIN(a.started_at) FROM signals s "
            "LEFT JOIN attempts a ON a.signal_id = s.id WHERE s.idempotency_key LIKE "
            "'webhook-id:burst-%' GROUP BY s.id ORDER BY s.id").fetchall()
    executed = [r for r in rows if r[2] == "filled"]
    out_of_order = 0
    last_start: dict[str, float] = {}
    for _, symbol, _, started in executed:  # by id, i.e. in order of arrival
        if started < last_start.get(symbol, 0.0):
            out_of_order += 1
        last_start[symbol] = started
    return Burst(count, max(acks), count - len(executed), out_of_order)


@dataclass(frozen=True)
class ToPlugin:
    rate: float
    signals: int
    p50_ms: float
    p99_ms: float


def receipt_to_plugin(journal: Path, since: float, rate: float) -> ToPlugin:
    """From each signal's receipt to the plugin's call, as the journal recorded them: the mock
    plugin (no delay) stamps its result as it is called, with no await in between. (The first
    attempt's start is no measure of it: it may be written with the receipt.)"""
    with sqlite3.connect(journal) as db:
        delays = [row[0] * 1000 for row in db.execute(
            "SELECT MIN(json_extract(a.result_json, '$.timestamp')) - s.received_at "
            "FROM signals s JOIN attempts a ON a.signal_id = s.id "
            "WHERE s.received_at >= ? AND a.result_json IS NOT NULL GROUP BY s.id", (since,))]
    return ToPlugin(rate, len(delays), percentile(delays, 0.5), percentile(delays, 0.99))


def paced(server: RunningServer, count: int, rate: float) -> float:
    """Post `count` signals at `rate` per second, one at a time; the time the first was sent."""
    requests = requests_for(server, count, f"paced-{time.time_ns()}")
    host, port = server.url.removeprefix("http://").rsplit(":", 1)

    async def run() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        began = time.monotonic()
        for n, request in enumerate(requests):
            writer.write(request)
            await writer.drain()
            status, _ = await read_answer(reader)
            if status != 202:
                raise RuntimeError(f"signal {n} answered {status}")
            pause = began + (n + 1) / rate - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
        writer.close()

    first = time.time()
    asyncio.run(run())
    drained(server)
    return first


@dataclass(frozen=True)
class ExecutorCost:
    symbols: int
    """The symbols the signals were for, in turn: one is a single lane's backlog."""
    executor_us: float
    """The median over rounds of (CPU per signal executed - CPU per signal only stored)."""
    stored_us: float
    """The median CPU per signal only stored."""
    differences_us: tuple[float, ...]


def executor_cpu(*, rounds: int = 5, count: int = 3_000, symbols: int = 1) -> ExecutorCost:
    """The executor's CPU per order: tradehook's signed path called in process
    (`bench.in_process`) with the executor on, less the same with it off, in interleaved
    pairs, and the median of the differences. Two servers under wrk, measured the same way,
    gave differences from 113 to 490 us for one tree: each server's figure carries uvicorn's,
    the network's and the machine's noise, and the difference has the noise of both."""
    pairs = in_process.executor_pairs(rounds, count, symbols)
    differences = tuple(executed - stored for executed, stored in pairs)
    return ExecutorCost(symbols, statistics.median(differences),
                        statistics.median(stored for _, stored in pairs), differences)


@dataclass(frozen=True)
class Memory:
    idle_mb: float
    after_first_mb: float
    after_all_mb: float
    first: int
    total: int


def memory(server: RunningServer, *, first: int = 10_000, total: int = 100_000,
           drain_timeout: float = 300.0) -> Memory:
    """RSS idle, after the `first` signals and after `total`, spread over a bar close's
    symbols, each time once the executor has drained."""
    idle = rss_mb(server.process.pid)
    tag = f"mem-{time.time_ns()}"
    post(server, requests_for(server, first, f"{tag}-a", symbols=BAR_CLOSE_SYMBOLS),
         connections=16, window=4)
    drained(server, drain_timeout)
    after_first = rss_mb(server.process.pid)
    remaining = total - first
    for chunk in range(0, remaining, 10_000):
        size = min(10_000, remaining - chunk)
        post(server, requests_for(server, size, f"{tag}-b{chunk}", symbols=BAR_CLOSE_SYMBOLS),
             connections=16, window=4)
    drained(server, drain_timeout)
    return Memory(idle, after_first, rss_mb(server.process.pid), first, total)
