"""Fan-out: one signal, one child signal per account, stored with it in one transaction.

Each child is a signal of its own: its id is the parent's with `.N` (N its account's place,
from 1), which is also its client order id at the broker; it has its own plugin, symbol,
size, risk checks and decision, and is executed through the same path as any signal (same
leases, retries, circuit breaker and reconciliation by client order id after a restart), so one
account's trouble never holds up another's. The parent is stored `fanned_out` and executes
nothing; its status is derived from its children's (`SignalStatus.derived`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from plugins.orders import Order
from webhook.decide.accounts import Account
from webhook.decide.policy import PolicyVerdict, SignalPolicy
from webhook.dialects import ParsedSignal
from webhook.errors import SizingError
from webhook.journal import NewSignal, SignalJournal, SignalStatus, Stored
from webhook.journal.records import child_id

Decide = Callable[[ParsedSignal, Order, str], Awaitable[PolicyVerdict]]
"""The pipeline's decision for (the alert, the order, the plugin)."""


@dataclass(frozen=True)
class ChildVerdict:
    """The policy's ruling for one account of a fanned-out signal."""

    id: str
    account: Account
    verdict: PolicyVerdict

    def describe(self) -> str:
        said = f"{self.id.rpartition('.')[2]} {self.account.plugin} {self.verdict.status.value}"
        return f"{said} ({self.verdict.reason})" if self.verdict.reason else said


class FannedOut:
    """One signal on its way to several accounts: `locked` while `decide`, `store` and
    `hand_over` run, as one signal to one plugin holds its lane's lock."""

    def __init__(self, parent: NewSignal, lanes: Sequence[tuple[Account, str]]) -> None:
        self._parent = parent
        self._lanes = lanes
        """Each account, with the symbol as its plugin knows it."""
        self.children: list[ChildVerdict] = []

    @asynccontextmanager
    async def locked(
        self, policy: SignalPolicy, source: str, *, checks_position: bool = False
    ) -> AsyncIterator[None]:
        lanes = sorted({(account.plugin, symbol) for account, symbol in self._lanes})
        async with AsyncExitStack() as held:
            for plugin, symbol in lanes:  # always in one order: no two signals deadlock
                await held.enter_async_context(policy.serialized(
                    source, plugin, symbol, checks_position=checks_position))
            yield

    async def decide(self, parsed: ParsedSignal, decide: Decide) -> None:
        for number, (account, symbol) in enumerate(self._lanes, 1):
            id_ = child_id(self._parent.id, number)
            order = parsed.order.model_copy(update={"client_order_id": id_, "symbol": symbol})
            try:
                sized, order = account.rule.apply(parsed, order)
            except SizingError as exc:
                verdict = PolicyVerdict(SignalStatus.REJECTED, order, reason=f"sizing: {exc}",
                                        rule="sizing")
            else:
                verdict = await decide(sized, order, account.plugin)
            self.children.append(ChildVerdict(id_, account, verdict))

    @property
    def status(self) -> SignalStatus:
        """What the sender is answered: queued when any account will execute (else awaiting
        approval when any waits for a person), filtered when all are below the threshold, else
        rejected."""
        statuses = {child.verdict.status for child in self.children}
        for waiting in (SignalStatus.QUEUED, SignalStatus.AWAITING_APPROVAL):
            if waiting in statuses:
                return waiting
        if statuses == {SignalStatus.FILTERED}:
            return SignalStatus.FILTERED
        return SignalStatus.REJECTED

    @property
    def reason(self) -> str:
        """Every account's decision: `fanned out to 2 accounts: 1 binance queued; 2 paper
        rejected (...)`."""
        listed = "; ".join(child.describe() for child in self.children)
        return f"fanned out to {len(self.children)} accounts: {listed}"

    @property
    def position_mismatch(self) -> str | None:
        """Every account's position mismatch, when any."""
        found = [f"{child.account.plugin}: {child.verdict.position_mismatch}"
                 for child in self.children if child.verdict.position_mismatch]
        return "; ".join(found) or None

    async def store(self, journal: SignalJournal) -> Stored:
        """The parent and its children in one transaction; nothing when the parent's key
        was seen before (then the children's rate-limit slots are given back)."""
        parent = self._parent.model_copy(update={"reason": self.reason})
        children = [
            NewSignal(
                id=child.id, received_at=parent.received_at, source=parent.source,
                dialect=parent.dialect, content_type=parent.content_type, raw_body=b"",
                order=child.verdict.order, plugin=child.account.plugin,
                status=child.verdict.status, reason=child.verdict.reason,
                sizing=child.verdict.sizing,
                approval_deadline=None if child.verdict.approval_timeout is None
                else parent.received_at + child.verdict.approval_timeout,
            )
            for child in self.children
        ]
        try:
            stored = await journal.record(parent, children)
        except BaseException:
            self._release()
            raise
        if stored.duplicate:
            self._release()
        return stored

    def hand_over(self, submit: Callable[[ChildVerdict], None]) -> None:
        for child in self.children:
            submit(child)

    def release(self) -> None:
        """Give back every child's rate-limit slots (the signal is not stored after all)."""
        self._release()

    def _release(self) -> None:
        for child in self.children:
            child.verdict.release()
