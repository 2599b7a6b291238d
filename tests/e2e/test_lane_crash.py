"""Exactly once, in arrival order, through `kill -9` in the middle of one lane's backlog.

Signals for one symbol are posted one after the other (so their arrival order is the order of
posting) faster than the paper account fills them: the lane's next signals are leased as they
are stored and wait with their attempts open, the rest are stored to be handed on, up to
`LANE_AHEAD` at a time with theirs opened too. The server is killed while the backlog drains
and started again on the same folder and journal (SQLite, and PostgreSQL); what reached the
account is read from its state file, which records every order received, repeats included.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from plugins.paper_book import read_book
from tests.e2e.delivery import wait_for, wait_until_settled
from tests.e2e.server import RunningServer, start_server
from tests.webhook.journal.postgres_helpers import scratch_schema
from webhook.auth.signatures import signature_headers
from webhook.journal.records import LANE_AHEAD

pytestmark = pytest.mark.e2e
SIGNALS = 200
KILLED_AFTER = (40, 100)
"""Orders the account holds when the server is killed, the lane's backlog still long: among
those leased at receipt, or among those handed on together after them (`HandedOn.following`)."""
EXECUTING = "SELECT COUNT(*) FROM signals WHERE status = 'executing'"
KILLED_AMONG = 3
"""Signals executing when the server is killed, at least. Each run of a lane's signals opened
together ends with its last one executing alone until the next run is handed on as it
finishes: a kill in that moment leaves one open, not the several this test is about. Three,
not two, as an order may finish between the look and the kill."""


def paper_config(state_file: Path) -> str:
    return ("[plugins.paper]\ntype = 'mock'\ndelay_ms = 20\n"
            f"state_file = {json.dumps(str(state_file))}\n")


@contextlib.contextmanager
def shared_journal(back_end: str) -> Iterator[str | None]:
    """The journal both servers share: None for the embedded SQLite file in their folder,
    else a PostgreSQL URL with a schema of its own."""
    if back_end == "sqlite":
        yield None
        return
    with scratch_schema() as url:
        yield url


def executing(server: RunningServer, journal: str | None) -> int:
    """How many signals the journal holds as executing (attempts open, not finished)."""
    if journal is None:
        database = server.workdir / "tradehook.db"
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            (count,) = db.execute(EXECUTING).fetchone()
    else:
        with psycopg.connect(journal) as db:
            (count,) = db.execute(EXECUTING).fetchone()
    return int(count)


def post_in_order(server: RunningServer, count: int) -> list[str]:
    """Post `count` signed signals for one symbol, each after the answer to the one before; the
    acknowledged signal ids, in the order they were posted."""
    ids = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for number in range(count):
            body = json.dumps({"symbol": "BTC/USDT", "side": "buy" if number % 2 else "sell",
                               "quantity": 0.001, "comment": f"lane-{number:03d}"}).encode()
            headers = signature_headers(server.secret, body, msg_id=f"lane-{number:03d}")
            headers["content-type"] = "application/json"
            answer = client.post("/webhook", content=body, headers=headers)
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["signal_id"])
    return ids


@pytest.mark.parametrize(("back_end", "killed_after"), [
    *(("sqlite", killed_after) for killed_after in KILLED_AFTER),
    ("postgres", KILLED_AFTER[-1]),
])
def test_a_kill_mid_backlog_on_one_lane_executes_each_once_in_arrival_order(
    tmp_path: Path, back_end: str, killed_after: int,
) -> None:
    state_file = tmp_path / "paper.json"
    config = paper_config(state_file)
    with contextlib.ExitStack() as running:
        journal = running.enter_context(shared_journal(back_end))
        env = {} if journal is None else {"TRADEHOOK_JOURNAL": journal}
        first = start_server(tmp_path / "serve", config_toml=config, env=env)
        running.callback(first.stop)
        posted = post_in_order(first, SIGNALS)
        wait_for(lambda: (len(read_book(state_file).received) >= killed_after
                          and executing(first, journal) >= KILLED_AMONG),
                 f"the account to fill the lane's first orders, {KILLED_AMONG} open behind them")
        first.kill()
        before_restart = read_book(state_file).received
        opened_ahead = executing(first, journal)
        port = int(first.url.rsplit(":", 1)[1])
        second = start_server(first.workdir, config_toml=config, env=env, port=port)
        running.callback(second.stop)
        wait_until_settled(second, timeout=60)
        statuses = {second.signal(signal_id)["status"] for signal_id in posted}

    received = read_book(state_file).received
    assert len(before_restart) < SIGNALS - LANE_AHEAD, "the kill did not land mid-backlog"
    # Sent behind one another with their attempts opened at receipt or with a hand-on: the
    # kill left several of the lane's signals executing, each looked up at the account before
    # anything was resent.
    assert opened_ahead > 1
    assert len(received) == len(set(received)), "an order was sent twice"
    assert received == posted, "the lane's orders reached the account out of arrival order"
    assert statuses == {"filled"}
