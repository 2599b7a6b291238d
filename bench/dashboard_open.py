"""The full signal path with a dashboard open, beside the plain full path, on one server.

The dashboard is what `/trading` costs the server, made heavier: it asks for `/api/stats` (the
last 24 hours, which here is the whole busy journal) and `/api/positions` every 2 seconds and
holds the live stream `/api/events`, for the whole wrk run. Rows: the plain path, the path with
the dashboard open, and the plain path again (the journal has grown by then), so drift on this
shared machine shows. CPU per request, read from the server process, counts what the dashboard's
requests cost too. `python -m bench.dashboard_open` runs only these rows and writes their section
of bench/RESULTS.md; `make bench` runs them after its own rows.
"""

from __future__ import annotations

import functools
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import httpx

from bench import scenarios
from bench.process_meter import cpu_seconds
from bench.report import ROWS_HEADER, Figures
from tests.e2e.server import TEST_SECRET, RunningServer, start_server
from webhook.auth.signatures import WebhookSecret

POLL_SECONDS = 2.0
RESULTS = Path(__file__).parent / "RESULTS.md"
HEADING = "## With a dashboard open"


class OpenDashboard:
    """A dashboard's requests, in threads of this (the benchmark's) process."""

    def __init__(self, server: RunningServer) -> None:
        self._server = server
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._poll, daemon=True),
                         threading.Thread(target=self._follow, daemon=True)]
        self.polls = 0
        self.events = 0
        self.slowest_stats_s = 0.0

    def __enter__(self) -> OpenDashboard:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self._server.url, timeout=30, headers={
            "authorization": f"Bearer {self._server.admin_token}"})

    def _poll(self) -> None:
        with self._client() as client:
            while not self._stop.is_set():
                started = time.monotonic()
                client.get("/api/stats", params={"since": "24h"}).raise_for_status()
                self.slowest_stats_s = max(self.slowest_stats_s, time.monotonic() - started)
                client.get("/api/positions").raise_for_status()
                self.polls += 1
                self._stop.wait(max(POLL_SECONDS - (time.monotonic() - started), 0))

    def _follow(self) -> None:
        with self._client() as client:
            while not self._stop.is_set():
                with client.stream("GET", "/api/events", timeout=None) as stream:
                    for line in stream.iter_lines():
                        self.events += line.startswith("event: signal")
                        if self._stop.is_set():
                            return


IDLE_SECONDS = 20.0


@dataclass(frozen=True)
class IdleCost:
    """Server CPU per second with no signals arriving: what the dashboard itself costs."""

    closed_ms_per_s: float
    open_ms_per_s: float
    signals: int


def idle_cost(server: RunningServer, dashboard: OpenDashboard) -> IdleCost:
    def cpu_per_second() -> float:
        before = cpu_seconds(server.process.pid)
        time.sleep(IDLE_SECONDS)
        return (cpu_seconds(server.process.pid) - before) / IDLE_SECONDS * 1000

    closed = cpu_per_second()
    with dashboard:
        opened = cpu_per_second()
    signals = int(server.admin_get("/api/stats").json()["signals"])
    return IdleCost(closed, opened, signals)


def run(workdir: Path, secret: WebhookSecret
        ) -> tuple[list[Figures], OpenDashboard, IdleCost]:
    from bench.run import measure  # noqa: PLC0415 - bench.run imports this module

    server = start_server(workdir / "dashboard-open",
                          env={"TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "0"})
    try:
        row = functools.partial(measure, url=server.url + "/webhook", workdir=workdir,
                                secret=secret, connections=32, pid=server.process.pid,
                                settle=functools.partial(scenarios.drained, server))
        rows = [row("f. tradehook full path, as fast as it goes")]
        with OpenDashboard(server) as dashboard:
            rows.append(row("g. the same with a dashboard open (stats and positions every 2 s, "
                            "live stream)"))
        rows.append(row("h. the full path again, dashboard closed"))
        idle = idle_cost(server, OpenDashboard(server))
    finally:
        server.stop()
    return rows, dashboard, idle


def section(rows: list[Figures], dashboard: OpenDashboard, idle: IdleCost) -> str:
    plain = (rows[0].cpu_us + rows[2].cpu_us) / 2
    opened = rows[1].cpu_us
    return "\n".join([
        HEADING,
        "",
        "The full path on one server, without and with a dashboard open (`bench/dashboard_open.py`"
        "; the dashboard asks for `/api/stats?since=24h`, over the whole journal of the run, and "
        "`/api/positions` every 2 s and follows `/api/events`). Run on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores.",
        "",
        *ROWS_HEADER,
        *(figures.row() for figures in rows),
        "",
        f"CPU per request with the dashboard open: **{opened:,.0f} us** against **{plain:,.0f} "
        f"us** without (the mean of f and h), **{opened / plain - 1:+.1%}**; the dashboard made "
        f"{dashboard.polls} polls (slowest stats answer {dashboard.slowest_stats_s:.2f} s) and "
        f"saw {dashboard.events:,} signal events.",
        "",
        f"What the dashboard itself costs, with no signals arriving (a journal of "
        f"{idle.signals:,} signals, {IDLE_SECONDS:.0f} s each): the server uses "
        f"**{idle.open_ms_per_s:.1f} ms of CPU per second** with it open against "
        f"**{idle.closed_ms_per_s:.1f} ms** with it closed. This is the steadier figure: the "
        "rows above divide a cost per second by however many requests this shared machine let "
        "through.",
        "",
    ])


def replace_section(text: str, new: str) -> str:
    """RESULTS.md with this section replaced (or added at the end)."""
    start = text.find(HEADING)
    if start < 0:
        return text.rstrip("\n") + "\n\n" + new
    end = text.find("\n## ", start + len(HEADING))
    return text[:start] + new + ("" if end < 0 else text[end + 1:])


def main() -> int:
    secret = WebhookSecret.parse(TEST_SECRET)
    with tempfile.TemporaryDirectory(prefix="tradehook-bench-") as tmp:
        new = section(*run(Path(tmp), secret))
    print(new)
    RESULTS.write_text(replace_section(RESULTS.read_text(encoding="utf-8"), new),
                       encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
