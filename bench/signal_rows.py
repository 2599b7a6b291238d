"""Rows a and b of `make bench` alone, for work on the receive path: bare Starlette, then the
full signed path of one or more source trees (executor on, and with `--receive-only` also off),
in turns so that each tree sees the same machine.

    python -m bench.signal_rows --tree ../main --tree . --rounds 2 --receive-only

The server's `PYTHONPATH` is the tree, so one environment serves them all. As in `make bench`,
CPU per request is read from the server process over wrk's run (after the executor drained).
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
from pathlib import Path

from bench import scenarios
from bench.report import ROWS_HEADER
from bench.run import measure, start_baseline
from tests.e2e.server import TEST_SECRET, start_server
from webhook.auth.signatures import WebhookSecret


def bare_row(workdir: Path, secret: WebhookSecret) -> str:
    process, url = start_baseline(workdir)
    try:
        return measure("a. bare Starlette", f"{url}/webhook", workdir, secret, connections=32,
                       pid=process.pid).row()
    finally:
        process.terminate()
        process.wait()


def full_row(tree: Path, workdir: Path, secret: WebhookSecret, *, execute: bool) -> str:
    env = {"PYTHONPATH": str(tree.resolve()), "TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "0",
           "TRADEHOOK_EXECUTION__ENABLED": "true" if execute else "false"}
    server = start_server(workdir, env=env)
    try:
        what = "executing" if execute else "executor off"
        return measure(f"b. {tree}, {what}", server.url + "/webhook", workdir, secret,
                       connections=32, pid=server.process.pid,
                       settle=functools.partial(scenarios.drained, server)).row()
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", action="append", type=Path, required=True,
                        help="a source tree whose server is measured (repeat for several)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--receive-only", action="store_true",
                        help="also each tree with its executor off")
    arguments = parser.parse_args()
    secret = WebhookSecret.parse(TEST_SECRET)
    modes = (True, False) if arguments.receive_only else (True,)
    print("\n".join(ROWS_HEADER))
    with tempfile.TemporaryDirectory(prefix="tradehook-bench-rows-") as tmp:
        for round_number in range(arguments.rounds):
            workdir = Path(tmp) / f"{round_number}"
            workdir.mkdir()
            print(f"{bare_row(workdir, secret)} load {os.getloadavg()[0]:.1f}", flush=True)
            for index, tree in enumerate(arguments.tree):
                for execute in modes:
                    where = workdir / f"{index}-{execute}"
                    load = os.getloadavg()[0]
                    print(f"{full_row(tree, where, secret, execute=execute)} load {load:.1f}",
                          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
