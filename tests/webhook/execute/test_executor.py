from __future__ import annotations

import asyncio

import pytest

from plugins.base import ExecutionPlugin, PluginCapabilities, PluginConfig
from plugins.errors import OrderRejected, OutcomeUnknown, RateLimited, TemporaryError
from plugins.orders import ExecutionResult, MarketData, Order
from plugins.registry import PluginRegistry
from tests.webhook.journal.journal_helpers import queued_signal
from webhook.execute.executor import ExecutionJob, Executor
from webhook.execute.settings import ExecutionSettings
from webhook.journal import NewSignal, SignalRecord, SignalStatus, SqliteJournal

pytestmark = pytest.mark.anyio
FAST = ExecutionSettings(retry_budget=0.3, retry_base_delay=0.01, retry_max_delay=0.05)


class BrokerStandIn(ExecutionPlugin):
    """A broker that answers from a script: each call pops the next error, if any."""

    capabilities = PluginCapabilities(client_order_ids=True, lookup_by_client_order_id=True)

    def __init__(self, name: str = "paper", *, script: list[Exception] | None = None,
                 delay: float = 0.0) -> None:
        super().__init__(name)
        self.script = list(script or [])
        self.delay = delay
        self.calls: list[str] = []
        self.book: dict[str, ExecutionResult] = {}
        self.lookups: list[str | None] = []
        self.keep_on_unknown = False
        self.gate: asyncio.Event | None = None
        """When set, every send waits for it to open (signals pile up behind the first)."""
        self.in_flight = 0
        self.most_in_flight = 0
        """The most sends that were ever under way at once."""

    async def init(self, config: PluginConfig) -> None:
        pass

    async def execute_order(self, order: Order) -> ExecutionResult:
        assert order.client_order_id is not None
        self.calls.append(order.client_order_id)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        result = ExecutionResult(success=True, status="filled", order_id=f"B-{len(self.calls)}",
                                 client_order_id=order.client_order_id, filled_quantity=1)
        if self.script:
            error = self.script.pop(0)
            if isinstance(error, OutcomeUnknown) and self.keep_on_unknown:
                self.book[order.client_order_id] = result
            raise error
        self.book[order.client_order_id] = result
        return result

    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        self.lookups.append(symbol)
        return self.book.get(client_order_id)

    async def fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, bid=1, ask=1, last=1)

    async def health_check(self) -> bool:
        return True


class BlindBroker(BrokerStandIn):
    capabilities = PluginCapabilities()


async def run(journal: SqliteJournal, broker: BrokerStandIn, *signals: NewSignal,
              settings: ExecutionSettings = FAST) -> list[SignalRecord]:
    executor = await started(journal, broker, settings)
    try:
        for signal in signals:
            await journal.record(signal)
            assert signal.order is not None
            executor.submit(ExecutionJob(signal.id, signal.order, broker.name))
        return await settle(journal, executor, [s.id for s in signals])
    finally:
        await executor.stop(grace=1)


async def started(journal: SqliteJournal, broker: BrokerStandIn,
                  settings: ExecutionSettings = FAST, owner: str = "test") -> Executor:
    registry = PluginRegistry()
    registry.register(broker)
    executor = Executor(journal, registry, settings, owner=owner)
    await executor.start()
    return executor


async def settle(journal: SqliteJournal, executor: Executor, ids: list[str]) -> list[SignalRecord]:
    for _ in range(500):
        records = [await journal.get(i) for i in ids]
        if all(r is not None and r.status not in (SignalStatus.QUEUED, SignalStatus.EXECUTING)
               for r in records) and executor.backlog == 0:
            return [r for r in records if r is not None]
        await asyncio.sleep(0.01)
    raise AssertionError(f"not settled: {[(r.id, r.status) for r in records if r]}")


async def test_queued_signal_is_executed_and_its_result_journaled(journal: SqliteJournal) -> None:
    broker = BrokerStandIn()
    (record,) = await run(journal, broker, queued_signal())
    assert record.status is SignalStatus.FILLED
    assert record.result is not None and record.result.order_id == "B-1"
    assert [(a.number, a.outcome) for a in record.attempts] == [(1, "result")]
    assert broker.calls == [record.id]


