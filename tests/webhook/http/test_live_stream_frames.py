"""The live stream sends a piled-up signal once, as it is now, and keeps everything else."""

from __future__ import annotations

import pytest

from webhook.http.dashboard.live import _newest_per_signal
from webhook.journal import SignalStatus
from webhook.observe.events import SignalEvent, Subscription


def decided(signal_id: str, status: SignalStatus = SignalStatus.QUEUED) -> SignalEvent:
    return SignalEvent(kind="decided", signal_id=signal_id, status=status)


def test_only_the_newest_event_of_each_signal_is_kept_in_order() -> None:
    switch = SignalEvent(kind="kill_switch", engaged=True)
    events = [decided("a"), decided("b"), SignalEvent(kind="attempt", signal_id="a"), switch,
              decided("b", SignalStatus.FILLED), SignalEvent(kind="shutdown")]
    kept = _newest_per_signal(events)
    assert kept == [events[2], switch, events[4], events[5]]


def test_a_single_event_is_sent_as_it_came() -> None:
    event = decided("a")
    assert _newest_per_signal([event]) == [event]


@pytest.mark.anyio
async def test_pending_takes_what_waits_without_waiting_for_more() -> None:
    subscription = Subscription(maxsize=10)
    assert subscription.pending() == []
    for name in "abc":
        subscription.offer(decided(name))
    assert [e.signal_id for e in subscription.pending()] == ["a", "b", "c"]
    assert subscription.pending() == []
