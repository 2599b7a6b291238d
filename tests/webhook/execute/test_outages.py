"""The executor through a broker outage: the breaker's wait costs no budget, stale signals are
never sent, and a failure comes only once the budget is spent."""

from __future__ import annotations

import time

import pytest

from plugins.errors import RateLimited, TemporaryError
from plugins.registry import PluginRegistry
from tests.webhook.execute.test_executor import BrokerStandIn, settle, started
from tests.webhook.journal.journal_helpers import queued_signal
from webhook.execute.executor import ExecutionJob, Executor
from webhook.execute.settings import ExecutionSettings, MaxLag
from webhook.journal import NewSignal, SignalRecord, SignalStatus, SqliteJournal

pytestmark = pytest.mark.anyio
OUTAGE = ExecutionSettings(
    retry_budget=0.3, retry_base_delay=0.01, retry_max_delay=0.05,
    breaker_failures=2, breaker_cooldown=0.5,
)


async def through(
    journal: SqliteJournal, broker: BrokerStandIn, settings: ExecutionSettings,
    *signals: NewSignal,
) -> list[SignalRecord]:
    """Store and submit the signals to a started executor; their records once all are final."""
    executor = await started(journal, broker, settings)
    try:
        for signal in signals:
            await journal.record(signal)
            assert signal.order is not None
            executor.submit(ExecutionJob(signal.id, signal.order, signal.plugin or "paper"))
        return await settle(journal, executor, [s.id for s in signals])
    finally:
        await executor.stop(grace=1)


async def test_an_outage_longer_than_the_budget_costs_nothing_while_the_breaker_is_open(
    journal: SqliteJournal,
) -> None:
    # Two failures open the breaker; two probes fail (0.5 s each, 1 s in all: more than the
    # 0.3 s budget); the third probe gets through.
    broker = BrokerStandIn(script=[TemporaryError("503")] * 4)
    head, behind = queued_signal(), queued_signal()
    records = await through(journal, broker, OUTAGE, head, behind)
    assert [r.status for r in records] == [SignalStatus.FILLED, SignalStatus.FILLED]
    assert broker.calls == [head.id] * 5 + [behind.id]  # in order; the head was not given up
    outcomes = [a.outcome for a in records[0].attempts]
    assert outcomes == ["temporary"] * 4 + ["result"]


async def test_only_one_probe_goes_out_while_half_open(journal: SqliteJournal) -> None:
    broker = BrokerStandIn(script=[TemporaryError("503")] * 3)
    settings = OUTAGE.model_copy(update={"retry_budget": 30})
    signals = [queued_signal(f"S{n}") for n in range(4)]  # four lanes at once
    records = await through(journal, broker, settings, *signals)
    assert {r.status for r in records} == {SignalStatus.FILLED}
    # Two failures opened it; the first probe failed alone, the second succeeded alone; then
    # every lane went. Four orders, one per signal, and no request beyond the three failures.
    assert sorted(set(broker.calls)) == sorted(s.id for s in signals)
    assert len(broker.calls) == 3 + 4


async def test_a_signal_past_its_max_lag_is_expired_and_never_sent(
    journal: SqliteJournal,
) -> None:
    settings = OUTAGE.model_copy(update={"max_lag": MaxLag(market=60)})
    broker = BrokerStandIn()
    old = queued_signal().model_copy(update={"received_at": time.time() - 61})
    fresh = queued_signal()
    expired, filled = await through(journal, broker, settings, old, fresh)
    assert expired.status is SignalStatus.EXPIRED
    assert expired.error is not None and "past the max lag of 60 s" in expired.error
    assert [a.outcome for a in expired.attempts] == ["expired"]
    assert filled.status is SignalStatus.FILLED
    assert broker.calls == [fresh.id]


async def test_a_signal_that_ages_while_the_breaker_holds_it_expires_unsent(
    journal: SqliteJournal,
) -> None:
    settings = OUTAGE.model_copy(update={"max_lag": MaxLag(market=1.0), "retry_budget": 60,
                                         "breaker_cooldown": 30})
    broker = BrokerStandIn(script=[TemporaryError("503")] * 2)
    (record,) = await through(journal, broker, settings, queued_signal())
    assert record.status is SignalStatus.EXPIRED
    assert [a.outcome for a in record.attempts] == ["temporary", "temporary", "expired"]
    assert len(broker.calls) == 2  # nothing after the breaker opened


async def test_a_stale_signal_is_not_resent_after_a_lookup_found_nothing(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn()
    signal = queued_signal().model_copy(update={"received_at": time.time() - 400})
    await journal.record(signal)
    await journal.start_attempt(signal.id, time.time())  # a send was in flight at a crash
    registry = PluginRegistry()
    registry.register(broker)
    executor = Executor(journal, registry, OUTAGE, owner="test")
    await executor.start()
    try:
        (record,) = await settle(journal, executor, [signal.id])
    finally:
        await executor.stop(grace=1)
    assert [a.outcome for a in record.attempts] == [None, "not_found", "expired"]
    assert record.status is SignalStatus.EXPIRED
    assert broker.calls == []


async def test_nothing_sleeps_past_the_budget(journal: SqliteJournal) -> None:
    settings = OUTAGE.model_copy(update={"breaker_failures": 1000, "retry_base_delay": 5,
                                         "retry_max_delay": 5})
    broker = BrokerStandIn(script=[TemporaryError("503")] * 100)
    (record,) = await through(journal, broker, settings, queued_signal())
    assert record.status is SignalStatus.FAILED
    assert [a.outcome for a in record.attempts] == ["temporary", "temporary", "gave_up"]


async def test_a_broker_that_says_when_to_come_back_is_believed_over_the_cap(
    journal: SqliteJournal,
) -> None:
    settings = OUTAGE.model_copy(update={"retry_budget": 30, "breaker_failures": 1000})
    broker = BrokerStandIn(script=[RateLimited("429", retry_after=0.4)])
    (record,) = await through(journal, broker, settings, queued_signal())
    assert record.status is SignalStatus.FILLED
    first, second = record.attempts
    assert first.finished_at is not None
    assert second.started_at - first.finished_at >= 0.4  # not retry_max_delay's 0.05