async def test_temporary_failures_are_retried_then_succeed(journal: SqliteJournal) -> None:
    broker = BrokerStandIn(script=[RateLimited("429"), TemporaryError("503")])
    (record,) = await run(journal, broker, queued_signal())
    assert record.status is SignalStatus.FILLED
    assert [a.outcome for a in record.attempts] == ["temporary", "temporary", "result"]
    assert record.attempts[0].error == "429"


async def test_retries_stop_once_the_retry_budget_is_spent(journal: SqliteJournal) -> None:
    settings = FAST.model_copy(update={"breaker_failures": 1000})
    broker = BrokerStandIn(script=[TemporaryError("down")] * 1000)
    (record,) = await run(journal, broker, queued_signal(), settings=settings)
    assert record.status is SignalStatus.FAILED
    assert record.error is not None and "(retry budget 0.3 s," in record.error
    assert record.error.endswith(": down")
    tries = [a for a in record.attempts if a.outcome == "temporary"]
    assert len(tries) == len(broker.calls) > 3  # tried for the whole budget, not a count
    # It gave up only once the budget was spent. The last try's finish is stamped before its
    # write commits, which a loaded disk can hold for longer than the last back-off, so the
    # time that counts is when the giving up began. The budget runs on the monotonic clock,
    # the journal's times on the wall clock: allow the two a few milliseconds of disagreement.
    (gave_up,) = [a for a in record.attempts if a.outcome == "gave_up"]
    assert gave_up.started_at - tries[0].started_at >= 0.3 - 0.01


async def test_final_refusal_fails_without_retry(journal: SqliteJournal) -> None:
    broker = BrokerStandIn(script=[OrderRejected("insufficient balance")])
    (record,) = await run(journal, broker, queued_signal())
    assert record.status is SignalStatus.FAILED
    assert record.result is not None and record.result.error == "insufficient balance"
    assert len(broker.calls) == 1


