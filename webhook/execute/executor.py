"""The executor: runs stored signals in the background, each under a lease in the journal.

Only the head of each (plugin, symbol) runs: a close cannot overtake the open before it,
different symbols run in parallel up to a bound, and several executors can share one journal.
`Executor.submit` is the one entry point for "a stored signal is ready to execute".

The fast path costs no journal round trip of its own: a queued signal alone in its lane is
leased to this executor in the transaction that stores it (`Executor.lease_for`), and runs at
once from the job in memory; when a signal ends, the same transaction that records its final
status leases the lane's next signal to this executor (the journal's hand-on), which runs next.
When the signal can be sent at once, either transaction also opens its first attempt
(`Lease.starting`), so that its send follows that commit with no other. A signal stored into a
lane this executor runs is leased to it too, with its attempt, when the plugin's lookups by
client order id tell an unsent order, and waits behind the running one; it is sent as soon
as the one before is settled at the broker, not once that one's final status is committed
(`webhook.execute.lanes` says why that keeps exactly once).
Everything else is claimed from the journal (`SignalJournal.claim`): signals stored without a
lease, what other receivers stored, and what a stopped or crashed executor left behind (a slow
poll looks). The journal stays the truth: every attempt starts only while the lease is held,
so a restarted process reconciles by client order id exactly as before.

Leases are renewed while a signal runs or waits for a slot and given back on shutdown. A plugin
whose circuit breaker is open is neither leased nor claimed for: its signals wait in the
journal. While the journal cannot be reached, nothing is claimed and running signals keep their
leases until they end or the journal answers `LeaseLost`.

What it remembers of the signals handed to it, and how little a backlog costs, is
`webhook.execute.received`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import logging
import socket
import time
from collections import deque

from plugins.registry import PluginRegistry
from webhook.errors import JournalError, LeaseLost
from webhook.execute.attempts import AttemptRunner, ExecutionJob
from webhook.execute.breaker import BreakerState, CircuitBreakers
from webhook.execute.deadlines import DeliveryLimits
from webhook.execute.kill_switch import KillSwitch
from webhook.execute.lanes import HeldLanes, Lane, StoppedLanes, lane_of
from webhook.execute.received import ReceivedSignals
from webhook.execute.settings import ExecutionSettings
from webhook.journal import HandedJob, HandedOn, Lease, SignalJournal
from webhook.journal.records import PENDING
from webhook.observe.events import SignalEvents
from webhook.observe.logs import bind_signal

__all__ = ["Executor", "ExecutionJob"]
logger = logging.getLogger("tradehook.executor")
SETTLED_CHECK = 1_000
"""Signals awaiting a claim looked up per claim round, to forget those settled elsewhere."""
class Executor:
    def __init__(
        self,
        journal: SignalJournal,
        registry: PluginRegistry,
        settings: ExecutionSettings,
        *,
        events: SignalEvents | None = None,
        kill_switch: KillSwitch | None = None,
        owner: str | None = None,
        limits: DeliveryLimits | None = None,
    ) -> None:
        self.owner = owner or settings.instance or socket.gethostname()
        self._journal = journal
        self._settings = settings
        self.breakers = CircuitBreakers(
            failures=settings.breaker_failures, cooldown=settings.breaker_cooldown
        )
        self._kill_switch = kill_switch
        self._registry = registry
        self._runner = AttemptRunner(
            journal, registry, settings, self.breakers,
            owner=self.owner, events=events, kill_switch=kill_switch,
            limits=limits or DeliveryLimits(settings), starts_next=self._next_to_start,
            opens_ahead=self._joins_lanes_ahead, settled=self._settled,
            handed_on=self._take_handed,
        )
        self.journal_trouble: str | None = None
        """Why the last claim or renewal could not reach the journal; None once it answers."""
        self._received = ReceivedSignals()
        self._reading: dict[str, tuple[HandedOn, asyncio.Task[None]]] = {}
        """Signals handed on to this executor whose job is read back from the journal."""
        self._running: dict[str, asyncio.Task[HandedOn | None]] = {}
        self._settled_ids: dict[str, bool] = {}
        """Of `_running`, the jobs settled at the broker whose final status is being written ->
        whether their lane's next job took their slot then (`_settled`)."""
        self._lanes = HeldLanes()
        self._wakeup = asyncio.Event()
        self._stopped_lanes = StoppedLanes(journal, self.owner,
                                           lease_seconds=settings.lease_seconds,
                                           returned=self._wakeup.set)
        self._running_plugins: dict[str, str] = {}
        self._ready: deque[ExecutionJob] = deque()
        """Leased jobs waiting for a free slot (at most `concurrency` run at once)."""
        self._orphaned: dict[str, int | None] = {}
        """Signals handed on to this executor while it stops (with the attempt opened for
        each, if any): their attempts are withdrawn and their leases given back."""
        self._lanes_joinable = False
        """Whether a receipt may be leased behind this executor's signals of its lane: once
        the leases its name held before this run (none of them in memory) are given up."""
        self._settled_check_due = 0.0
        """When `_forget_settled_elsewhere` next asks the journal (monotonic)."""
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def backlog(self) -> int:
        """Signals this instance received or claimed that are not final yet."""
        received = self._received.ids()
        return len(received) + sum(1 for signal_id in self._running if signal_id not in received)

    def held_by_breakers(self) -> dict[str, int]:
        """Plugin -> signals of this instance waiting because its breaker holds them back."""
        held = self.breakers.waiting_plugins()
        counts = dict.fromkeys(sorted(held), 0)
        if not counts:
            return counts
        for signal_id in self._received.ids() | self._running.keys():
            plugin = (self._received.plugin_of(signal_id)
                      or self._running_plugins.get(signal_id))
            if plugin in counts:
                counts[plugin] += 1
        return counts

    def lease_for(self, plugin: str, *, starting: str | None = None) -> Lease | None:
        """The lease to ask for when a queued signal for `plugin` is stored, so that it runs
        without a claim; None while this executor takes nothing (disabled, stopping, or the
        plugin's breaker holds its signals back).

        With `starting` (the signal's id) the lease also asks for its first attempt to be
        opened in the same transaction, so that its send needs no commit of its own: only while
        a slot is free (it is sent at once), the plugin's breaker is closed and the kill switch
        is released. Else it is opened before the send, as for every other attempt.

        When the plugin can look orders up by client order id and tell an unsent one from one
        it took, the lease may also be taken behind signals of the lane that this executor
        holds (`Lease.joins_lane`: it waits in `HeldLanes`), its attempt opened with it
        (`Lease.ahead`)."""
        if (not self._settings.enabled or self._stopping
                or plugin in self.breakers.waiting_plugins()):
            return None
        busy = self._sending() + len(self._ready)
        if busy >= self._settings.concurrency or not self._may_start(plugin):
            starting = None
        # A plugin whose lookups cannot tell an unsent order keeps to the hand-on, which opens
        # each next attempt with the previous final status: leased here without its attempt,
        # a signal would pay a commit of its own before its send all the same.
        ahead = self._joins_lanes_ahead(plugin)
        return Lease(self.owner, self._settings.lease_seconds, starting=starting,
                     joins_lane=ahead, ahead=ahead)

    def _sending(self) -> int:
        """Running jobs not yet settled at the broker: those `concurrency` bounds. A settled
        job's task only waits for its final status to be committed."""
        return len(self._running) - len(self._settled_ids)

    def _joins_lanes_ahead(self, plugin: str) -> bool:
        """Whether signals of `plugin` may be leased to this executor behind its lane's running
        one with their attempts opened (at receipt or with a hand-on): once the leases its name
        held before this run are given up, and only for a plugin whose lookups tell."""
        return self._lanes_joinable and self._opens_ahead(plugin)

    def _opens_ahead(self, plugin: str) -> bool:
        """Whether a signal of `plugin` waiting in its lane may have its attempt opened as it
        is stored: only when a lookup after a crash settles it either way, found or not."""
        if plugin not in self._registry:
            return False
        declared = self._registry.capabilities(plugin)
        return (declared.client_order_ids and declared.lookup_by_client_order_id
                and declared.unsent_orders_not_found)

    def _may_start(self, plugin: str) -> bool:
        """Whether a signal of `plugin` would be sent as soon as it runs: nothing to wait for
        (an open breaker) or to refuse it for (the kill switch) before its send."""
        return ((self._kill_switch is None or not self._kill_switch.engaged)
                and self.breakers.state(plugin) is BreakerState.CLOSED)

    def _next_to_start(self, plugin: str, symbol: str) -> str | None:
        """The signal of (plugin, symbol) received here that runs next, as its lane's running
        signal ends, when it may be started then (the freed slot is its: no job waits for one).
        The journal opens its attempt with the hand-on only if it is indeed the lane's head."""
        if self._ready or not self._may_start(plugin):
            return None
        for signal_id in self._received.in_lane(plugin, symbol):
            if signal_id in self._received.awaiting_claim:  # arrival order: first not running
                return signal_id
        return None

    def submit(self, job: ExecutionJob) -> None:
        """A stored signal is ready to execute: run it now when `job.leased` (this executor
        holds its lease), else claim it soon (or when its lane's running signal ends)."""
        if self._stopping and job.leased:
            self._orphaned[job.signal_id] = job.attempt  # stored as we stopped: given back
            return
        if self._settings.enabled and not self._stopping:
            self._received.add(job)
            if job.leased:
                self._start_leased(job)
                return
            if not self._lanes.holds(lane_of(job)):
                self._wakeup.set()

    def runs_now(self, signal_id: str) -> bool:
        """Whether the signal's task runs now: started at once, not waiting behind its lane's
        running job or for a free slot."""
        return signal_id in self._running

    async def start(self) -> None:
        """Take this executor's name on the journal (`NameTaken` if a live one has it) and
        start claiming and renewing."""
        if not self._settings.enabled:
            return
        await self._journal.hold_name(self.owner)
        self._loops = [
            asyncio.create_task(self._claim_forever(), name="executor-claims"),
            asyncio.create_task(self._renew_forever(), name="executor-leases"),
        ]

    async def stop(self, grace: float = 10.0) -> None:
        """Claim nothing more, let running signals finish for up to `grace` seconds, then stop
        the rest and give their leases back: they stay queued or executing in the journal, and
        whoever claims them next asks the broker before resending."""
        self._stopping = True
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._runner.hand_on = None
        left = [job.signal_id for job in self._ready]
        unsent = {job.signal_id: job.attempt for job in self._ready if job.attempt is not None}
        self._ready.clear()
        reading, self._reading = self._reading, {}
        for _, read in reading.values():
            read.cancel()
        await asyncio.gather(*(read for _, read in reading.values()), return_exceptions=True)
        self._orphaned |= {signal_id: h.attempt for signal_id, (h, _) in reading.items()}
        if self._running:
            _, unfinished = await asyncio.wait(set(self._running.values()), timeout=grace)
            left += [signal_id for signal_id, task in self._running.items()
                     if task in unfinished]
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        unsent |= {signal_id: self._runner.unsent.pop(signal_id)
                   for signal_id in left if signal_id in self._runner.unsent}
        waited = self._lanes.drain()  # leased behind a lane's running job, never started
        left += [job.signal_id for job in waited]
        unsent |= {job.signal_id: job.attempt for job in waited if job.attempt is not None}
        await self._stopped_lanes.given_back()
        left += self._orphaned
        unsent |= {signal_id: number for signal_id, number in self._orphaned.items()
                   if number is not None}
        self._orphaned.clear()
        self._received.clear()
        if unsent:  # opened ahead, never sent: queued again, as they were
            with contextlib.suppress(JournalError):
                await self._journal.withdraw_attempts(unsent)
        if left:
            with contextlib.suppress(JournalError):
                await self._journal.release(self.owner, left)
        if self._loops:
            with contextlib.suppress(JournalError):
                await self._journal.release_name(self.owner)

    async def _claim_forever(self) -> None:
        # Checks `_stopping` too: on Python 3.11 asyncio.wait_for can swallow the cancellation
        # that stops this loop when the wakeup comes at the same moment, and stop() then
        # waited for ever.
        while not self._stopping:
            self._wakeup.clear()
            try:
                if not self._lanes_joinable:
                    await self._journal.release_all(self.owner)  # claimed back in order below
                    self._lanes_joinable = True
                await self._claim_once()
            except JournalError as exc:
                if self.journal_trouble is None:
                    logger.warning("cannot claim signals: %s", exc)
                self.journal_trouble = str(exc)
            else:
                if self.journal_trouble is not None:
                    logger.warning("the journal answers again: claiming signals")
                self.journal_trouble = None
            try:
                await asyncio.wait_for(self._wakeup.wait(), self._settings.poll_interval)
            except TimeoutError:
                pass

    async def _claim_once(self) -> None:
        free = self._settings.concurrency - self._sending()
        if free <= 0:
            return
        claimed = await self._journal.claim(
            self.owner,
            lease_seconds=self._settings.lease_seconds,
            # Our own running signals come back too (they head their lanes): skip them.
            limit=free + len(self._running),
            exclude_plugins=self.breakers.waiting_plugins(),  # open, or its probe is out
        )
        waiting = {job.signal_id for job in self._ready}  # ours already, queued for a slot
        for record in claimed:
            # A signal handed on with its attempt opened is launched as its lane's previous
            # signal ends (or once read back), not taken here as if it had been interrupted.
            if (record.id in self._running or record.id in waiting
                    or record.id in self._runner.unsent or record.id in self._reading
                    or self._lanes.waits(record.id) or self._stopped_lanes.gives_back(record.id)
                    or self._sending() >= self._settings.concurrency):
                continue
            self._received.awaiting_claim.discard(record.id)
            self._launch(ExecutionJob.of(record))
        await self._forget_settled_elsewhere()

    async def _forget_settled_elsewhere(self) -> None:
        """Signals received here without a lease that another executor (sharing the journal)
        took and ended: they are not pending any more, so they leave this one's backlog and
        its lanes. Without this they stayed until `received.MAX_REMEMBERED` pushed them out."""
        now = time.monotonic()
        if now < self._settled_check_due:
            return
        # Once per poll interval, not on every claim round: under a backlog a claim round
        # follows each ended signal, and this asks the journal about a thousand ids.
        self._settled_check_due = now + self._settings.poll_interval
        waiting = list(itertools.islice(
            (signal_id for signal_id in self._received.awaiting_claim
             if signal_id not in self._running and signal_id not in self._reading),
            SETTLED_CHECK))
        if not waiting:
            return
        pending = await self._journal.pending_among(waiting)
        for signal_id in waiting:
            if signal_id not in pending and signal_id in self._received.awaiting_claim:
                self._received.forget(signal_id)

    def _start_leased(self, job: ExecutionJob, *, lane_turn: bool = False) -> None:
        """Run a job whose lease this executor holds, or queue it behind its lane's job;
        `lane_turn` when it takes the slot of its lane's job that just ended."""
        lane = lane_of(job)
        if self._stopped_lanes.blocks(lane):
            self._give_back([job])
        elif self._lanes.holds(lane):
            self._lanes.wait(job)
        else:
            self._launch(job, lane_turn=lane_turn)

    def _launch(self, job: ExecutionJob, *, lane_turn: bool = False) -> None:
        """Run a job whose lease this executor holds, or queue it for the next free slot (not
        a lane's next job, which takes the slot of the one before)."""
        lane = lane_of(job)
        self._lanes.hold(lane)
        self._stopped_lanes.resume(lane)  # a claim runs a stalled lane's head again
        if not lane_turn and self._sending() >= self._settings.concurrency:
            self._ready.append(job)
            return
        task = asyncio.create_task(self._run(job), name=f"signal {job.signal_id}")
        self._running[job.signal_id] = task
        self._running_plugins[job.signal_id] = job.plugin
        task.add_done_callback(functools.partial(self._done, job))

    def _settled(self, job: ExecutionJob) -> bool:
        """The job's final status is decided (and about to be written): run its lane's next
        job now, if one waits here; True when it did."""
        continued = not self._stopping and self._next_in_lane(lane_of(job))
        self._settled_ids[job.signal_id] = continued
        if not continued and not self._stopping:
            self._fill_slots()  # its slot is free from now on
        return continued

    def _done(self, job: ExecutionJob, task: asyncio.Task[HandedOn | None]) -> None:
        signal_id = job.signal_id
        self._running.pop(signal_id, None)
        self._running_plugins.pop(signal_id, None)
        continued = self._settled_ids.pop(signal_id, None)
        settled = continued is not None
        self._received.forget(signal_id)
        # What the journal handed on with its final status was taken as the write returned
        # (`_take_handed`); only whether there was any matters here.
        handed = None if task.cancelled() else task.result()
        if self._stopping:
            return
        if not settled:  # ended pending: what waited behind it must not overtake it
            self._stall(lane_of(job))
        self._runner.unsent.pop(signal_id, None)
        self._fill_slots()
        if handed is None and not continued and (
                self._received.awaiting_claim or not self._journal.hands_on or not job.leased):
            # The next signal of its lane, leased or not, is claimed now; after a claimed one
            # too, since what a stopped executor leased at receipt is handed on to no one. A
            # lane whose next job took the slot from memory goes on there: a claim would find
            # nothing new (its signals not in memory are handed on as that run ends).
            self._wakeup.set()

    def _fill_slots(self) -> None:
        """Run the jobs that wait for a slot, as far as slots are free."""
        while self._ready and self._sending() < self._settings.concurrency:
            self._launch(self._ready.popleft())

    def _take_handed(self, job: ExecutionJob, handed: HandedOn) -> None:
        """Run the signal the journal handed on with `job`'s final status, in the same step
        that returned from that write: a newer receipt of the lane stored in the same
        transaction (and leased behind it) resumes only after this, and waits its turn. The
        signals handed on after it (`HandedOn.following`) wait behind it in its lane."""
        if self._stopping:
            self._orphaned[handed.signal_id] = handed.attempt
            self._orphaned |= {h.signal_id: h.attempt for h in handed.following}
            return
        awaiting = self._received.awaiting_claim
        following = [self._handed_job(h) for h in handed.following]
        next_job = self._received.take_job(handed.signal_id)
        lane = lane_of(job)
        if next_job is not None and handed.signal_id not in self._running:
            awaiting.discard(next_job.signal_id)
            next_job = dataclasses.replace(next_job, leased=True, attempt=handed.attempt)
            self._start_leased(next_job, lane_turn=True)
            # Given back (its lane stalled), the rest must not overtake it.
            self._wait_behind(following, not self._stopped_lanes.gives_back(next_job.signal_id)
                              and self._lanes.holds(lane))
        elif handed.signal_id in awaiting and handed.signal_id not in self._reading:
            awaiting.discard(handed.signal_id)
            # Nothing of the lane overtakes it while it is read (unless a job holds the lane
            # already: it waits behind that one, and what was handed on after it is given back).
            took = not self._lanes.holds(lane)
            self._lanes.hold(lane)
            self._wait_behind(following, took)
            self._reading[handed.signal_id] = (handed, asyncio.create_task(
                self._launch_from_journal(handed, lane if took else None),
                name=f"read signal {handed.signal_id}"))
        else:
            # Forgotten meanwhile (claimed, it is taken as interrupted: the broker is asked),
            # or running already: a claim takes whatever heads the lane.
            self._runner.unsent.pop(handed.signal_id, None)
            self._give_back(following)
            self._wakeup.set()

    def _handed_job(self, handed: HandedJob) -> ExecutionJob:
        """The job of a signal handed on behind its lane's next one: the one received here if
        it was kept, else built from what the journal returned; remembered as leased here."""
        kept = self._received.take_job(handed.signal_id)
        self._received.awaiting_claim.discard(handed.signal_id)
        if kept is not None:
            return dataclasses.replace(kept, leased=True, attempt=handed.attempt, resumed=False)
        job = ExecutionJob.handed(handed)
        if self._received.plugin_of(handed.signal_id) is None:  # received elsewhere
            self._received.add(job)
        return job

    async def _launch_from_journal(self, handed: HandedOn, lane: Lane | None) -> None:
        """Run a signal received here and handed on to this executor whose job was not kept
        (past `received.MAX_JOBS_HELD`): its lease is ours, only its order is read back. With
        `lane`, the lane it was held for meanwhile: it runs first, then whatever waits there."""
        signal_id = handed.signal_id
        try:
            record = await self._journal.get(signal_id)
        except JournalError as exc:
            logger.warning("signal %s: cannot read it back to run it: %s", signal_id, exc)
            record = None
        self._reading.pop(signal_id, None)
        if self._stopping:
            self._orphaned[signal_id] = handed.attempt
        elif record is not None and record.status not in PENDING:
            # Ended meanwhile: the lane's turn passes to what waits there.
            self._runner.unsent.pop(signal_id, None)
            self._wakeup.set()
            if lane is not None:
                self._next_in_lane(lane)
        elif record is None or signal_id in self._running:
            # Unread, or claimed meanwhile: a claim takes it as interrupted (the broker is
            # asked), and what waited behind it is given back, not sent ahead of it.
            self._runner.unsent.pop(signal_id, None)
            if lane is not None:
                self._stall(lane)
            self._wakeup.set()
        else:
            job = ExecutionJob.of(record, leased=True, attempt=handed.attempt)
            if handed.attempt is not None:  # executing only by the attempt opened with it
                job = dataclasses.replace(job, resumed=False)
            if lane is not None:  # its lane waited for it
                self._launch(job, lane_turn=True)
            else:
                self._start_leased(job)

    def _next_in_lane(self, lane: Lane) -> bool:
        """The lane's turn passes: its next waiting job runs (True), or the lane is free."""
        next_job = self._lanes.next(lane)
        if next_job is None:
            return False
        self._launch(next_job, lane_turn=True)
        return True

    def _wait_behind(self, jobs: list[ExecutionJob], lane_held: bool) -> None:
        """Jobs handed on behind the one that now holds their lane wait there, in order; with
        the lane not held for that one, they are given back instead."""
        if not lane_held:
            self._give_back(jobs)
            return
        for job in jobs:
            self._lanes.wait(job)

    def _stall(self, lane: Lane) -> None:
        """The lane's job ended still pending under this executor's lease: what waited behind
        it is given back, and leased jobs of the lane are too until a claim runs it again."""
        self._stopped_lanes.stall(lane)
        self._give_back(self._lanes.release(lane))

    def _give_back(self, jobs: list[ExecutionJob]) -> None:
        """Forget these leased jobs here and give them back to the journal
        (`StoppedLanes.give_back`)."""
        for job in jobs:
            self._received.forget(job.signal_id)
        self._stopped_lanes.give_back(jobs)

    async def _run(self, job: ExecutionJob) -> HandedOn | None:
        """Run one signal; the id of its lane's next signal when the journal handed it on."""
        bind_signal(job.signal_id)
        try:
            return await self._runner.run(job)
        except LeaseLost as exc:
            logger.warning("signal %s: left to another executor: %s", job.signal_id, exc)
        except JournalError:
            # The signal stays pending in the journal; it is claimed again when the lease ends.
            logger.exception("signal %s: journal unavailable during execution", job.signal_id)
        except Exception:
            logger.exception("signal %s: unexpected executor failure", job.signal_id)
        self._wakeup.set()  # whatever waits in its lane is claimed
        return None

    async def _renew_forever(self) -> None:
        interval = self._settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            held = [*self._running, *(job.signal_id for job in self._ready),
                    *self._lanes.waiting_ids()]
            if not held:
                continue
            try:
                lost = await self._journal.renew(
                    self.owner, held, lease_seconds=self._settings.lease_seconds
                )
            except JournalError as exc:
                logger.warning("cannot renew leases: %s", exc)
                self.journal_trouble = str(exc)
                continue
            for signal_id in lost:
                # A signal that finished while the renewal was on its way gave its lease up
                # itself (a final status clears it): only one still running has lost it.
                if signal_id in self._running:
                    logger.warning("signal %s: lease lost while running", signal_id)
