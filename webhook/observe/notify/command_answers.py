"""What the chat commands (`telegram_commands`) say and do in the running server.

Each answer is short plain text. `/kill` engages the kill switch as `POST /api/kill-switch`
does (durably, with an event for the dashboard and the notifiers); nothing here releases it.
The Approve and Decline buttons go through the same approval queue as the admin API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from webhook.errors import JournalError
from webhook.execute.kill_switch import KillSwitchRequest
from webhook.observe.events import SignalEvent

if TYPE_CHECKING:
    from plugins.registry import PluginRegistry
    from webhook.decide.approvals import ApprovalOutcome, ApprovalQueue
    from webhook.execute.kill_switch import KillSwitch
    from webhook.journal import SignalJournal
    from webhook.observe.events import SignalEvents

NEWEST_SIGNALS = 10


class ServerCommandActions:
    def __init__(self, journal: SignalJournal, registry: PluginRegistry,
                 kill_switch: KillSwitch, events: SignalEvents,
                 approvals: ApprovalQueue | None = None) -> None:
        self._approvals = approvals
        self._journal = journal
        self._registry = registry
        self._kill_switch = kill_switch
        self._events = events

    async def status(self) -> str:
        switch = (f"kill switch ENGAGED: {self._kill_switch.describe()}"
                  if self._kill_switch.engaged else "kill switch released")
        health = await self._registry.health_check_all()
        plugins = [f"{name}: {'healthy' if ok else 'UNHEALTHY'}" for name, ok in health.items()]
        journal = "journal OK" if await self._journal.healthy() else "journal UNREACHABLE"
        return "\n".join([switch, *plugins, journal])

    async def positions(self) -> str:
        lines = []
        for name in self._registry.names():
            try:
                balance = await self._registry.fetch_balance(name)
            except Exception as exc:  # noqa: BLE001 - a plugin's trouble is told, not raised
                lines.append(f"{name}: balance unavailable ({type(exc).__name__})")
                continue
            free = f", free {balance.free:g}" if balance.free is not None else ""
            lines.append(f"{name}: equity {balance.equity:g} {balance.currency}{free}")
        return "\n".join(lines) or "no plugins"

    async def signals(self) -> str:
        records = await self._journal.list_signals(limit=NEWEST_SIGNALS)
        lines = []
        for record in records:
            when = datetime.fromtimestamp(record.received_at, UTC).strftime("%H:%M:%S")
            order = record.order
            what = f"{order.side} {order.quantity:g} {order.symbol}" if order else "-"
            lines.append(f"{when} {record.status.value} {what} ({record.source})")
        return "\n".join(lines) or "no signals yet"

    async def kill(self, reason: str) -> str:
        try:
            state = await self._kill_switch.set(KillSwitchRequest(engaged=True, reason=reason))
        except JournalError:
            return "the journal could not store it: the kill switch is unchanged"
        self._events.publish(SignalEvent(kind="kill_switch", engaged=state.engaged,
                                         reason=state.reason))
        return "kill switch ENGAGED: no new order will be sent. Release it in the dashboard."

    async def approve(self, signal_id: str, by: str) -> str:
        return await self._decide(signal_id, by, approving=True)

    async def decline(self, signal_id: str, by: str) -> str:
        return await self._decide(signal_id, by, approving=False)

    async def _decide(self, signal_id: str, by: str, *, approving: bool) -> str:
        queue = self._approvals
        if queue is None:
            return "approvals are not taken here"
        try:
            outcome = await (queue.approve(signal_id, by) if approving
                             else queue.decline(signal_id, by))
        except JournalError:
            return "the journal could not record it: nothing changed, try again"
        return _told(signal_id, outcome, "approved" if approving else "declined")


def _told(signal_id: str, outcome: ApprovalOutcome | None, done: str) -> str:
    if outcome is None:
        return f"no signal {signal_id}"
    if outcome.done:
        return f"signal {signal_id} {done}"
    if outcome.rule:
        return f"signal {signal_id} NOT approved: {outcome.reason}"
    return f"signal {signal_id} is {outcome.status.value}, no longer awaiting approval"
