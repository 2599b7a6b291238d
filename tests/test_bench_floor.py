"""`make bench`'s floor (`bench.floor`) runs the journal's own statements: kept runnable as
the journal changes, since `make bench` reads it only at the end of a ten-minute run."""

from __future__ import annotations

from bench.floor import BATCH, measure_floor


def test_the_floor_runs_the_journals_statements_and_times_each_piece() -> None:
    floor = measure_floor(count=2 * BATCH)
    assert floor.fewest_writes_us > 0 and floor.journal_sql_us > 0
    assert floor.signature_us > 0 and floor.order_us > 0
    assert floor.total_us == floor.fewest_writes_us + floor.signature_us + floor.order_us
