"""`ServerState`: the parts of a running server that its routes use."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from starlette.requests import Request

from plugins.registry import PluginRegistry
from webhook.auth.sessions import DashboardSessions
from webhook.auth.throttle import FailureThrottle
from webhook.config.settings import Settings
from webhook.decide.pipeline import SignalPipeline
from webhook.execute.executor import Executor
from webhook.execute.plugin_health import PluginHealth
from webhook.journal import SignalJournal
from webhook.observe.events import SignalEvents
from webhook.observe.metrics import Metrics


@dataclass(frozen=True)
class ServerState:
    """Settings, journal, plugins, executor, pipeline, events and metrics of one running app,
    built by the lifespan in `webhook.app` and kept on `app.state`."""

    settings: Settings
    journal: SignalJournal
    registry: PluginRegistry
    executor: Executor
    pipeline: SignalPipeline
    events: SignalEvents = field(default_factory=SignalEvents)
    metrics: Metrics = field(default_factory=Metrics)
    admin_throttle: FailureThrottle = field(default_factory=FailureThrottle)
    """Wrong admin tokens (logins and bearer tokens) per client address."""

    @cached_property
    def sessions(self) -> DashboardSessions:
        return DashboardSessions(self.journal, self.settings.admin_token)

    @cached_property
    def plugin_health(self) -> PluginHealth:
        return PluginHealth(self.registry)

    @staticmethod
    def of(request: Request) -> ServerState:
        services: ServerState = request.app.state.services
        return services
