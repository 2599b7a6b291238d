"""A signal that ends `expired` is told like a failure: notified with its reason, counted as
settled, never as execution time."""

from __future__ import annotations

from webhook.journal import SignalStatus
from webhook.observe.events import SignalEvent
from webhook.observe.metrics import Metrics
from webhook.observe.notify.messages import notification_for
from webhook.observe.notify.targets import ALL_EVENTS

REASON = ("not sent: 412 s old from its receipt, past the max lag of 300 s for a market order; "
          "nothing reached the broker")
EXPIRED = SignalEvent(kind="attempt", signal_id="01SIGNAL", status=SignalStatus.EXPIRED,
                      plugin="binance", symbol="BTC/USDT", outcome="expired", error=REASON,
                      seconds=0.001)


def test_an_expired_signal_is_notified_with_its_reason() -> None:
    notice = notification_for(EXPIRED, None)
    assert notice is not None
    assert notice.event == "expired" and "expired" in ALL_EVENTS
    assert notice.text.startswith("tradehook: EXPIRED (not sent)")
    assert REASON in notice.text


def test_an_expired_signal_counts_as_settled_not_as_execution_time() -> None:
    metrics = Metrics()
    metrics.observe(EXPIRED)
    text = metrics.render(queue_depth=0, plugin_health={}, kill_switch=False).decode()
    assert 'tradehook_signals_executed_total{plugin="binance",status="expired"} 1.0' in text
    assert 'tradehook_execution_seconds_count{plugin="binance"}' not in text
