"""`make bench`'s floor (`bench.floor`) runs the journal's own statements: kept runnable as
the journal changes, since `make bench` reads it only late in a ten-minute run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.floor import BATCH, measure_floor, receipt_commit_ms


def test_the_floor_runs_the_journals_statements_and_times_each_piece() -> None:
    floor = measure_floor(count=2 * BATCH)
    assert floor.fewest_writes_us > 0 and floor.journal_sql_us > 0
    assert floor.signature_us > 0 and floor.order_us > 0
    assert floor.total_us == floor.fewest_writes_us + floor.signature_us + floor.order_us
    assert floor.one_row_us > 0 and floor.plugin_call_us > 0
    assert floor.least_us == (floor.one_row_us + floor.signature_us + floor.order_us
                              + floor.plugin_call_us)


def test_a_receipts_lone_commit_writes_what_a_receipt_sent_at_once_writes(tmp_path: Path
                                                                          ) -> None:
    p50, p99 = receipt_commit_ms(tmp_path, count=5)
    assert 0 < p50 <= p99
    with sqlite3.connect(tmp_path / "receipts.db") as journal:
        statuses = dict(journal.execute("SELECT status, COUNT(*) FROM signals GROUP BY status"))
        attempts = journal.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    assert statuses == {"filled": 2_005}  # the earlier signals, and each lone receipt's
    assert attempts == 5  # a first attempt opened with each receipt
