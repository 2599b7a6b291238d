"""The load test of hostile clients: while 500 slow or vanishing connections hammer the real
`tradehook serve`, a well-behaved sender's signed signals are still acknowledged quickly and the
server's memory stays bounded. Loopback only; every loop is bounded in count and time.

The attackers: 200 send a request head one line a second (the head deadline closes them), 200
send a plausible signed head and then a 64 KiB body at 1 KiB a second (the body deadline answers
them 408), 100 send half a body and hang up, again and again. Each reconnects when dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import RunningServer, start_server
from webhook.auth.signatures import signature_headers

SLOW_HEADS, SLOW_BODIES, ABORTERS = 200, 200, 100
READ_SECONDS = 3
GOOD_SIGNALS = 200
ATTACK_SECONDS = 25.0
"""Upper bound of the whole attack (it ends as soon as the good signals are through)."""
P99_LIMIT = 0.050
RSS_LIMIT = 150 * 1024 * 1024


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = start_server(tmp_path, env={"TRADEHOOK_CLIENT_READ_SECONDS": str(READ_SECONDS),
                                          "TRADEHOOK_LOG_LEVEL": "info"})
    yield running
    running.stop()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Attack:
    def __init__(self, server: RunningServer) -> None:
        self.port = int(server.url.rsplit(":", 1)[1])
        self.server = server
        self.stop = asyncio.Event()
        self.connections = 0
        self.open_now = 0

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), 5)
        except (OSError, TimeoutError):
            await asyncio.sleep(0.2)
            return None
        self.connections += 1
        return reader, writer

    async def _run(self, one_round: object, delay: float) -> None:
        # Independent clients: their rounds (and so their deadlines) do not fall together.
        await asyncio.sleep(delay)
        while not self.stop.is_set():
            opened = await self._connect()
            if opened is None:
                continue
            reader, writer = opened
            self.open_now += 1
            try:
                await one_round(reader, writer)  # type: ignore[operator]
            except (OSError, TimeoutError):
                pass
            finally:
                self.open_now -= 1
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    async def slow_head(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\n")
        for n in range(60):
            if self.stop.is_set() or reader.at_eof():
                return
            writer.write(f"x-pad-{n}: 1\r\n".encode())
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1024), 1.0) == b"":
                    return

    async def slow_body(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers = signature_headers(self.server.secret, b"x" * 65_536)
        headers["webhook-signature"] = "v1,AAAA"
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: text/plain\r\n"
                     f"content-length: 65536\r\n{head}\r\n".encode())
        for _ in range(64):
            if self.stop.is_set():
                return
            writer.write(b"x" * 1024)
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1024), 1.0):
                    return  # answered (408): reconnect

    async def aborter(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        headers = signature_headers(self.server.secret, b"y" * 65_536)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"POST /webhook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: text/plain\r\n"
                     f"content-length: 65536\r\n{head}\r\n".encode() + b"y" * 32_768)
        await writer.drain()
        await asyncio.sleep(1.0)

    def start(self) -> list[asyncio.Task[None]]:
        rounds = ([self.slow_head] * SLOW_HEADS + [self.slow_body] * SLOW_BODIES
                  + [self.aborter] * ABORTERS)
        spread = READ_SECONDS / len(rounds)
        return [asyncio.create_task(self._run(one, n * spread)) for n, one in enumerate(rounds)]


async def attack_until(server: RunningServer, stop_file: Path, report: Path) -> None:
    """The attackers' side (run in a process of its own, so that their work does not slow the
    well-behaved client's measurements): attack until `stop_file` appears, then report."""
    attack = Attack(server)
    tasks = attack.start()
    deadline = time.monotonic() + ATTACK_SECONDS + 15
    opened = False
    while time.monotonic() < deadline and not await asyncio.to_thread(stop_file.exists):
        if not opened and attack.open_now >= 450:
            opened = True
            report.with_suffix(".ready").write_text(str(attack.open_now), encoding="utf-8")
        await asyncio.sleep(0.1)
    attack.stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    await asyncio.to_thread(report.write_text, str(attack.connections), encoding="utf-8")


def run_attackers(server: RunningServer, stop_file: Path, report: Path) -> None:
    # Real attackers spend their own machines' CPU, not the server's: here they share two
    # cores with it, so they yield to it.
    os.nice(15)
    asyncio.run(attack_until(server, stop_file, report))


def wait_for_file(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not appear"
        time.sleep(0.1)


PEAK_RSS = [0]


def send_good_signals(
    server: RunningServer, tag: str, rss: Callable[[], int] | None = None
) -> list[tuple[float, int]]:
    """Signed signals one after another on a kept-alive connection: (seconds, status) each."""
    timings: list[tuple[float, int]] = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for n in range(GOOD_SIGNALS):
            body = f"buy 0.01 BTC/USDT comment {tag}-{n}".encode()
            headers = {**signature_headers(server.secret, body), "content-type": "text/plain"}
            started = time.perf_counter()
            answer = client.post("/webhook", content=body, headers=headers)
            timings.append((time.perf_counter() - started, answer.status_code))
            if rss is not None:
                PEAK_RSS[0] = max(PEAK_RSS[0], rss())
            time.sleep(0.03)
    return timings


def p99_of(timings: list[tuple[float, int]]) -> float:
    return statistics.quantiles([t for t, _ in timings], n=100)[98]


def test_signed_signals_stay_fast_while_500_slow_clients_hammer_the_server(
    server: RunningServer,
) -> None:
    stop_file, report = server.workdir / "attack.stop", server.workdir / "attack.report"
    attackers = multiprocessing.get_context("fork").Process(
        target=run_attackers, args=(server, stop_file, report), daemon=True
    )
    quiet = send_good_signals(server, "quiet")
    attackers.start()
    peak_rss = 0
    try:
        wait_for_file(report.with_suffix(".ready"), 20)
        timings = send_good_signals(server, "attacked", rss=lambda: rss_bytes(server.process.pid))
        time.sleep(READ_SECONDS + 1)  # at least one round of deadlines under the attack
        peak_rss = max(peak_rss, rss_bytes(server.process.pid))
    finally:
        stop_file.touch()
        attackers.join(60)
    wait_for_file(report, 5)
    assert int(report.read_text(encoding="utf-8")) >= SLOW_HEADS + SLOW_BODIES + ABORTERS
    assert [status for _, status in timings] == [202] * GOOD_SIGNALS
    p99, quiet_p99 = p99_of(timings), p99_of(quiet)
    # The goal is 50 ms; a machine whose disk or CPU is shared makes even the quiet run slower,
    # so what must hold is that the attack costs the well-behaved sender nothing beyond that.
    limit = max(P99_LIMIT, 3 * quiet_p99)
    assert p99 < limit, (f"p99 {p99 * 1000:.1f} ms under attack (quiet: {quiet_p99 * 1000:.1f} "
                         f"ms); slowest {sorted(t for t, _ in timings)[-5:]}")
    peak_rss = max(peak_rss, PEAK_RSS[0])
    assert peak_rss < RSS_LIMIT, f"server RSS reached {peak_rss / 2**20:.0f} MiB"
    assert server.alive()
    assert "Traceback" not in server.log
