"""The rows of `make bench` that issue 16's targets 3 and 4 read, alone, for runs side by side.

`python -m bench.fast_path [--runs N]` measures, as `bench.run` does: the answer's latency at
1,000 signals/s offered with the mock executing every order (wrk, row c: target 2), the delay
from receipt to the plugin's call then and at 50/s (`scenarios.paced`), and
the executor's CPU per order (the signed path called in process with the executor on, less
with it off: the median of five interleaved pairs of 3,000 signals each),
and beside them the floor: a bare SQLite commit in WAL mode with `synchronous=FULL` (one
`fdatasync`, as the journal's), and a lone receipt's own statements and commit
(`bench.floor.receipt_commit_ms`), timed on the same disk at the same time, and what the machine
charges for sleeping then (`bench.waking`), which tells a quiet run from a noisy one.
With `PYTHONPATH=OTHER_TREE` in the environment the servers run that checkout's code (the
editable install points at this one), so that two trees are compared on the same machine, one
run after the other. Prints one line of figures per run, with the load average.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import scenarios
from bench.floor import bare_commit_ms, receipt_commit_ms
from bench.run import measure
from bench.waking import measure_waking
from tests.e2e.server import TEST_SECRET, start_server
from webhook.auth.signatures import WebhookSecret


def tree() -> str:
    """Which checkout's `webhook` the servers import."""
    found = subprocess.run([sys.executable, "-c", "import webhook; print(webhook.__file__)"],
                           capture_output=True, text=True, check=True, encoding="utf-8",
                           cwd=tempfile.gettempdir()).stdout.strip()
    return str(Path(found).parent.parent)


def one_run(workdir: Path, secret: WebhookSecret) -> str:
    load = os.getloadavg()[0]
    floor_p50, floor_p99 = bare_commit_ms(workdir)
    receipt_p50, _ = receipt_commit_ms(workdir)
    waking = measure_waking(directory=workdir)
    server = start_server(workdir / "full", env={"TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "0"})
    try:
        since = time.time()
        row_c = measure("c. tradehook at 1,000 signals/s offered", server.url + "/webhook",
                        workdir, secret, connections=28, rate=1000, count=30_000,
                        pid=server.process.pid, settle=functools.partial(scenarios.drained,
                                                                         server))
        journal = server.workdir / "tradehook.db"
        at_1000 = scenarios.receipt_to_plugin(journal, since, 1000)
        at_50 = scenarios.receipt_to_plugin(journal, scenarios.paced(server, 300, 50), 50)
    finally:
        server.stop()
    executor = scenarios.executor_cpu()
    spread = scenarios.executor_cpu(symbols=scenarios.BAR_CLOSE_SYMBOLS)
    return (f"load {load:.1f}->{os.getloadavg()[0]:.1f} | a sleep and wake-up "
            f"{waking.after(0.001).wake_us:.0f} us, work after 1 ms / 20 ms asleep "
            f"{waking.slower(0.001):.1f}x / {waking.slower(0.02):.1f}x, fdatasync after 20 ms "
            f"{waking.sync_after(0.02).wall_us / 1e3:.2f} ms | bare commit p50 {floor_p50:.2f} ms "
            f"p99 {floor_p99:.2f} ms, a receipt's alone p50 {receipt_p50:.2f} ms | at 50/s p50 "
            f"{at_50.p50_ms:.2f} ms p99 {at_50.p99_ms:.2f} ms | at 1,000/s "
            f"({row_c.rate:.0f}/s done) answer p50 "
            f"{row_c.p50_ms:.2f} ms p99 {row_c.p99_ms:.2f} ms ({row_c.late} sent late), "
            f"to plugin p99 "
            f"{at_1000.p99_ms:.2f} ms over {at_1000.signals} | CPU/signal stored only "
            f"{executor.stored_us:.0f} us, executor {executor.executor_us:.0f} us (median of "
            f"{', '.join(f'{d:.0f}' for d in executor.differences_us)}), over "
            f"{spread.symbols} symbols {spread.executor_us:.0f} us")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    runs = parser.parse_args().runs
    secret = WebhookSecret.parse(TEST_SECRET)
    print(f"servers run {tree()}", flush=True)
    for n in range(runs):
        with tempfile.TemporaryDirectory(prefix="tradehook-fast-path-") as tmp:
            print(f"{time.strftime('%H:%M:%S', time.gmtime())} UTC run {n + 1}: "
                  f"{one_run(Path(tmp), secret)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
