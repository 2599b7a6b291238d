"""What the journal stores about a signal, and the states a signal goes through."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from plugins.orders import ExecutionResult, ExecutionStatus, Order


class SignalStatus(StrEnum):
    INVALID = "invalid"
    FILTERED = "filtered"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    QUEUED = "queued"
    EXECUTING = "executing"
    FILLED = "filled"
    PARTIALLY_FILLED = "partially_filled"
    PLACED = "placed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    """The broker may or may not have the order and cannot be asked: a person must look."""
    EXPIRED = "expired"
    """Older than its max lag when its turn came, or not approved before its approval
    deadline: never sent, nothing reached the broker."""
    AWAITING_APPROVAL = "awaiting_approval"
    """Passed every check, and waits for a person to approve it before it is queued."""
    DECLINED = "declined"
    """A person declined it while it awaited approval: never sent."""
    FANNED_OUT = "fanned_out"
    """Split into one child signal per account (`PARENT.1`, `PARENT.2`, ...), stored with it;
    the children are executed, and the parent's status is derived from theirs."""

    @classmethod
    def after(cls, result: ExecutionResult) -> SignalStatus:
        return _AFTER_RESULT[result.status]

    @classmethod
    def derived(cls, children: Collection[SignalStatus]) -> SignalStatus:
        """A fanned-out signal's status, from its children's: executing, queued or awaiting
        approval while any is;
        then one that needs a person (unknown) first; their common status when they agree;
        partially filled when some accounts filled or placed and others did not; else the
        gravest of failed, expired, rejected, cancelled, filtered."""
        statuses = set(children)
        for pending in (cls.EXECUTING, cls.QUEUED, cls.AWAITING_APPROVAL, cls.UNKNOWN):
            if pending in statuses:
                return pending
        if len(statuses) == 1:
            return next(iter(statuses))
        if statuses & {cls.FILLED, cls.PARTIALLY_FILLED, cls.PLACED}:
            return cls.PARTIALLY_FILLED
        for grave in (cls.FAILED, cls.EXPIRED, cls.REJECTED, cls.CANCELLED, cls.FILTERED):
            if grave in statuses:
                return grave
        return cls.FANNED_OUT


_AFTER_RESULT = {
    ExecutionStatus.FILLED: SignalStatus.FILLED,
    ExecutionStatus.PARTIALLY_FILLED: SignalStatus.PARTIALLY_FILLED,
    ExecutionStatus.PLACED: SignalStatus.PLACED,
    ExecutionStatus.CANCELLED: SignalStatus.CANCELLED,
    ExecutionStatus.REJECTED: SignalStatus.FAILED,
}
PENDING = (SignalStatus.QUEUED, SignalStatus.EXECUTING)
CHILD_SEPARATOR = "."
"""A child signal's id is its parent's, this, and its number: no ULID holds a `.`."""


def child_id(parent_id: str, number: int) -> str:
    return f"{parent_id}{CHILD_SEPARATOR}{number}"


def is_numbered_child(parent_id: str, signal_id: str) -> bool:
    """Whether `signal_id` is one of the parent's fanned-out children (`PARENT.2`), not an
    exit order of one (`PARENT.2.tp1`, `webhook.journal.exit_plans`)."""
    number = signal_id.removeprefix(f"{parent_id}{CHILD_SEPARATOR}")
    return number != signal_id and number.isdigit()


def parent_of(signal_id: str) -> str | None:
    """The signal a child (`PARENT.2`) or an exit order (`ENTRY.tp1`, `PARENT.2.stop`) comes
    from."""
    parent, separator, _ = signal_id.rpartition(CHILD_SEPARATOR)
    return parent if separator else None


@dataclass(frozen=True)
class Lease:
    """An executor's hold on a signal: its name in the journal and for how many seconds."""

    owner: str
    seconds: float
    starting: str | None = None
    """The signal whose next attempt the journal opens with the lease, in the same transaction,
    when it is that signal the lease goes to: the executor sends it next from memory, so its
    send follows that commit with no other. An attempt opened and never finished is reconciled
    by client order id after a crash, as every attempt is."""
    joins_lane: bool = False
    """Whether a receipt may be leased behind pending signals of its lane that all hold live
    leases of `owner` (`SignalJournal.record`), not only into an empty lane: for an executor
    that keeps a lane's leased signals in arrival order behind the one it runs."""
    ahead: bool = False
    """With `joins_lane`: whether `starting`'s attempt may be opened behind those signals too,
    not only when it heads the lane; with a hand-on (`SignalJournal.finish_attempt`), whether
    the lane's signals after `starting` may be handed on too, their attempts opened
    (`HandedOn.following`). Only for a plugin that can be asked for an order by its client
    order id and answers "not found" for one never sent, since after a crash each such attempt
    is looked up at the broker before anything is resent."""


