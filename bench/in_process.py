"""CPU per request with the ASGI app called directly: no network, no uvicorn, no wrk.

The same concurrent callers post pre-signed requests to a bare Starlette endpoint and to
tradehook's signed path (SQLite journal, paper plugin with no delay, executor on), in one
process each after the other; the figure is process CPU time per request, which stays steady
on a shared machine where wall-clock throughput does not. `python -m bench.in_process` prints
both and their ratio; `--profile FILE` writes a cProfile of tradehook's run; `--symbols N`
posts the signals for N symbols in turn (one by default: a single lane's backlog).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, TextIO

from bench.baseline import app as bare_app
from bench.process_meter import children_cpu_seconds
from tests.e2e.server import TEST_SECRET
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, sign
from webhook.config.settings import Settings
from webhook.observe.logs import configure_logging
from webhook.serve import tune_collector

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]
CALLERS = 32
Request = tuple[list[tuple[bytes, bytes]], bytes]
"""A request's headers and body."""


def body(symbol: int) -> bytes:
    """A native signal for the `symbol`th symbol (the first is BTCUSDT)."""
    name = "BTCUSDT" if symbol == 0 else f"SYM{symbol}USDT"
    return (f'{{"symbol": "{name}", "side": "buy", "quantity": 0.01, "confidence": 0.8}}'
            .encode())


def signed_requests(count: int, tag: str, symbols: int = 1) -> list[Request]:
    """`count` signed signals, for `symbols` symbols in turn."""
    secret = WebhookSecret.parse(TEST_SECRET)
    stamp = int(time.time())
    bodies = [body(n) for n in range(symbols)]
    requests = []
    for n in range(count):
        msg_id = f"inproc-{tag}-{n}"
        content = bodies[n % symbols]
        requests.append(([
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            (b"webhook-id", msg_id.encode()),
            (b"webhook-timestamp", str(stamp).encode()),
            (b"webhook-signature", sign(secret, msg_id, stamp, content).encode()),
        ], content))
    return requests


async def call(app: ASGIApp, request: Request) -> int:
    headers, content = request
    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/webhook", "raw_path": b"/webhook", "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000), "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": content, "more_body": False}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: ASGIApp, requests: list[Request]) -> list[int]:
    queue = iter(requests)
    statuses: list[int] = []

    async def caller() -> None:
        for request in queue:
            statuses.append(await call(app, request))

    await asyncio.gather(*(caller() for _ in range(CALLERS)))
    return statuses


class Lifespan:
    """Runs an app's lifespan (startup before, shutdown after) around the measured calls."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._started = asyncio.Event()
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> None:
        async def receive() -> dict[str, Any]:
            return await self._messages.get()

        async def send(message: dict[str, Any]) -> None:
            if message["type"].startswith("lifespan.startup"):
                self._started.set()
            if message["type"].startswith("lifespan.shutdown"):
                self._stopped.set()

        async def run() -> None:
            await self._app({"type": "lifespan", "state": {}}, receive, send)

        self._task = asyncio.create_task(run())
        await self._messages.put({"type": "lifespan.startup"})
        await self._started.wait()

    async def __aexit__(self, *exc: object) -> None:
        await self._messages.put({"type": "lifespan.shutdown"})
        await self._stopped.wait()
        if self._task is not None:
            await self._task


async def paced(app: ASGIApp, requests: list[Request], rate: float) -> list[int]:
    """Each request called at its time, `rate` per second from now, without waiting for the
    answers before it."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    calls: list[asyncio.Task[int]] = []
    for n, request in enumerate(requests):
        pause = began + n / rate - loop.time()
        if pause > 0:
            await asyncio.sleep(pause)
        calls.append(asyncio.create_task(call(app, request)))
    return list(await asyncio.gather(*calls))


async def cpu_per_request(app: ASGIApp, count: int, settle: Callable[[], Awaitable[None]],
                          profile: cProfile.Profile | None = None,
                          symbols: int = 1, rate: float | None = None
                          ) -> tuple[float, list[int]]:
    """CPU per request of `count` requests: from `CALLERS` callers as fast as the app
    answers, or (`rate`) called at a constant rate."""
    requests = signed_requests(count, f"{time.time_ns()}", symbols)
    await drive(app, signed_requests(200, f"warm-{time.time_ns()}", symbols))
    await settle()
    gc.collect()
    started = process_and_children_cpu()
    if profile is not None:
        profile.enable()
    statuses = await (drive(app, requests) if rate is None else paced(app, requests, rate))
    await settle()
    if profile is not None:
        profile.disable()
    return (process_and_children_cpu() - started) / count * 1e6, statuses


