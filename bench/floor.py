"""What a durable, verified signal costs at the least, piece by piece, against issue 16's
target 1 (CPU per acknowledged and executed signal at most twice a bare Starlette request's).

`python -m bench.floor` times, in this one process (CPU time, `time.process_time`), only the
work that no design of the signal path can leave out, each piece alone in a tight loop:
- the journal's own SQL per signal, as `webhook.journal.sqlite` runs it (the receipt's lane
  check, then its insert, leased and executing, and its first attempt; then the attempt's
  finish and the final status),
  64 signals per transaction as under load, on a real file in WAL mode with `synchronous=FULL`;
- the Standard Webhooks signature check of the body (`verify_signature`);
- reading the body into a validated `Order` (orjson and pydantic, without any dialect);
and prints their sum beside the bare request's CPU that `make bench` measures in row a (pass it
with `--bare-us`). A sum over twice the bare request means target 1's ratio is out of reach for
any Python design that keeps these, however thin the layers around them become.

It also times the least a design of another shape would need: a signal's attempt kept in its
own row (two writes: the row before the send, its outcome after), and the paper plugin's own
call in a task of its own, as the executor makes it; with the signature and the Order, that is
what a stored and executed signal would cost were HTTP, routing, policy, the executor and the
answer free.

For target 3 (receipt to the plugin's call at 50/s), `make bench` also times lone commits 20 ms
apart on the same disk: a bare one-row commit (`bare_commit_ms`) and a receipt's own statements
and commit (`receipt_commit_ms`), which an order cannot leave before.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson

from bench.scenarios import percentile
from plugins.mock import MockPlugin
from plugins.mock_config import MockConfig
from plugins.orders import Order
from webhook.auth.signatures import WebhookSecret, sign, verify_signature
from webhook.journal import Lease, NewSignal, SignalStatus
from webhook.journal import sqlite_attempts as attempts
from webhook.journal import sqlite_lanes as lanes
from webhook.journal.ids import new_signal_id
from webhook.journal.sqlite import _FINISH_ATTEMPT, _INSERT, _SETTLE_FINAL, _row
from webhook.journal.sqlite_schema import migrate

BODY = b'{"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01, "confidence": 0.8}'
BATCH = 64


def cpu_us(work: Callable[[], object], count: int) -> float:
    began = time.process_time()
    for _ in range(count):
        work()
    return (time.process_time() - began) / count * 1e6


Shape = Literal["journal", "fewest", "one_row"]


def _queued_signal(order: Order) -> NewSignal:
    """A native signal for the paper plugin, received now and queued."""
    return NewSignal(id=new_signal_id(), received_at=time.time(), source="signed",
                     dialect="native", raw_body=BODY, order=order, plugin="mock",
                     status=SignalStatus.QUEUED)


def journal_sql_us(path: Path, count: int, *, shape: Shape = "journal") -> float:
    """CPU per signal of the journal's statements: receipt, then finish, BATCH per commit.
    `fewest`: only the four writes the journal's schema makes every signal do (its row, its
    attempt's start and finish, its final status), the journal's own less its lane check.
    `one_row`: were a signal's attempt kept in its own row, not a design of tradehook's but
    the least any durable signal needs: its row before the send (leased, executing) and its
    outcome after it, two writes."""
    connection = _full_sync(path)
    migrate(connection, connection.execute("PRAGMA user_version").fetchone()[0])
    order = Order(symbol="BTCUSDT", side="buy", quantity=0.01, confidence=0.8)
    lease = Lease("floor", 30.0)
    began = time.process_time()
    for _ in range(count // BATCH):
        signals = [_queued_signal(order) for _ in range(BATCH)]
        connection.execute("BEGIN IMMEDIATE")
        for signal in signals:
            now = time.time()
            if shape == "journal":
                lanes.pending_ahead(connection, "mock", signal.id, lease, now)  # alone in its lane
            connection.execute(_INSERT, _row(signal, executing=True,
                                             leased_to=(lease.owner, now + lease.seconds)))
            if shape != "one_row":
                attempts.open_first_attempt(connection, signal.id, now)
        connection.execute("COMMIT")
        connection.execute("BEGIN IMMEDIATE")
        for signal in signals:
            now = time.time()
            if shape != "one_row":
                connection.execute(_FINISH_ATTEMPT, (now, "result", None, "{}", signal.id, 1))
            connection.execute(_SETTLE_FINAL, ("filled", now, None, "{}", signal.id)).fetchall()
        connection.execute("COMMIT")
    spent = time.process_time() - began
    connection.close()
    return spent / (count // BATCH * BATCH) * 1e6


def plugin_call_us(count: int) -> float:
    """CPU per order of the paper plugin's own call (no delay), each in a task of its own as
    the executor runs it: a fill, its position and its `ExecutionResult`."""
    async def calls() -> float:
        paper = MockPlugin("floor")
        await paper.init(MockConfig(delay_ms=0))
        orders = [Order(symbol="BTCUSDT", side="buy", quantity=0.01, confidence=0.8,
                        client_order_id=new_signal_id()) for _ in range(count)]
        began = time.process_time()
        for order in orders:
            await asyncio.create_task(paper.execute_order(order))
        return (time.process_time() - began) / count * 1e6

    return asyncio.run(calls())


def _full_sync(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


def _lone_commits_ms(connection: sqlite3.Connection, write: Callable[[int], object],
                     count: int, then: Callable[[int], object] | None = None
                     ) -> tuple[float, float]:
    """p50 and p99 of `count` transactions of `write(n)` each, 20 ms apart (as signals at
    50/s come), from BEGIN to the COMMIT's return; `then(n)`, untimed, after each."""
    took = []
    for n in range(count):
        began = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        write(n)
        connection.execute("COMMIT")
        took.append((time.perf_counter() - began) * 1000)
        if then is not None:
            then(n)
        time.sleep(0.02)
    connection.close()
    return percentile(took, 0.5), percentile(took, 0.99)