LANE_AHEAD = 64
"""At most this many signals of one lane are pending when a receipt leases a newcomer behind
signals leased to the same executor (each possibly with its attempt opened ahead of its send),
and at most this many a hand-on leases at once (`HandedOn.following`). After a crash every one
of them is looked up at the broker by client order id before anything is resent, so the bound
keeps a restart's lookups, and what an executor holds in memory for one lane, small; past it,
signals are stored unleased, then handed on (this many at a time) or claimed."""


@dataclass(frozen=True)
class HandedJob:
    """A signal handed on behind a lane's next one, leased with its attempt opened, and what an
    executor needs to run it without reading it back."""

    signal_id: str
    attempt: int
    order_json: str
    plugin: str
    source: str
    received_at: float
    approved_at: float | None = None


@dataclass(frozen=True)
class HandedOn:
    """A lane's next signal, leased to the executor in the transaction that ended the previous
    one (`SignalJournal.finish_attempt`)."""

    signal_id: str
    attempt: int | None = None
    """The attempt opened for it in the same transaction (`Lease.starting`), else None."""
    following: tuple[HandedJob, ...] = ()
    """With `Lease.ahead` and that attempt opened: the lane's queued signals after it, in the
    lane's order, each leased and its attempt opened in the same transaction (with it, at most
    `LANE_AHEAD` of the lane). Its executor runs them one after the other from memory, as it
    does receipts leased behind its lane, instead of one hand-on, and one commit, each."""


class NewSignal(BaseModel):
    """A signal as the receiving side decided about it, before it is stored."""

    model_config = ConfigDict(frozen=True)

    id: str
    received_at: float
    source: str
    dialect: str | None = None
    idempotency_key: str | None = None
    content_type: str | None = None
    raw_body: bytes
    order: Order | None = None
    plugin: str | None = None
    status: SignalStatus
    reason: str | None = None
    error: str | None = None
    sizing: str | None = None
    """How the order's quantity was computed (`100 quote / 67506.75 (ask ...) = 0.00148`)."""
    approval_deadline: float | None = None
    """For a signal stored `awaiting_approval`: when it expires unless approved (unix time)."""
    lease: Lease | None = Field(default=None, exclude=True)
    """The executor that asks to hold a queued signal from the moment it is stored: the journal
    leases it in the same transaction when no other signal of its (plugin, symbol) is pending,
    or (`Lease.joins_lane`) fewer than `LANE_AHEAD` that all hold live leases of the same
    owner (`Stored.leased`), so the executor runs it without a claim. Not stored as such."""


class Attempt(BaseModel):
    """One try at executing a signal."""

    model_config = ConfigDict(frozen=True)

    number: int
    started_at: float
    finished_at: float | None = None
    outcome: str | None = None
    """`result`, `temporary`, `unknown`, `reconciled`, `error`; None while in flight."""
    error: str | None = None
    result: ExecutionResult | None = None


class SignalRecord(NewSignal):
    updated_at: float
    approved_at: float | None = None
    """When a person approved it; its max lag counts from then."""
    result: ExecutionResult | None = None
    attempts: list[Attempt] = []
    children: list[SignalRecord] = []
    """Of a `fanned_out` signal, read with `SignalJournal.get`: its child signals, in order."""

    @property
    def symbol(self) -> str | None:
        return self.order.symbol if self.order else None


class Stored(BaseModel):
    """The answer to storing a signal: stored under `signal_id`, or a duplicate of it."""

    signal_id: str
    duplicate: bool = False
    leased: bool = False
    """The signal is leased to `NewSignal.lease`'s owner: it heads its lane, or waits behind
    signals of its lane that owner runs; run it after them."""
    attempt: int | None = None
    """The attempt opened for it as it was stored (`Lease.starting`): send it next."""
