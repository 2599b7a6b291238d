"""Prometheus metrics, counted from signal events, in a registry of the app's own.

Counters are bumped by `Metrics.observe`, a listener on `SignalEvents`; gauges that describe
the present (queue depth, plugin health) are read when scraped. Scraping is `GET /metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from webhook.journal import SignalStatus
from webhook.observe.events import SignalEvent

ANSWER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""TradingView gives up after 3 s; anything near 1 s is already a problem."""
EXECUTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
NONE = "none"
_APPROVAL_OUTCOMES = {SignalStatus.QUEUED: "approved", SignalStatus.REJECTED: "refused"}
NOT_SENT = frozenset({"gave_up", "kill_switch", "expired"})
"""Attempt outcomes decided without calling the plugin: not execution latency."""


Metric = TypeVar("Metric", Counter, Histogram)


class Children(Generic[Metric]):
    """A labelled metric's children, each looked up once: `labels()` validates and locks on
    every call, which the signal path would pay per request. The label values are bounded
    (configured names, statuses, endpoints), as prometheus' own children are."""

    def __init__(self, metric: Metric) -> None:
        self._metric: Metric = metric
        self._bound: dict[tuple[str, ...], Metric] = {}

    def __call__(self, *values: str) -> Metric:
        child = self._bound.get(values)
        if child is None:
            child = self._bound[values] = self._metric.labels(*values)
        return child


class Metrics:
    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series: noise
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.signals = Counter(
            "tradehook_signals", "Signals received, by source, dialect and how they were decided",
            ["source", "dialect", "status"], registry=r,
        )
        self._decided = Children(self.signals)
        self.refused = Counter(
            "tradehook_requests_refused",
            "Requests to the signal endpoints refused before anything was stored, by HTTP status",
            ["code"], registry=r,
        )
        self.refused_with = Children(self.refused)
        self.answer_seconds = Histogram(
            "tradehook_answer_seconds", "Time to answer a request to a signal endpoint",
            ["endpoint"], buckets=ANSWER_BUCKETS, registry=r,
        )
        self.answered = Children(self.answer_seconds)
        """`answered(endpoint).observe(seconds)`, per request."""
        self.execution_seconds = Histogram(
            "tradehook_execution_seconds", "Duration of one execution attempt, by plugin",
            ["plugin"], buckets=EXECUTION_BUCKETS, registry=r,
        )
        self._executing = Children(self.execution_seconds)
        self.attempts = Counter(
            "tradehook_execution_attempts", "Execution attempts, by plugin and outcome",
            ["plugin", "outcome"], registry=r,
        )
        self._attempted = Children(self.attempts)
        self.retries = Counter(
            "tradehook_execution_retries",
            "Attempts that left their signal queued for another try (temporary failure, or "
            "reconciled as not at the broker)", ["plugin"], registry=r,
        )
        self._retried = Children(self.retries)
        self.executed = Counter(
            "tradehook_signals_executed",
            "Signals the executor settled, by plugin and final status",
            ["plugin", "status"], registry=r,
        )
        self._settled = Children(self.executed)
        self.queue_depth = Gauge(
            "tradehook_queue_depth", "Signals waiting for or in execution in this process",
            registry=r,
        )
        self.plugin_healthy = Gauge(
            "tradehook_plugin_healthy", "1 when the plugin answered its health check", ["plugin"],
            registry=r,
        )
        self.held_by_breaker = Gauge(
            "tradehook_signals_held_by_breaker",
            "Signals of this process waiting because their plugin's circuit breaker is open",
            ["plugin"], registry=r,
        )
        self.journal_up = Gauge(
            "tradehook_journal_up",
            "1 while the journal answers; 0 while signals wait on it (and receivers answer 503)",
            registry=r,
        )
        self.kill_switch = Gauge(
            "tradehook_kill_switch_engaged", "1 while the kill switch stops all execution",
            registry=r,
        )
        self.approvals = Counter(
            "tradehook_approvals",
            "Signals that awaited approval, by how that ended (approved, declined, expired, "
            "refused: the kill switch or a risk rule forbade it at approval)",
            ["source", "outcome"], registry=r,
        )
        self.notifications = Counter(
            "tradehook_notifications",
            "Notifications by target and outcome (sent, failed, dropped)",
            ["target", "outcome"], registry=r,
        )

    def observe(self, event: SignalEvent) -> None:
        """Count one event (a `SignalEvents` listener)."""
        if event.kind == "decided" and event.status is not None:
            self._decided(event.source or NONE, event.dialect or NONE, event.status).inc()
        elif event.kind == "approval" and event.status is not None:
            outcome = _APPROVAL_OUTCOMES.get(event.status, event.status.value)
            self.approvals.labels(event.source or NONE, outcome).inc()
        elif event.kind == "attempt":
            plugin = event.plugin or NONE
            self._attempted(plugin, event.outcome or NONE).inc()
            if event.seconds is not None and event.outcome not in NOT_SENT:
                self._executing(plugin).observe(event.seconds)
            if event.status is SignalStatus.QUEUED:
                self._retried(plugin).inc()
            elif event.final and event.status is not None:
                self._settled(plugin, event.status).inc()

    def render(
        self, *, queue_depth: int, plugin_health: Mapping[str, bool], kill_switch: bool,
        held_by_breakers: Mapping[str, int] | None = None, journal_up: bool = True,
    ) -> bytes:
        """The exposition text, with the present-state gauges brought up to date."""
        self.queue_depth.set(queue_depth)
        self.journal_up.set(1 if journal_up else 0)
        self.held_by_breaker.clear()
        for plugin, held in (held_by_breakers or {}).items():
            self.held_by_breaker.labels(plugin).set(held)
        self.kill_switch.set(1 if kill_switch else 0)
        for name, healthy in plugin_health.items():
            self.plugin_healthy.labels(name).set(1 if healthy else 0)
        return generate_latest(self.registry)
