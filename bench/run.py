"""`make bench`: tradehook's full signal path against a bare Starlette endpoint, side by side.

Both servers run under the same uvicorn settings, one process each, and wrk (a separate
process) replays unique, pre-signed requests at them. Machines here are shared and noisy, so
the figure that matters is the ratio of the two, measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.exchange_latency import OrderLatency, measure_order_latency
from tests.e2e.server import TEST_SECRET, free_port, start_server
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.auth.signatures import WebhookSecret, sign

HERE = Path(__file__).parent
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
BODY = '{"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01, "confidence": 0.8}'


@dataclass
class Figures:
    name: str
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    wrapped: bool

    def row(self) -> str:
        wrapped = " (requests reused)" if self.wrapped else ""
        return (f"| {self.name} | {self.rate:,.0f} | {self.p50_ms:.2f} | {self.p99_ms:.2f} | "
                f"{self.errors}{wrapped} |")


def write_requests(path: Path, count: int, secret: WebhookSecret, tag: str) -> None:
    stamp = int(time.time())
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            msg_id = f"bench-{tag}-{n}"
            signature = sign(secret, msg_id, stamp, BODY.encode())
            handle.write(f"{msg_id}\t{stamp}\t{signature}\t{BODY}\n")


def run_wrk(url: str, requests_file: Path, *, connections: int, delay_ms: int = 0,
            threads: int = 2) -> dict[str, int]:
    env = {**os.environ, "REQUESTS_FILE": str(requests_file), "WRK_THREADS": str(threads),
           "DELAY_MS": str(delay_ms)}
    done = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{DURATION}s", "--timeout", "5s",
         "-s", str(HERE / "signed_requests.lua"), url],
        capture_output=True, text=True, env=env, check=True, encoding="utf-8",
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("{"))
    figures: dict[str, int] = json.loads(line)
    return figures


def measure(name: str, url: str, workdir: Path, secret: WebhookSecret, *, connections: int,
            delay_ms: int = 0, count: int = 150_000) -> Figures:
    requests_file = workdir / f"{name[0]}.tsv"
    write_requests(requests_file, count, secret, tag=f"{time.time_ns()}")
    raw = run_wrk(url, requests_file, connections=connections, delay_ms=delay_ms)
    return Figures(
        name=name,
        rate=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["errors"] + raw["non_2xx"],
        wrapped=raw["sent"] > raw["unique_available"],
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


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        lines = cpuinfo.read_text(encoding="utf-8").splitlines()
        names = [x.split(":", 1)[1].strip() for x in lines if x.startswith("model name")]
        cpu = names[0] if names else cpu
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    secret = WebhookSecret.parse(TEST_SECRET)
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="tradehook-bench-") as tmp:
        workdir = Path(tmp)
        baseline, baseline_url = start_baseline(workdir)
        try:
            results.append(measure("a. bare Starlette, as fast as it goes",
                                   f"{baseline_url}/webhook", workdir, secret, connections=32))
        finally:
            baseline.terminate()
            baseline.wait()
        server = start_server(workdir / "full")
        try:
            results.append(measure("b. tradehook full path, as fast as it goes",
                                   server.url + "/webhook", workdir, secret, connections=32))
            results.append(measure("c. tradehook at 1,000 signals/s offered",
                                   server.url + "/webhook", workdir, secret, connections=28,
                                   delay_ms=19, count=30_000))
        finally:
            server.stop()
        slow = start_server(workdir / "slow", env={"TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "10000"})
        try:
            results.append(measure("d. tradehook at 1,000/s offered, plugin takes 10 s/order",
                                   slow.url + "/webhook", workdir, secret, connections=28,
                                   delay_ms=19, count=30_000))
            backlog = httpx.get(f"{slow.url}/ready").json()["backlog"]
        finally:
            slow.stop()
        with scratch_schema() as postgres_url:
            on_postgres = start_server(workdir / "pg", env={"TRADEHOOK_JOURNAL": postgres_url})
            try:
                results.append(measure("e. tradehook full path on PostgreSQL, as fast as it goes",
                                       on_postgres.url + "/webhook", workdir, secret,
                                       connections=32))
            finally:
                on_postgres.stop()
        orders = measure_order_latency(workdir / "orders")
    report = render(results, backlog, orders)
    print(report)
    (HERE / "RESULTS.md").write_text(report, encoding="utf-8")
    return 0


def render(results: list[Figures], backlog: int, orders: OrderLatency) -> str:
    a, b, c, d, e = results
    ratio = b.rate / a.rate
    lines = [
        "# Benchmark results",
        "",
        f"Run by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}.",
        f"wrk, 2 threads, {DURATION} s per row, unique pre-signed requests "
        f"(native JSON, {len(BODY)} bytes); servers are one uvicorn process each.",
        "",
        "| run | signals/s | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | --- |",
        *(f.row() for f in results),
        "",
        f"- Ratio b/a (full path against the bare endpoint, same run): **{ratio:.2f}** "
        f"(target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}).",
        f"- p99 at 1,000 signals/s offered: **{c.p99_ms:.2f} ms** "
        f"(target < 5 ms: {'met' if c.p99_ms < 5 else 'NOT met'}; achieved {c.rate:,.0f}/s).",
        f"- p99 while the plugin takes 10 s per order: **{d.p99_ms:.2f} ms** "
        f"(target < 50 ms: {'met' if d.p99_ms < 50 else 'NOT met'}); "
        f"{backlog:,} orders were still waiting for the plugin at the end.",
        f"- Durable throughput on SQLite: **{b.rate:,.0f}** signals/s "
        f"({b.rate / a.rate:.2f} of bare Starlette); on PostgreSQL: **{e.rate:,.0f}** signals/s "
        f"({e.rate / a.rate:.2f}).",
        f"- From a signal to its order at the exchange (ccxt plugin, local fake Binance, "
        f"{orders.signals} signals at {orders.rate:g}/s): p50 **{orders.p50_ms:.1f} ms**, "
        f"p99 **{orders.p99_ms:.1f} ms**; {orders.missing} missing, {orders.doubled} doubled.",
        "",
        "The full path verifies the HMAC signature, parses and validates the order, applies the "
        "confidence threshold, stores the signal in the SQLite journal (WAL, synchronous=FULL, "
        "group commit) and answers only after the commit has returned.",
        "",
        "## What limits the figures",
        "",
        "One uvicorn process on one core does everything in Python: the bare endpoint spends "
        "about 50 us a request, the full path about ten times that (profiled with py-spy: "
        "Starlette and uvicorn, HMAC verification, JSON and pydantic validation of the order, "
        "the policy, the journal insert and its commit, the log line, the answer), while wrk "
        "takes most of the second core. The journal itself is not the limit: batches of inserts "
        "commit at over 20,000 a second here, and fsync takes about 0.1 ms. Under a rate close "
        "to the full path's capacity, queueing in the single process and the disk's fsync "
        "variance under load set the tail. Rows b and c measure a machine shared with other "
        "work; the ratio b/a is the figure to compare between runs.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
