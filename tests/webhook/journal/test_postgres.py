"""What only the PostgreSQL journal has: URLs, several processes on one database, its server.

Everything both back ends promise is in test_journal.py, which runs against each.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.webhook.journal.journal_helpers import queued_signal
from tests.webhook.journal.postgres_helpers import connect, scratch_schema, with_query
from webhook.config.loader import load_settings
from webhook.errors import ConfigError, JournalError
from webhook.journal import Lease, SignalRecord, SignalStatus, SqliteJournal, open_journal
from webhook.journal.postgres import PostgresJournal
from webhook.journal.postgres_schema import CLAIM, SCHEMA_VERSION
from webhook.journal.postgres_url import parse_postgres_url, shown_journal_url
from webhook.journal.postgres_writes import _HAND_ON, _INSERT_LEASED, Receipts

pytestmark = pytest.mark.anyio
PASSWORD = "hunter2-" + uuid.uuid4().hex


@pytest.fixture
def journal(postgres_journal: PostgresJournal) -> PostgresJournal:
    return postgres_journal


def connections_named(application_name: str) -> int:
    with connect() as connection:
        row = connection.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    return int(row[0])


async def settled_count(application_name: str, expected: int) -> int:
    """Connections under this name once closing ones have gone (a backend exits a bit late)."""
    for _ in range(50):
        if (count := connections_named(application_name)) == expected:
            break
        await asyncio.sleep(0.02)
    return count


def test_pool_size_is_read_from_the_url_and_kept_from_libpq() -> None:
    url = parse_postgres_url("postgresql://app@db:5432/tradehook?sslmode=require&pool_size=3")
    assert url.pool_size == 3
    assert "pool_size" not in url.conninfo and "sslmode=require" in url.conninfo
    assert parse_postgres_url("postgres://app@db/tradehook").pool_size == 10


@pytest.mark.parametrize("size", ["0", "101", "ten", "", "²"])
def test_wrong_pool_size_names_the_parameter_and_hides_the_password(size: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={
            "TRADEHOOK_JOURNAL": f"postgresql://app:{PASSWORD}@db/tradehook?pool_size={size}"
        })
    message = str(caught.value)
    assert message.startswith("journal:") and "pool_size" in message
    assert PASSWORD not in message


def test_password_never_shows_in_the_redacted_url() -> None:
    url = parse_postgres_url(
        f"postgresql://app:{PASSWORD}@db/tradehook?password={PASSWORD}x&sslmode=require"
    )
    assert PASSWORD not in url.redacted and PASSWORD not in repr(url)
    assert url.redacted.startswith("postgresql://app:***@db/tradehook?password=***")
    assert url.scrub(f"failed for {PASSWORD}x") == "failed for ***"
    assert PASSWORD not in repr(PostgresJournal(f"postgresql://app:{PASSWORD}@db/tradehook"))


def test_settings_take_a_postgresql_journal_which_has_no_path(tmp_path: Path) -> None:
    settings = load_settings(env={"TRADEHOOK_JOURNAL": "postgresql://app@db:5432/tradehook"})
    assert settings.journal_path is None


def test_journal_url_chooses_the_back_end(tmp_path: Path) -> None:
    assert isinstance(open_journal("postgresql://app@db/tradehook"), PostgresJournal)
    assert isinstance(open_journal("postgres://app@db/tradehook"), PostgresJournal)
    assert isinstance(open_journal(f"sqlite:///{tmp_path / 'j.db'}"), SqliteJournal)
    with pytest.raises(ConfigError, match="journal: expected"):
        open_journal("mysql://app@db/tradehook")


async def test_unreachable_server_is_a_journal_error_without_the_password() -> None:
    journal = PostgresJournal(f"postgresql://app:{PASSWORD}@127.0.0.1:1/tradehook")
    with pytest.raises(JournalError, match="cannot open the journal at postgresql://app:\\*\\*\\*@"
                       ) as caught:
        await journal.open()
    assert PASSWORD not in str(caught.value)
    assert not await journal.healthy()


async def test_newer_schema_is_refused(postgres_url: str) -> None:
    journal = PostgresJournal(postgres_url)
    await journal.open()
    await journal.close()
    with connect(postgres_url) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(JournalError, match="newer tradehook"):
        await PostgresJournal(postgres_url).open()


async def opened_as_left_by(postgres_url: str, *older: str) -> PostgresJournal:
    """A journal opened on tables that the statements `older` took back to what an older
    tradehook left."""
    journal = PostgresJournal(postgres_url)
    await journal.open()
    await journal.close()
    with connect(postgres_url) as connection:
        for statement in older:
            connection.execute(statement)
    again = PostgresJournal(postgres_url)
    await again.open()
    return again


async def test_a_schema_2_journal_gets_the_exit_plans_table(postgres_url: str) -> None:
    again = await opened_as_left_by(postgres_url, "DROP TABLE exit_plans",
                                    "UPDATE schema_version SET version = 2")
    try:
        assert await again.active_exit_plans() == []
    finally:
        await again.close()
    with connect(postgres_url) as connection:
        assert connection.execute("SELECT version FROM schema_version").fetchone() == (
            SCHEMA_VERSION,)


async def test_a_schema_3_journal_gets_the_index_of_leased_signals(postgres_url: str) -> None:
    again = await opened_as_left_by(postgres_url, "DROP INDEX signals_leased",
                                    "UPDATE schema_version SET version = 3")
    await again.close()
    with connect(postgres_url) as connection:
        indexes = {row[0] for row in connection.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    assert "signals_leased" in indexes


async def test_handing_on_reads_only_the_lanes_leased_signals(postgres_url: str) -> None:
    """Whether someone else holds the lane is read from the index of leased signals, not from
    every pending signal of the lane: its cost must not grow with the lane's backlog."""
    journal = PostgresJournal(postgres_url)
    await journal.open()
    try:
        finished = queued_signal()
        await journal.record(finished)
        for _ in range(300):
            await journal.record(queued_signal())
    finally:
        await journal.close()
    with connect(postgres_url) as connection:
        connection.execute("ANALYZE signals")
        connection.execute("BEGIN")
        plan = "\n".join(row[0] for row in connection.execute(
            "EXPLAIN (ANALYZE) " + _HAND_ON.replace("%b", "%s"),
            ([finished.id], ["someone"], [30.0], [None], [False], [time.time()])).fetchall())
        connection.execute("ROLLBACK")
    assert "signals_leased" in plan