def process_and_children_cpu() -> float:
    """This process's CPU seconds and its running children's (the journal's sync helper)."""
    return time.process_time() + children_cpu_seconds(os.getpid())


async def measure(
    count: int, profile_path: Path | None, *, execute: bool = True, symbols: int = 1
) -> tuple[float, float]:
    """CPU per request of the bare endpoint, then of tradehook's signed path."""
    async def nothing() -> None:
        return None

    bare, _ = await cpu_per_request(bare_app, count, nothing, symbols=symbols)
    return bare, await tradehook_cpu(count, profile_path, execute=execute, symbols=symbols)


async def tradehook_cpu(count: int, profile_path: Path | None = None, *, execute: bool = True,
                        log_level: str = "warning", log_stream: TextIO | None = None,
                        symbols: int = 1, rate: float | None = None) -> float:
    """CPU per signal of tradehook's signed path (SQLite journal, paper plugin with no delay),
    the executor on (until it has drained) or off, its log lines at `log_level` written to
    `log_stream` (kept in memory if None), the signals for `symbols` symbols in turn, as fast
    as they are answered or (`rate`) at a constant rate."""
    with tempfile.TemporaryDirectory(prefix="tradehook-inproc-") as tmp:
        settings = Settings.model_validate({
            "secret": [TEST_SECRET], "journal": f"sqlite:///{Path(tmp) / 'journal.db'}",
            "plugins": {"mock": {"type": "mock", "delay_ms": 0}},
            "log_level": log_level, "execution": {"enabled": execute},
        })
        # As `tradehook serve` does before building the app: else the MCP server's own
        # logging set-up (rich, at INFO) takes the empty root logger and renders every line.
        configure_logging(settings, stream=log_stream or io.StringIO(), log_format="json")
        app = create_app(settings)
        tune_collector()  # as `tradehook serve` does
        async with Lifespan(app):
            state = app.state.services

            async def executed() -> None:
                for _ in range(6000):
                    if not execute or state.executor.backlog == 0:
                        return
                    await asyncio.sleep(0.005)

            profile = cProfile.Profile() if profile_path else None
            try:
                full, statuses = await cpu_per_request(app, count, executed, profile, symbols,
                                                       rate)
            finally:
                gc.unfreeze()  # the next run in this process starts as this one did
            if profile is not None and profile_path is not None:
                profile.dump_stats(str(profile_path))
        refused = sum(1 for s in statuses if s != 202)
        if refused:
            raise RuntimeError(f"{refused} of {count} signals were not queued")
    return full


def paced_pairs(rounds: int = 2, count: int = 3000, rate: float = 1000
                ) -> list[tuple[float, float]]:
    """(CPU per signal as fast as the signals are answered, CPU per signal at `rate` per
    second), `rounds` pairs in turns, at the INFO log level a server runs at, every order
    executed: the same work, only the time between signals differs (`bench.waking`)."""
    with open(os.devnull, "w", encoding="utf-8") as null:  # noqa: PTH123 - as stderr is
        return [(asyncio.run(tradehook_cpu(count, log_level="info", log_stream=null)),
                 asyncio.run(tradehook_cpu(count, log_level="info", log_stream=null,
                                           rate=rate)))
                for _ in range(rounds)]


def executor_pairs(rounds: int = 5, count: int = 3000,
                   symbols: int = 1) -> list[tuple[float, float]]:
    """(CPU per signal stored and executed, CPU per signal only stored), `rounds` pairs in
    turns, both at the INFO log level a server runs at: the executor's CPU per order is their
    difference. Called in process, neither figure carries uvicorn's or the network's cost, and
    each stays within a few per cent from run to run where a server's swings by half.

    With one symbol the orders form one lane's backlog, run one after the other; with many
    (a bar close) the lanes run side by side."""
    with open(os.devnull, "w", encoding="utf-8") as null:  # noqa: PTH123 - as stderr is
        return [(asyncio.run(tradehook_cpu(count, execute=True, log_level="info",
                                           log_stream=null, symbols=symbols)),
                 asyncio.run(tradehook_cpu(count, execute=False, log_level="info",
                                           log_stream=null, symbols=symbols)))
                for _ in range(rounds)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--receive-only", action="store_true",
                        help="the executor off: the cost of receiving and storing alone")
    parser.add_argument("--symbols", type=int, default=1,
                        help="the signals' symbols, in turn (one: a single lane's backlog)")
    args = parser.parse_args()
    bare, full = asyncio.run(measure(args.count, args.profile, execute=not args.receive_only,
                                     symbols=args.symbols))
    what = "stored" if args.receive_only else "stored and executed"
    print(f"bare Starlette: {bare:.0f} us CPU/request; tradehook signed path, {what}: "
          f"{full:.0f} us CPU/signal; ratio {full / bare:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
