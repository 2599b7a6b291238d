"""Memory over 100,000 signals while the executor falls behind: `make bench`'s memory row
(`bench.scenarios.memory`) against a server whose paper plugin takes a little time per order
and runs few at once, so that a backlog of tens of thousands builds up and then drains.

RSS is read after the first 10,000 signals and after all of them (each time once drained), and
the backlog and RSS are sampled every second in between. `--tree DIR` runs the server on the
code of another checkout (main's, say) for a side-by-side run with the same client:

    python -m bench.memory_backlog
    python -m bench.memory_backlog --tree /path/to/other/checkout
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path

import httpx

from bench import scenarios
from bench.process_meter import rss_mb
from tests.e2e.server import RunningServer, start_server


class Peaks:
    """The largest backlog and RSS seen while signals arrive and drain."""

    def __init__(self, server: RunningServer) -> None:
        self.backlog = 0
        self.rss_mb = 0.0
        self._server = server
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        headers = {"authorization": f"Bearer {self._server.admin_token}"}
        while not self._stop.wait(1.0):
            try:
                ready = httpx.get(f"{self._server.url}/ready", headers=headers, timeout=10)
                self.backlog = max(self.backlog, int(ready.json().get("backlog", 0)))
                self.rss_mb = max(self.rss_mb, rss_mb(self._server.process.pid))
            except (httpx.HTTPError, ValueError, OSError):
                continue


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, help="run the server on this checkout's code")
    parser.add_argument("--delay-ms", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    env = {"TRADEHOOK_PLUGINS__MOCK__DELAY_MS": str(args.delay_ms),
           "TRADEHOOK_EXECUTION__CONCURRENCY": str(args.concurrency)}
    if args.tree is not None:
        env["PYTHONPATH"] = str(args.tree.resolve())
    with tempfile.TemporaryDirectory(prefix="tradehook-memory-") as tmp:
        server = start_server(Path(tmp), env=env)
        try:
            with Peaks(server) as peaks:
                memory = scenarios.memory(server, drain_timeout=1800.0)
        finally:
            server.stop()
    print(f"idle {memory.idle_mb:.0f} MB; after {memory.first:,} signals "
          f"{memory.after_first_mb:.0f} MB; after {memory.total:,} "
          f"{memory.after_all_mb:.0f} MB ({memory.after_all_mb - memory.after_first_mb:+.0f} MB); "
          f"peak backlog {peaks.backlog:,}, peak RSS {peaks.rss_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