def rows_read(plan: dict[str, Any]) -> int:
    """The most rows any node of an EXPLAIN (ANALYZE, FORMAT JSON) plan produced."""
    produced = int(plan["Actual Rows"] * plan["Actual Loops"])
    return max([produced, *(rows_read(child) for child in plan.get("Plans", []))])


def common_table_expressions(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plans of a statement's WITH queries, wherever they sit in its plan."""
    found = [plan] if plan.get("Subplan Name", "").startswith("CTE ") else []
    for child in plan.get("Plans", []):
        found += common_table_expressions(child)
    return found


async def test_a_claim_reads_each_lanes_head_not_its_backlog(postgres_url: str) -> None:
    """The claim finds the lanes and their heads by index seeks: with 300 signals queued in
    one lane it reads a handful of rows, where one sort over every pending signal read them
    all (12 ms with 3,000 queued, and a claim follows many receipts under a backlog)."""
    journal = PostgresJournal(postgres_url)
    await journal.open()
    try:
        for _ in range(300):
            await journal.record(queued_signal())
        for _ in range(2):
            await journal.record(queued_signal("ETH/USDT"))
        # Someone else holds the oldest head: the look for a live lease finds one.
        assert len(await journal.claim("other", lease_seconds=60, limit=1)) == 1
    finally:
        await journal.close()
    with connect(postgres_url) as connection:
        connection.execute("ANALYZE signals")
        connection.execute("BEGIN")
        [(plan,)] = connection.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + CLAIM,
            {"owner": "me", "lease_seconds": 60.0, "limit": 10, "excluded": []}).fetchall()
        connection.execute("ROLLBACK")
    # What finds and locks the heads; the UPDATE that leases them joins the few it found.
    finding = common_table_expressions(plan[0]["Plan"])
    assert finding
    assert max(rows_read(part) for part in finding) <= 10


