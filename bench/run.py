"""`make bench`: tradehook's full signal path against a bare Starlette endpoint, side by side.

Both servers run under the same uvicorn settings, one process each, and wrk (a separate
process) replays unique, pre-signed requests at them. Machines here are shared and noisy, so
the figure that matters is the ratio of the two, measured in the same run.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench import dashboard_open, in_process, paper_state, scenarios
from bench.exchange_latency import measure_order_latency
from bench.floor import bare_commit_ms, measure_floor, receipt_commit_ms
from bench.process_meter import cpu_seconds, rss_mb
from bench.report import Figures, Report, render
from bench.waking import measure_waking
from tests.e2e.server import TEST_SECRET, free_port, start_server
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.auth.signatures import WebhookSecret, sign

HERE = Path(__file__).parent
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
KEPT_BELOW = "<!-- make bench rewrites what is above this line and keeps what is below -->"
"""RESULTS.md's dated sections of earlier steps (before/after tables) survive a new run."""
BODY = '{"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01, "confidence": 0.8}'


def write_requests(path: Path, count: int, secret: WebhookSecret, tag: str) -> None:
    stamp = int(time.time())
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            msg_id = f"bench-{tag}-{n}"
            signature = sign(secret, msg_id, stamp, BODY.encode())
            handle.write(f"{msg_id}\t{stamp}\t{signature}\t{BODY}\n")


def run_wrk(url: str, requests_file: Path, *, connections: int, rate: int = 0,
            threads: int = 2) -> dict[str, int]:
    """wrk's figures; `rate` offers that many requests per second at a constant rate (0: as
    fast as the connections go)."""
    env = {**os.environ, "REQUESTS_FILE": str(requests_file), "WRK_THREADS": str(threads),
           "RATE": str(rate)}
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{DURATION}s", "--timeout", "5s",
         "-s", str(HERE / "signed_requests.lua"), url],
        capture_output=True, text=True, env=env, check=True, encoding="utf-8",
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("{"))
    figures: dict[str, int] = json.loads(line)
    return figures


def measure(name: str, url: str, workdir: Path, secret: WebhookSecret, *, connections: int,
            pid: int, settle: Callable[[], None] | None = None, rate: int = 0,
            count: int = 150_000) -> Figures:
    """One wrk row; `settle` waits, before and after wrk, for the work the requests left (the
    executor), and the row's executed/s counts until it has."""
    requests_file = workdir / f"{name[0]}.tsv"
    write_requests(requests_file, count, secret, tag=f"{time.time_ns()}")
    if settle is not None:
        settle()
    cpu_before = cpu_seconds(pid)
    raw = run_wrk(url, requests_file, connections=connections, rate=rate)
    sustained = None
    if settle is not None:
        answered = time.monotonic()
        settle()
        drain_s = time.monotonic() - answered
        sustained = raw["requests"] / (raw["duration_us"] / 1e6 + drain_s)
    cpu_us = (cpu_seconds(pid) - cpu_before) / max(raw["requests"], 1) * 1e6
    return Figures(
        name=name,
        rate=raw["requests"] / (raw["duration_us"] / 1e6),
        sustained=sustained,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["errors"] + raw["non_2xx"],
        wrapped=raw["sent"] > raw["unique_available"],
        late=raw["late"],
        cpu_us=cpu_us,
        requests=raw["requests"],
    )


def start_baseline(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.baseline:app", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=HERE.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.post(f"{url}/webhook", content=b"{}")
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the baseline server did not start")


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    secret = WebhookSecret.parse(TEST_SECRET)
    with tempfile.TemporaryDirectory(prefix="tradehook-bench-") as tmp:
        report = run_all(Path(tmp), secret)
        beside = dashboard_open.section(*dashboard_open.run(Path(tmp), secret))
    text = render(report, DURATION) + "\n" + beside
    print(text)
    results = HERE / "RESULTS.md"
    kept = results.read_text(encoding="utf-8").partition(KEPT_BELOW)[2] if results.exists() else ""
    results.write_text(f"{text.rstrip()}\n\n{KEPT_BELOW}{kept}", encoding="utf-8")
    return 0


def run_all(workdir: Path, secret: WebhookSecret) -> Report:
    rows: list[Figures] = []
    baseline, baseline_url = start_baseline(workdir)
    try:
        rows.append(measure("a. bare Starlette, as fast as it goes", f"{baseline_url}/webhook",
                            workdir, secret, connections=32, pid=baseline.pid))
    finally:
        baseline.terminate()
        baseline.wait()
    fast = {"TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "0"}
    server = start_server(workdir / "full", env=fast)
    idle_mb = rss_mb(server.process.pid)
    try:
        settle = functools.partial(scenarios.drained, server)
        rows.append(measure("b. tradehook full path, as fast as it goes", server.url + "/webhook",
                            workdir, secret, connections=32, pid=server.process.pid,
                            settle=settle))
        since = time.time()
        rows.append(measure("c. tradehook at 1,000 signals/s offered", server.url + "/webhook",
                            workdir, secret, connections=28, rate=1000, count=30_000,
                            pid=server.process.pid, settle=settle))
        journal = server.workdir / "tradehook.db"
        at_1000 = scenarios.receipt_to_plugin(journal, since, 1000)
        at_50 = scenarios.receipt_to_plugin(journal, scenarios.paced(server, 300, 50), 50)
        bare_commit_p50, _ = bare_commit_ms(workdir)
        receipt_commit_p50, _ = receipt_commit_ms(workdir)
        burst = scenarios.burst(server)
    finally:
        server.stop()
    slow = start_server(workdir / "slow", env={"TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "10000"})
    try:
        rows.append(measure("d. tradehook at 1,000/s offered, plugin takes 10 s/order",
                            slow.url + "/webhook", workdir, secret, connections=28,
                            rate=1000, count=30_000, pid=slow.process.pid))
        backlog = slow.admin_get("/ready").json()["backlog"]
    finally:
        slow.stop()
    with scratch_schema() as postgres_url:
        on_postgres = start_server(workdir / "pg", env={"TRADEHOOK_JOURNAL": postgres_url, **fast})
        try:
            rows.append(measure("e. tradehook full path on PostgreSQL, as fast as it goes",
                                on_postgres.url + "/webhook", workdir, secret, connections=32,
                                pid=on_postgres.process.pid,
                                settle=functools.partial(scenarios.drained, on_postgres)))
        finally:
            on_postgres.stop()
    fresh = start_server(workdir / "memory", env=fast)
    try:
        memory = scenarios.memory(fresh)
    finally:
        fresh.stop()
    orders = measure_order_latency(workdir / "orders")
    executors = (scenarios.executor_cpu(symbols=1),
                 scenarios.executor_cpu(symbols=scenarios.BAR_CLOSE_SYMBOLS))
    return Report(rows, backlog, orders, idle_mb, at_50, at_1000, executors, burst, memory,
                  measure_floor(), bare_commit_p50, receipt_commit_p50,
                  measure_waking(directory=workdir), in_process.paced_pairs(),
                  asyncio.run(paper_state.measure(step=5_000, run=200)))


if __name__ == "__main__":
    raise SystemExit(main())
