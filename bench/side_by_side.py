"""Rows of `make bench` for several source trees in turns, so that each tree sees the same
machine: bare Starlette (row a) once a round, then the full path (row b: SQLite journal, the
executor drained before CPU is read; row e: PostgreSQL, as row e of `make bench` reads it) with
the server's code from each tree.

    python -m bench.side_by_side --row b --tree ../main --tree . --rounds 3
    python -m bench.side_by_side --row e --drain --tree ../main --tree .
    python -m bench.side_by_side --row b --receive-only --tree ../main --tree .

The server's `PYTHONPATH` is the tree, so one environment serves them all. Machines here are
shared and their speed drifts within minutes: the ratio of a tree's CPU per request to the
bare request's of the same round is what compares, and the median over rounds. Row e adds the
CPU that PostgreSQL's server processes used per request meanwhile, on the same cores.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench import scenarios
from bench.process_meter import postgres_cpu_seconds
from bench.report import ROWS_HEADER, Figures
from bench.run import measure, start_baseline
from tests.e2e.server import TEST_SECRET, start_server
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.auth.signatures import WebhookSecret


@contextlib.contextmanager
def journal_env(row: str) -> Iterator[dict[str, str]]:
    if row == "e":
        with scratch_schema() as postgres_url:
            yield {"TRADEHOOK_JOURNAL": postgres_url}
    else:
        yield {}


def tree_row(row: str, tree: Path, workdir: Path, secret: WebhookSecret, *, drain: bool,
             execute: bool = True) -> tuple[Figures, float | None]:
    """The row's figures for the tree's server, and on row e PostgreSQL's CPU per request
    meanwhile (microseconds, every server process of it)."""
    env = {"PYTHONPATH": str(tree.resolve()), "TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "0",
           "TRADEHOOK_EXECUTION__ENABLED": "true" if execute else "false"}
    with journal_env(row) as journal:
        server = start_server(workdir, env={**journal, **env})
        # Row b counts the executor's work to the end; row e, as in `make bench`, what it did
        # during wrk's run, unless `drain` asks for the end too.
        settle = (functools.partial(scenarios.drained, server) if row == "b" or drain
                  else None)
        try:
            name = f"{row}. {tree}" if execute else f"{row}. {tree}, executor off"
            database_before = postgres_cpu_seconds() if row == "e" else None
            figures = measure(name, server.url + "/webhook", workdir, secret,
                              connections=32, pid=server.process.pid, settle=settle)
            if database_before is None:
                return figures, None
            database = postgres_cpu_seconds() - database_before
            return figures, database / max(figures.requests, 1) * 1e6
        finally:
            server.stop()


def bare_row(workdir: Path, secret: WebhookSecret) -> Figures:
    workdir.mkdir(parents=True)
    baseline, url = start_baseline(workdir)
    try:
        return measure("a. bare Starlette", f"{url}/webhook", workdir, secret, connections=32,
                       pid=baseline.pid)
    finally:
        baseline.terminate()
        baseline.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--row", choices=["b", "e"], default="b")
    parser.add_argument("--tree", action="append", type=Path, required=True,
                        help="a source tree whose server is measured (repeat for several)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--drain", action="store_true",
                        help="row e: read the CPU once the executor has drained the backlog")
    parser.add_argument("--receive-only", action="store_true",
                        help="also each tree with its executor off (receiving and storing)")
    arguments = parser.parse_args()
    secret = WebhookSecret.parse(TEST_SECRET)
    modes = (True, False) if arguments.receive_only else (True,)
    ratios: dict[tuple[Path, bool], list[float]] = {
        (tree, execute): [] for tree in arguments.tree for execute in modes}
    database = arguments.row == "e"
    extra = (" PostgreSQL CPU us/request |", " ---: |") if database else ("", "")
    print(f"{ROWS_HEADER[0]} x bare |{extra[0]}\n{ROWS_HEADER[1]} ---: |{extra[1]}")
    with tempfile.TemporaryDirectory(prefix="tradehook-side-by-side-") as tmp:
        for round_number in range(arguments.rounds):
            load = os.getloadavg()[0]
            bare = bare_row(Path(tmp) / f"{round_number}-bare", secret)
            print(f"{bare.row()} 1.0 |{' - |' if database else ''} load {load:.1f}", flush=True)
            for index, tree in enumerate(arguments.tree):
                for execute in modes:
                    figures, database_us = tree_row(
                        arguments.row, tree, Path(tmp) / f"{round_number}-{index}-{execute}",
                        secret, drain=arguments.drain, execute=execute)
                    ratios[tree, execute].append(figures.cpu_us / bare.cpu_us)
                    shown = "" if database_us is None else f" {database_us:,.0f} |"
                    print(f"{figures.row()} {ratios[tree, execute][-1]:.1f} |{shown}",
                          flush=True)
    for (tree, execute), values in ratios.items():
        what = "" if execute else ", executor off"
        print(f"{tree}{what}: CPU per request {statistics.median(values):.1f}x the bare "
              f"request's (median of {len(values)} rounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
