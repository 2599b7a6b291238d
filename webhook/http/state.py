"""`ServerState`: the parts of a running server that its routes use."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from plugins.registry import PluginRegistry
from webhook.config.settings import Settings
from webhook.decide.pipeline import SignalPipeline
from webhook.execute.executor import Executor
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

    @staticmethod
    def of(request: Request) -> ServerState:
        services: ServerState = request.app.state.services
        return services
