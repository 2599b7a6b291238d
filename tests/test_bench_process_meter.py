"""`bench.process_meter`'s reading of PostgreSQL's CPU, which row e of `bench.side_by_side`
reports beside the server's own."""

from __future__ import annotations

from bench.process_meter import postgres_cpu_seconds
from tests.webhook.journal.postgres_helpers import connect, scratch_schema


def test_the_cpu_of_a_postgresql_backend_at_work_is_counted() -> None:
    with scratch_schema() as url, connect(url) as connection:
        before = postgres_cpu_seconds()
        # About a quarter of a second of one backend's CPU on this kind of machine.
        connection.execute("SELECT count(*) FROM generate_series(1, 3000000)").fetchone()
        used = postgres_cpu_seconds() - before
    assert used >= 0.05
