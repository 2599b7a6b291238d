"""The journal interface: durable storage of every signal, its decision and its attempts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence

from plugins.orders import ExecutionResult, Order
from webhook.journal.exit_plans import ExitPlanStore
from webhook.journal.period import FillRow, PeriodCount
from webhook.journal.records import (
    HandedOn,
    Lease,
    NewSignal,
    SignalRecord,
    SignalStatus,
    Stored,
)


class SignalJournal(ExitPlanStore, ABC):
    """Every method that writes returns only once the write is durable, and raises
    `webhook.errors.JournalError` when it could not be made so."""

    hands_on = False
    """Whether `record` takes the lease a signal asks for and `finish_attempt` hands the lane's
    next signal on; without, an executor claims after every signal that ends."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and create or migrate the schema."""

    @abstractmethod
    async def close(self) -> None: ...

    async def hold_name(self, owner: str) -> None:
        """Take the executor name `owner` for this process until `release_name` or `close`;
        `webhook.errors.NameTaken` while another live process (or another executor of this
        one) holds it on the same journal. Leases are held by name: two executors of one name
        would each take the other's signals as their own. A process that dies lets its names
        go with it. The default holds nothing."""

    async def release_name(self, owner: str) -> None:
        """Let the name `owner` go (`hold_name`)."""

    @abstractmethod
    async def record(self, signal: NewSignal, children: Sequence[NewSignal] = ()) -> Stored:
        """Store a new signal, and in the same transaction its `children` (a fanned-out
        signal's, with ids `child_id(signal.id, n)`); a repeated idempotency key stores nothing
        and answers with the first signal's id.

        A queued signal with a `lease` that finds no other pending signal of its (plugin,
        symbol), or (`Lease.joins_lane`) only fewer than `LANE_AHEAD` that all hold live
        leases of the same owner, is leased to that owner in the same transaction
        (`Stored.leased`). When the lease is `starting` it, its first attempt is opened there
        too (`Stored.attempt`): if it heads its lane, or behind the owner's others when the
        lease may open it `ahead`.
        A journal may ignore the request (the default leases nothing): the signal is then
        claimed.
        """

    @abstractmethod
    async def start_attempt(
        self, signal_id: str, started_at: float, *, owner: str | None = None
    ) -> int:
        """Mark the signal executing and open its next attempt; return the attempt number.

        With `owner`, only while that executor holds the signal's lease: else `LeaseLost`, and
        nothing is written, so an executor that stalled past its lease cannot send twice.
        """

    @abstractmethod
    async def finish_attempt(
        self,
        signal_id: str,
        number: int,
        *,
        outcome: str,
        status: SignalStatus,
        result: ExecutionResult | None = None,
        error: str | None = None,
        hand_on: Lease | None = None,
    ) -> HandedOn | None:
        """Close an attempt with its outcome and move the signal to `status`; a final status
        also frees the signal's lease.

        With `hand_on` and a final status, the same transaction leases the next signal of the
        (plugin, symbol) to `hand_on.owner` when it is queued and no one else holds a live
        lease in that lane, opens its next attempt when `hand_on` is `starting` it, and
        answers which (else None: whatever waits is claimed). With `hand_on.ahead` too it may
        hand on the queued signals after that one as well (`HandedOn.following`). A journal
        may never hand on; its executors then claim every next signal.
        """

    @abstractmethod
    async def claim(
        self,
        owner: str,
        *,
        lease_seconds: float,
        limit: int,
        exclude_plugins: Collection[str] = (),
    ) -> list[SignalRecord]:
        """Lease up to `limit` signals to `owner` for execution, oldest first, with attempts.

        A signal can be claimed when it is pending (queued or executing), comes first among the
        pending signals of its (plugin, symbol), and its lease is free, expired or already
        `owner`'s (an executor restarted under the same name takes its leases back at once).
        So signals of one plugin and symbol run one at a time in arrival order, whichever
        executor runs them. A claimed signal whose status is `executing` was in flight when its
        previous holder stopped: the broker must be asked about it before anything is resent.
        """

    @abstractmethod
    async def renew(
        self, owner: str, signal_ids: Collection[str], *, lease_seconds: float
    ) -> set[str]:
        """Extend `owner`'s leases on these signals; return the ids it no longer holds."""

    @abstractmethod
    async def release(self, owner: str, signal_ids: Collection[str]) -> None:
        """Give these leases up (on shutdown), leaving the signals' statuses as they are."""

    @abstractmethod
    async def release_all(self, owner: str) -> None:
        """Give up every lease `owner` holds, leaving the signals' statuses as they are: as an
        executor of that name starts, what its previous run leased is in no one's memory, so a
        receipt must not be leased behind it (`Lease.joins_lane`); claims take it in order."""

    async def withdraw_attempts(self, unsent: Mapping[str, int]) -> None:
        """Undo attempts opened ahead of a send that was never made (signal id -> attempt
        number, see `Lease.starting`; the executor stopped first): each unfinished one is
        deleted and its signal is queued again, as if it had never started. A journal that
        opens no attempt ahead (the default) has none to withdraw."""
        return None

    @abstractmethod
    async def settle_approval(
        self, signal_id: str, status: SignalStatus, *, at: float, reason: str | None = None
    ) -> SignalRecord | None:
        """Move a signal from `awaiting_approval` to `status` (`queued` when approved, which
        records `at` as its approval time; `declined`; `rejected` by the re-check), if it
        still awaits approval and its deadline is after `at`; the record as it is now.

        None when it does not (any more): one conditional write decides, so of two approvals,
        or an approval and the expiry, exactly one wins, whichever process makes them.
        """

    @abstractmethod
    async def expire_approvals(self, now: float, reason: str) -> list[SignalRecord]:
        """Move every signal awaiting approval whose deadline is not after `now` to `expired`
        with `reason`; the signals it expired (none that an approval won first)."""

    @abstractmethod
    async def get(self, signal_id: str) -> SignalRecord | None:
        """The signal with its attempts, and a fanned-out signal with its children."""

    @abstractmethod
    async def pending_orders(self, plugin: str, symbol: str) -> list[Order]:
        """The orders of every signal for (plugin, symbol) that is queued or executing, oldest
        first, whoever received or runs it: what a position limit counts on top of the
        broker's position. Reads only the pending signals' index."""

    @abstractmethod
    async def pending_among(self, signal_ids: Collection[str]) -> set[str]:
        """Those of `signal_ids` that are still queued or executing, whoever runs them (an
        executor forgets the ones another executor took and finished)."""

    @abstractmethod
    async def list_signals(
        self,
        *,
        status: SignalStatus | None = None,
        source: str | None = None,
        symbol: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[SignalRecord]:
        """Signals newest first, without their attempts."""

    @abstractmethod
    async def healthy(self) -> bool: ...

    @abstractmethod
    async def period_counts(self, since: float | None, until: float | None
                            ) -> list[PeriodCount]:
        """The period's signals counted by source, plugin, status and rejection reason, in the
        database (`webhook.journal.period`)."""

    @abstractmethod
    async def period_fills(self, since: float | None, until: float | None, *, limit: int
                           ) -> list[FillRow]:
        """Up to `limit` of the period's filled signals, newest first."""

    async def read_state(self, key: str) -> str | None:
        """A small durable value (the kill switch's state); None when never written.

        Optional for journals that keep no state: the default raises NotImplementedError.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no state")

    async def write_state(self, key: str, value: str) -> None:
        """Store a small value durably, replacing the previous one."""
        raise NotImplementedError(f"{type(self).__name__} keeps no state")
