"""Row e of `make bench` alone, for work on the PostgreSQL journal: the full path on a
PostgreSQL journal, as fast as it goes, with the server's code from one or more source trees,
run in turns so that each tree sees the same machine.

    python -m bench.postgres_row --tree ../main --tree . --rounds 2

Each round runs every tree once (a fresh schema each time); the server's `PYTHONPATH` is the
tree, so one environment serves them all. As in `make bench`, CPU per request is read from
the server process over wrk's run, and counts whatever the executor did meanwhile.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench.run import measure
from tests.e2e.server import TEST_SECRET, start_server
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.auth.signatures import WebhookSecret


def one_run(tree: Path, workdir: Path, secret: WebhookSecret) -> str:
    env = {"PYTHONPATH": str(tree.resolve()), "TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "0"}
    with scratch_schema() as postgres_url:
        server = start_server(workdir, env={"TRADEHOOK_JOURNAL": postgres_url, **env})
        try:
            figures = measure(f"e. {tree}", server.url + "/webhook", workdir, secret,
                              connections=32, pid=server.process.pid)
        finally:
            server.stop()
    return figures.row()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", type=Path, required=True,
                        help="a source tree whose server is measured (repeat for several)")
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    secret = WebhookSecret.parse(TEST_SECRET)
    print("| run | signals/s | CPU us/request | p50 ms | p99 ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory(prefix="tradehook-bench-pg-") as tmp:
        for round_number in range(arguments.rounds):
            for index, tree in enumerate(arguments.tree):
                workdir = Path(tmp) / f"{round_number}-{index}"
                load = os.getloadavg()[0]
                print(f"{one_run(tree, workdir, secret)} load {load:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