async def test_unknown_outcome_found_at_the_broker_is_not_sent_again(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn(script=[OutcomeUnknown("timeout after sending")])
    broker.keep_on_unknown = True
    (record,) = await run(journal, broker, queued_signal())
    assert record.status is SignalStatus.FILLED
    assert len(broker.calls) == 1
    assert [a.outcome for a in record.attempts] == ["reconciled"]


async def test_unknown_outcome_not_at_the_broker_is_sent_again(journal: SqliteJournal) -> None:
    broker = BrokerStandIn(script=[OutcomeUnknown("connection reset")])
    (record,) = await run(journal, broker, queued_signal())
    assert record.status is SignalStatus.FILLED
    assert len(broker.calls) == 2
    assert [a.outcome for a in record.attempts] == ["not_found", "result"]


async def test_unknown_outcome_without_lookup_is_left_for_a_person(journal: SqliteJournal) -> None:
    broker = BlindBroker(script=[OutcomeUnknown("timeout")])
    (record,) = await run(journal, broker, queued_signal())
    assert record.status is SignalStatus.UNKNOWN
    assert record.error is not None and "check it by hand" in record.error
    assert len(broker.calls) == 1


async def test_plugin_bug_fails_the_signal_and_the_executor_goes_on(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn(script=[ZeroDivisionError("oops")])
    first, second = await run(journal, broker, queued_signal(), queued_signal())
    assert first.status is SignalStatus.FAILED
    assert first.error is not None and "ZeroDivisionError" in first.error
    assert second.status is SignalStatus.FILLED


class LookupBug(BrokerStandIn):
    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        raise ZeroDivisionError("oops in lookup")


async def test_a_lookup_that_raises_a_plugin_bug_ends_unknown_not_in_a_loop(
    journal: SqliteJournal,
) -> None:
    broker = LookupBug(script=[OutcomeUnknown("timed out after sending")])
    first, second = await run(journal, broker, queued_signal(), queued_signal())
    assert first.status is SignalStatus.UNKNOWN
    assert first.error is not None and "ZeroDivisionError" in first.error
    assert "check it by hand" in first.error
    assert broker.calls.count(first.id) == 1
    assert second.status is SignalStatus.FILLED


async def test_one_symbol_runs_in_order_while_others_run_alongside(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn(delay=0.05)
    signals = [queued_signal("BTC/USDT") for _ in range(4)] + [queued_signal("ETH/USDT")]
    await run(journal, broker, *signals)
    btc = [s.id for s in signals[:4]]
    assert [c for c in broker.calls if c in btc] == btc
    assert broker.calls.index(signals[4].id) < broker.calls.index(btc[-1])


async def test_start_executes_what_was_left_queued(journal: SqliteJournal) -> None:
    broker = BrokerStandIn()
    signal = queued_signal()
    await journal.record(signal)
    executor = await started(journal, broker)
    (record,) = await settle(journal, executor, [signal.id])
    await executor.stop()
    assert record.status is SignalStatus.FILLED


async def test_recovery_of_an_interrupted_send_asks_the_broker_first(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn()
    signal = queued_signal()
    await journal.record(signal)
    await journal.claim("test", lease_seconds=30, limit=1)
    await journal.start_attempt(signal.id, 1.0, owner="test")  # the process died after this
    broker.book[signal.id] = ExecutionResult(success=True, status="filled", order_id="EARLIER")
    executor = await started(journal, broker)  # restarted under the same name
    (record,) = await settle(journal, executor, [signal.id])
    await executor.stop()
    assert record.status is SignalStatus.FILLED
    assert record.result is not None and record.result.order_id == "EARLIER"
    assert broker.calls == []
    assert broker.lookups == ["BTC/USDT"]


async def test_recovery_of_an_interrupted_send_without_lookup_is_unknown(
    journal: SqliteJournal,
) -> None:
    broker = BlindBroker()
    signal = queued_signal()
    await journal.record(signal)
    await journal.start_attempt(signal.id, 1.0)
    executor = await started(journal, broker)
    (record,) = await settle(journal, executor, [signal.id])
    await executor.stop()
    assert record.status is SignalStatus.UNKNOWN
    assert broker.calls == []


async def test_stop_leaves_unfinished_work_in_the_journal(journal: SqliteJournal) -> None:
    broker = BrokerStandIn(delay=5)
    executor = await started(journal, broker)
    signals = [queued_signal(), queued_signal()]
    for signal in signals:
        await journal.record(signal)
        assert signal.order is not None
        executor.submit(ExecutionJob(signal.id, signal.order, "paper"))
    await asyncio.sleep(0.2)
    await executor.stop(grace=0.1)
    statuses = [(await journal.get(s.id)).status for s in signals]  # type: ignore[union-attr]
    assert statuses == [SignalStatus.EXECUTING, SignalStatus.QUEUED]
    assert executor.backlog == 0
    # The lease was given back: another executor takes the interrupted signal over at once.
    (taken,) = await journal.claim("other", lease_seconds=30, limit=5)
    assert (taken.id, taken.status) == (signals[0].id, SignalStatus.EXECUTING)


async def test_two_executors_share_a_journal_without_doubles_or_reordering(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn(delay=0.002)
    first = await started(journal, broker, owner="one")
    second = await started(journal, broker, owner="two")
    signals = [queued_signal(f"S{i % 4}") for i in range(60)]
    for signal in signals:
        await journal.record(signal)
        for executor in (first, second):
            assert signal.order is not None
            executor.submit(ExecutionJob(signal.id, signal.order, "paper"))
    records = await settle(journal, first, [s.id for s in signals])
    await first.stop()
    await second.stop()
    assert all(r.status is SignalStatus.FILLED for r in records)
    assert sorted(broker.calls) == sorted(s.id for s in signals)  # each sent exactly once
    for lane in {s.order.symbol for s in signals if s.order}:
        ids = [s.id for s in signals if s.order and s.order.symbol == lane]
        assert [c for c in broker.calls if c in ids] == ids


async def test_signals_another_executor_ran_leave_this_ones_backlog(
    journal: SqliteJournal,
) -> None:
    # Received here without a lease (as another receiver would have stored them), but run by
    # the other executor: once they are final in the journal, this one forgets them.
    broker = BrokerStandIn()
    registry = PluginRegistry()
    registry.register(broker)
    idle = Executor(journal, registry, FAST, owner="idle")  # not started: it claims nothing yet
    busy = await started(journal, broker, owner="busy")
    signals = [queued_signal(f"S{i % 3}") for i in range(12)]
    for signal in signals:
        await journal.record(signal)
        assert signal.order is not None
        idle.submit(ExecutionJob(signal.id, signal.order, "paper"))
        busy.submit(ExecutionJob(signal.id, signal.order, "paper"))
    await settle(journal, busy, [s.id for s in signals])
    assert idle.backlog == 12
    await idle.start()  # its first claim round finds them ended
    for _ in range(500):
        if idle.backlog == 0:
            break
        await asyncio.sleep(0.01)
    assert idle.backlog == 0
    await idle.stop()
    await busy.stop()
    assert sorted(broker.calls) == sorted(s.id for s in signals)


async def test_signal_of_a_crashed_executor_is_taken_over_when_its_lease_ends(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn()
    signal = queued_signal()
    await journal.record(signal)
    await journal.claim("crashed", lease_seconds=0.3, limit=1)
    await journal.start_attempt(signal.id, 1.0, owner="crashed")
    executor = await started(journal, broker, owner="survivor")
    (record,) = await settle(journal, executor, [signal.id])
    await executor.stop()
    assert record.status is SignalStatus.FILLED
    assert [a.outcome for a in record.attempts] == [None, "not_found", "result"]


async def test_broken_broker_opens_the_breaker_and_signals_wait(journal: SqliteJournal) -> None:
    settings = FAST.model_copy(update={"retry_budget": 50, "breaker_failures": 3,
                                       "breaker_cooldown": 0.3})
    broker = BrokerStandIn(script=[TemporaryError("503")] * 4)
    signal = queued_signal()
    executor = await started(journal, broker, settings)
    await journal.record(signal)
    assert signal.order is not None
    executor.submit(ExecutionJob(signal.id, signal.order, "paper"))
    for _ in range(200):
        if executor.breakers.states().get("paper") == "open":
            break
        await asyncio.sleep(0.01)
    assert executor.breakers.states()["paper"] == "open"
    calls_when_opened = len(broker.calls)
    await asyncio.sleep(0.15)
    assert len(broker.calls) == calls_when_opened  # nothing sent while open
    (record,) = await settle(journal, executor, [signal.id])
    await executor.stop()
    assert record.status is SignalStatus.FILLED
    assert executor.breakers.states()["paper"] == "closed"


async def test_lookup_the_broker_cannot_answer_yet_is_asked_again_not_given_up(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn(script=[OutcomeUnknown("timeout after sending")])
    broker.keep_on_unknown = True
    answers: list[Exception | None] = [TemporaryError("503"), TemporaryError("503"), None]
    real_lookup = broker.lookup_order

    async def flaky_lookup(
        client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        error = answers.pop(0)
        if error is not None:
            raise error
        return await real_lookup(client_order_id, symbol)

    broker.lookup_order = flaky_lookup  # type: ignore[method-assign]
    (record,) = await run(journal, broker, queued_signal())
    assert record.status is SignalStatus.FILLED
    assert len(broker.calls) == 1  # never resent while the broker could not say
    assert [a.outcome for a in record.attempts] == ["lookup_failed", "lookup_failed", "reconciled"]


async def test_lookup_that_never_answers_ends_unknown_without_a_resend(
    journal: SqliteJournal,
) -> None:
    broker = BrokerStandIn(script=[OutcomeUnknown("timeout after sending")])

    async def down(
        client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        raise TemporaryError("503")

    broker.lookup_order = down  # type: ignore[method-assign]
    settings = FAST.model_copy(update={"breaker_failures": 1000})  # the budget, not the breaker
    (record,) = await run(journal, broker, queued_signal(), settings=settings)
    assert record.status is SignalStatus.UNKNOWN
    assert len(broker.calls) == 1
    assert record.error is not None and "the broker could not be asked for" in record.error
    assert "tries, last: 503): check it by hand" in record.error