class StatementsSent:
    """Stands for a connection: keeps what a batched write sends, runs nothing."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def execute(self, query: str, params: Any = None) -> None:
        self.sent.append((query, params))


async def test_a_receipt_behind_a_backlog_nobody_holds_reads_one_row_of_it(
    postgres_url: str,
) -> None:
    """A receipt that may join its lane behind its executor's leased signals looks at the
    lane's newest pending signal first: held by no one, the lane is not counted, where the
    count read `LANE_AHEAD` rows of the backlog for every receipt."""
    journal = PostgresJournal(postgres_url)
    await journal.open()
    try:
        for _ in range(300):
            await journal.record(queued_signal())
    finally:
        await journal.close()
    newcomer = queued_signal().model_copy(
        update={"lease": Lease("me", 30, joins_lane=True)})
    connection = StatementsSent()
    await Receipts().send(connection, [(newcomer, ())])  # type: ignore[arg-type]
    [params] = [params for query, params in connection.sent if query == _INSERT_LEASED]
    with connect(postgres_url) as server:
        server.execute("ANALYZE signals")
        server.execute("BEGIN")
        [(plan,)] = server.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + _INSERT_LEASED, params).fetchall()
        server.execute("ROLLBACK")
    [lanes] = [part for part in common_table_expressions(plan[0]["Plan"])
               if part["Subplan Name"] == "CTE lanes"]
    assert rows_read(lanes) <= 1


async def test_every_statement_is_planned_for_the_tables_as_they_are(
    journal: PostgresJournal,
) -> None:
    assert journal._pool is not None
    async with journal._pool.connection() as connection:
        pooled = await (await connection.execute("SHOW plan_cache_mode")).fetchone()
    writer = journal._writer
    assert writer is not None and writer._connection is not None
    written = await (await writer._connection.execute("SHOW plan_cache_mode")).fetchone()
    assert pooled == written == ("force_custom_plan",)


async def test_processes_opening_at_once_create_the_schema_once(postgres_url: str) -> None:
    journals = [PostgresJournal(postgres_url) for _ in range(4)]
    await asyncio.gather(*(journal.open() for journal in journals))
    await asyncio.gather(*(journal.close() for journal in journals))
    with connect(postgres_url) as connection:
        rows = connection.execute("SELECT version FROM schema_version").fetchall()
    assert len(rows) == 1


async def test_pool_keeps_pool_size_connections_until_closed(postgres_url: str) -> None:
    name = f"tradehook-test-{uuid.uuid4().hex[:8]}"
    journal = PostgresJournal(with_query(postgres_url, pool_size=3, application_name=name))
    await journal.open()
    assert await settled_count(name, 3) == 3
    await journal.close()
    assert await settled_count(name, 0) == 0


async def test_journal_recovers_when_the_server_cuts_its_connections(postgres_url: str) -> None:
    name = f"tradehook-test-{uuid.uuid4().hex[:8]}"
    journal = PostgresJournal(with_query(postgres_url, pool_size=2, application_name=name))
    await journal.open()
    try:
        with connect() as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s", (name,),
            )
        assert await settled_count(name, 0) == 0  # cut, not still being cut
        signal = queued_signal()
        assert (await journal.record(signal)).signal_id == signal.id
        assert await journal.healthy()
    finally:
        await journal.close()


async def test_commits_stay_durable_where_the_server_makes_them_lazy() -> None:
    with scratch_schema(options="-csynchronous_commit=off") as url:
        journal = PostgresJournal(url)
        await journal.open()
        try:
            assert journal._pool is not None
            async with journal._pool.connection() as connection:
                row = await (await connection.execute("SHOW synchronous_commit")).fetchone()
        finally:
            await journal.close()
    assert row == ("on",)


async def test_text_postgresql_cannot_hold_is_stored_replaced(
    journal: PostgresJournal,
) -> None:
    signal = queued_signal(key="alert\x00one").model_copy(update={"reason": "bad \ud800 byte"})
    await journal.record(signal)
    assert (await journal.record(queued_signal(key="alert\x00one"))).duplicate
    stored = await journal.get(signal.id)
    assert stored is not None
    assert (stored.idempotency_key, stored.reason) == ("alert\ufffdone", "bad ? byte")


async def test_duplicates_from_two_processes_at_once_store_one_signal(postgres_url: str) -> None:
    receivers = [PostgresJournal(postgres_url) for _ in range(2)]
    for receiver in receivers:
        await receiver.open()
    try:
        keys = [f"alert-{n}" for n in range(40)]
        answers = await asyncio.gather(*(
            receiver.record(queued_signal(key=key)) for key in keys for receiver in receivers
        ))
    finally:
        for receiver in receivers:
            await receiver.close()
    for first, second in zip(answers[::2], answers[1::2], strict=True):
        assert first.signal_id == second.signal_id
        assert sorted([first.duplicate, second.duplicate]) == [False, True]
    with connect(postgres_url) as connection:
        assert connection.execute("SELECT COUNT(*) FROM signals").fetchone() == (len(keys),)


async def test_two_executors_never_share_a_signal_nor_a_symbol(postgres_url: str) -> None:
    symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT"]
    signals = [queued_signal(symbols[n % len(symbols)]) for n in range(100)]
    executors = {owner: PostgresJournal(postgres_url) for owner in ("host-a", "host-b")}
    for journal in executors.values():
        await journal.open()
    for signal in signals:
        await executors["host-a"].record(signal)
    running: dict[str | None, str] = {}
    executed: list[SignalRecord] = []

    async def execute(journal: PostgresJournal, owner: str, record: SignalRecord) -> None:
        number = await journal.start_attempt(record.id, time.time(), owner=owner)
        await asyncio.sleep(0.002)
        executed.append(record)
        del running[record.symbol]
        await journal.finish_attempt(record.id, number, outcome="result",
                                     status=SignalStatus.FILLED)

    async def work(owner: str) -> None:
        journal = executors[owner]
        while len(executed) < len(signals):
            claimed = await journal.claim(owner, lease_seconds=30, limit=10)
            for record in claimed:
                assert record.symbol not in running, (
                    f"{owner} claimed {record.id} while {running[record.symbol]} runs"
                )
                running[record.symbol] = record.id
            await asyncio.gather(*(execute(journal, owner, record) for record in claimed))
            if not claimed:
                await asyncio.sleep(0.001)

    try:
        await asyncio.wait_for(asyncio.gather(work("host-a"), work("host-b")), timeout=60)
    finally:
        for journal in executors.values():
            await journal.close()
    assert sorted(r.id for r in executed) == sorted(s.id for s in signals)
    for symbol in symbols:
        in_order = [s.id for s in signals if s.order and s.order.symbol == symbol]
        assert [r.id for r in executed if r.symbol == symbol] == in_order


def test_journal_urls_are_shown_without_a_password() -> None:
    assert shown_journal_url(f"postgres://app:{PASSWORD}@db/t") == "postgres://app:***@db/t"
    assert shown_journal_url("sqlite:///var/lib/tradehook.db") == "sqlite:///var/lib/tradehook.db"


async def test_a_receipt_leased_as_it_is_stored_is_written_once(
    postgres_url: str, journal: PostgresJournal
) -> None:
    # Stored and then leased by a second statement, the row was two versions of itself, with
    # five index entries each for the server to write and vacuum: the first row of a new
    # table would then sit in the page's second slot.
    signal = queued_signal("BTC/USDT")
    signal = signal.model_copy(update={"lease": Lease("here", 30, starting=signal.id)})
    stored = await journal.record(signal)
    assert (stored.leased, stored.attempt) == (True, 1)
    with connect(postgres_url) as connection:
        row = connection.execute(
            "SELECT ctid::text, status, lease_owner FROM signals WHERE id = %s", (signal.id,)
        ).fetchone()
    assert row == ("(0,1)", "executing", "here")
