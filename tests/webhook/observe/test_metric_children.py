"""Labelled metrics' children are looked up once and count what `labels()` would."""

from __future__ import annotations

from webhook.journal import SignalStatus
from webhook.observe.events import SignalEvent
from webhook.observe.metrics import Metrics


def test_a_bound_child_is_the_one_labels_gives_and_counts_there() -> None:
    metrics = Metrics()
    assert metrics.refused_with("401") is metrics.refused.labels("401")
    assert metrics.refused_with("401") is metrics.refused_with("401")
    metrics.refused_with("401").inc()
    metrics.answered("signed").observe(0.002)
    text = metrics.render(queue_depth=0, plugin_health={}, kill_switch=False).decode()
    assert 'tradehook_requests_refused_total{code="401"} 1.0' in text
    assert 'tradehook_answer_seconds_count{endpoint="signed"} 1.0' in text


def test_decisions_are_counted_by_source_dialect_and_status() -> None:
    metrics = Metrics()
    for _ in range(3):
        metrics.observe(SignalEvent(kind="decided", source="tv", dialect="native",
                                    status=SignalStatus.QUEUED))
    text = metrics.render(queue_depth=0, plugin_health={}, kill_switch=False).decode()
    assert 'tradehook_signals_total{dialect="native",source="tv",status="queued"} 3.0' in text


def test_attempts_are_counted_with_children_looked_up_once() -> None:
    metrics = Metrics()
    looked_up: list[tuple[str, ...]] = []
    labels = metrics.attempts.labels

    def counting(*values: str) -> object:
        looked_up.append(values)
        return labels(*values)

    metrics.attempts.labels = counting  # type: ignore[method-assign, assignment]
    for status in (SignalStatus.QUEUED, SignalStatus.FILLED, SignalStatus.FILLED):
        metrics.observe(SignalEvent(kind="attempt", signal_id="S", status=status,
                                    plugin="paper", outcome="result", seconds=0.01))
    assert looked_up == [("paper", "result")]
    text = metrics.render(queue_depth=0, plugin_health={}, kill_switch=False).decode()
    assert 'tradehook_execution_attempts_total{outcome="result",plugin="paper"} 3.0' in text
    assert 'tradehook_execution_retries_total{plugin="paper"} 1.0' in text
    assert 'tradehook_signals_executed_total{plugin="paper",status="filled"} 2.0' in text
    assert 'tradehook_execution_seconds_count{plugin="paper"} 3.0' in text