def bare_commit_ms(workdir: Path, count: int = 300) -> tuple[float, float]:
    """p50 and p99 of one-row commits, 20 ms apart (as signals at 50/s come)."""
    connection = _full_sync(workdir / "bare.db")
    connection.execute("CREATE TABLE rows (n INTEGER)")
    return _lone_commits_ms(
        connection, lambda n: connection.execute("INSERT INTO rows VALUES (?)", (n,)), count)


def receipt_commit_ms(workdir: Path, count: int = 300) -> tuple[float, float]:
    """p50 and p99 of a lone receipt's own commit, 20 ms apart: the statements the journal runs
    for a signal leased and sent at once (its lane's check, its row with its indexes, its first
    attempt), in the journal's schema over 2,000 earlier signals, with one fsync. Target 3's
    p50 at 50/s cannot be under this and the hand-over to the plugin that follows it."""
    connection = _full_sync(workdir / "receipts.db")
    migrate(connection, connection.execute("PRAGMA user_version").fetchone()[0])
    order = Order(symbol="BTCUSDT", side="buy", quantity=0.01, confidence=0.8)
    lease = Lease("floor", 30.0)
    connection.execute("BEGIN IMMEDIATE")
    for earlier in (_queued_signal(order) for _ in range(2_000)):
        connection.execute(_INSERT, _row(earlier))
        connection.execute(_SETTLE_FINAL, ("filled", time.time(), None, "{}", earlier.id))
    connection.execute("COMMIT")
    arriving = [_queued_signal(order) for _ in range(count)]

    def receipt(n: int) -> None:
        now, new = time.time(), arriving[n]
        lanes.pending_ahead(connection, "mock", order.symbol, lease, now)
        connection.execute(_INSERT, _row(new, executing=True,
                                         leased_to=(lease.owner, now + lease.seconds)))
        attempts.open_first_attempt(connection, new.id, now)

    def filled(n: int) -> None:  # before the next signal comes: its lane is empty again
        connection.execute(_SETTLE_FINAL, ("filled", time.time(), None, "{}", arriving[n].id))

    return _lone_commits_ms(connection, receipt, count, then=filled)


@dataclass(frozen=True)
class Floor:
    journal_sql_us: float
    fewest_writes_us: float
    signature_us: float
    order_us: float
    one_row_us: float
    """The two writes a signal would need with its attempt in its own row."""
    plugin_call_us: float

    @property
    def total_us(self) -> float:
        """The four writes, the signature and the Order: what the journal's schema cannot
        leave out, before any HTTP, routing, policy, executor or answer."""
        return self.fewest_writes_us + self.signature_us + self.order_us

    @property
    def least_us(self) -> float:
        """The two writes of a one-row design, the signature, the Order and the paper plugin's
        own call: what a signal stored and executed would cost, were everything else free."""
        return self.one_row_us + self.signature_us + self.order_us + self.plugin_call_us


def measure_floor(count: int = 20_000) -> Floor:
    secret = WebhookSecret.generate()
    stamp = int(time.time())
    headers = {"webhook-id": "msg-1", "webhook-timestamp": str(stamp),
               "webhook-signature": sign(secret, "msg-1", stamp, BODY)}
    with tempfile.TemporaryDirectory(prefix="tradehook-floor-") as tmp:
        sql = journal_sql_us(Path(tmp) / "floor.db", count)
        fewest = journal_sql_us(Path(tmp) / "fewest.db", count, shape="fewest")
        one_row = journal_sql_us(Path(tmp) / "one_row.db", count, shape="one_row")
    signature = cpu_us(lambda: verify_signature([secret], headers, BODY), count)
    order = cpu_us(lambda: Order.model_validate(orjson.loads(BODY)), count)
    return Floor(sql, fewest, signature, order, one_row, plugin_call_us(count))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--bare-us", type=float, default=None,
                        help="row a's CPU per request (make bench), to set the floor beside")
    options = parser.parse_args()
    floor = measure_floor(options.count)
    print(f"journal SQL per signal (receipt and finish, {BATCH} per commit): "
          f"{floor.journal_sql_us:.1f} us")
    print(f"the same with only the four writes no signal can skip: "
          f"{floor.fewest_writes_us:.1f} us")
    print(f"signature check: {floor.signature_us:.1f} us")
    print(f"body to a validated Order: {floor.order_us:.1f} us")
    print(f"sum of the four writes, the signature and the Order: {floor.total_us:.1f} us, "
          "before any HTTP, routing, policy, executor or answer")
    print(f"with a signal's attempt in its own row, its two writes: {floor.one_row_us:.1f} us; "
          f"the paper plugin's call in a task: {floor.plugin_call_us:.1f} us; with the "
          f"signature and the Order: {floor.least_us:.1f} us")
    if options.bare_us is not None:
        print(f"bare request (row a): {options.bare_us:.1f} us; target 1 allows "
              f"{2 * options.bare_us:.1f} us for the whole signal, {options.bare_us:.1f} us "
              "beyond the bare request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
