"""The Starlette application factory."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from plugins.errors import PluginConfigError
from plugins.loader import start_plugin, validate_plugin_config
from plugins.registry import PluginRegistry
from webhook.agents.settings import agent_source
from webhook.config.settings import Settings
from webhook.decide.pipeline import SignalPipeline
from webhook.errors import JournalError, NameTaken
from webhook.execute.deadlines import DeliveryLimits
from webhook.execute.executor import Executor
from webhook.execute.exits.manager import ExitManager
from webhook.execute.kill_switch import KillSwitch
from webhook.http import (
    accounts,
    admin_api,
    agent_accounts,
    agent_api,
    approvals,
    builder_api,
    discord_interactions,
    openapi,
    previews,
    signals,
    stats_api,
)
from webhook.http.answers import EXCEPTION_HANDLERS
from webhook.http.application import TradehookApp
from webhook.http.dashboard import STATIC_DIRECTORY, builder, live, pages, trading
from webhook.http.mcp_endpoint import McpRoute
from webhook.http.state import ServerState
from webhook.journal import SignalJournal, open_journal
from webhook.observe.events import SignalEvents
from webhook.observe.metrics import Metrics
from webhook.observe.notify.command_answers import ServerCommandActions
from webhook.observe.notify.sender import Notifier
from webhook.observe.notify.telegram_commands import TelegramCommands

logger = logging.getLogger("tradehook")
SHUTDOWN_GRACE = 10.0


def create_app(settings: Settings, *, journal: SignalJournal | None = None) -> TradehookApp:
    """Build the app; the lifespan opens the journal, starts the plugins and the executor."""

    @asynccontextmanager
    async def lifespan(app: TradehookApp) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            store = journal or open_journal(settings.journal)
            try:
                await store.open()
            except JournalError as exc:
                logger.error("cannot start: %s", exc)
                raise
            stack.push_async_callback(store.close)
            registry = PluginRegistry()
            stack.push_async_callback(registry.close_all)
            await _start_plugins(settings, registry)
            events, metrics = SignalEvents(), Metrics()
            events.listen(metrics.observe)
            notifier = Notifier(settings.notifications, store, metrics, only_source={
                agent.callback: agent_source(name) for name, agent in settings.agents.items()
                if agent.callback}, dashboard_url=_dashboard_url(settings))
            notifier.start(events)
            stack.push_async_callback(notifier.stop)
            kill_switch = KillSwitch(store, configured=settings.kill_switch)
            await kill_switch.load()
            executor = Executor(
                store, registry, settings.execution, events=events, kill_switch=kill_switch,
                owner=settings.execution.instance or f"{socket.gethostname()}:{settings.port}",
                limits=_delivery_limits(settings),
            )
            stack.push_async_callback(executor.stop, SHUTDOWN_GRACE)
            pipeline = SignalPipeline(settings, registry, store, executor, kill_switch=kill_switch,
                                      events=events)
            app.state.services = ServerState(
                settings, store, registry, executor, pipeline, events=events, metrics=metrics
            )
            try:
                await executor.start()
            except NameTaken as exc:
                logger.error("cannot start: %s", exc)
                raise
            if settings.execution.enabled:
                exits = ExitManager(store, registry, executor.submit, events=events,
                                    interval=settings.execution.exits_interval)
                events.listen(exits.observe)
                await exits.start()
                stack.push_async_callback(exits.stop)
            pipeline.approvals.start()
            stack.push_async_callback(pipeline.approvals.stop)
            for target in settings.notifications.values():
                if target.commands and target.kind == "telegram":
                    commands = TelegramCommands(target, ServerCommandActions(
                        store, registry, kill_switch, events, pipeline.approvals))
                    commands.start()
                    stack.push_async_callback(commands.stop)
            await stack.enter_async_context(agent_tools.running())
            yield

    routes = [
        Route("/webhook", previews.receive_signed_or_dry_run, methods=["POST"]),
        Route("/webhook/{token}", signals.receive_from_source, methods=["POST"]),
        Route("/discord/{target}", discord_interactions.interactions, methods=["POST"]),
        Route("/health", admin_api.health, methods=["GET"]),
        Route("/ready", admin_api.ready, methods=["GET"]),
        Route("/api/signals", admin_api.list_signals, methods=["GET"]),
        Route("/api/signals/{signal_id}", admin_api.get_signal, methods=["GET"]),
        Route("/api/signals/{signal_id}/approve", approvals.approve, methods=["POST"]),
        Route("/api/signals/{signal_id}/decline", approvals.decline, methods=["POST"]),
        Route("/api/approvals", approvals.list_approvals, methods=["GET"]),
        Route("/api/plugins", admin_api.list_plugins, methods=["GET"]),
        Route("/api/positions", accounts.positions, methods=["GET"]),
        Route("/api/stats", stats_api.stats, methods=["GET"]),
        Route("/api/preview", previews.preview, methods=["POST"]),
        Route("/api/builder", builder_api.choices, methods=["GET"]),
        Route("/api/builder/template", builder_api.template, methods=["GET"]),
        Route("/api/builder/test", builder_api.send_test, methods=["POST"]),
        Route("/api/agent/signals", agent_api.submit_signal, methods=["POST"]),
        Route("/api/agent/signals", agent_api.list_signals, methods=["GET"]),
        Route("/api/agent/signals/{signal_id}", agent_api.get_signal, methods=["GET"]),
        Route("/api/agent/limits", agent_api.limits, methods=["GET"]),
        Route("/api/agent/kill-switch", agent_api.engage_kill_switch, methods=["POST"]),
        Route("/api/agent/plugins/{plugin}/balance", agent_accounts.balance, methods=["GET"]),
        Route("/api/agent/plugins/{plugin}/positions/{symbol:path}", agent_accounts.position,
              methods=["GET"]),
        Route("/api/kill-switch", admin_api.kill_switch_state, methods=["GET"]),
        Route("/api/kill-switch", admin_api.set_kill_switch, methods=["POST"]),
        Route("/api/events", live.signal_events, methods=["GET"]),
        Route("/metrics", admin_api.metrics, methods=["GET"]),
        Route("/openapi.json", openapi.openapi_json, methods=["GET"]),
        Route("/", pages.index, methods=["GET"]),
        Route("/trading", trading.trading_page, methods=["GET"]),
        Route("/builder", builder.builder_page, methods=["GET"]),
        Route("/login", pages.login, methods=["POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static"),
    ]
    app = TradehookApp(routes=routes, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    agent_tools = McpRoute(app, agents=bool(settings.agents))
    app.router.routes.append(Route("/mcp", endpoint=agent_tools))
    return app


def _dashboard_url(settings: Settings) -> str:
    """The dashboard's address for links in notifications: `public_url`, else where it
    listens."""
    if settings.public_url:
        return settings.public_url
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


def _delivery_limits(settings: Settings) -> DeliveryLimits:
    plugins = settings.plugins
    return DeliveryLimits(
        settings.execution,
        plugin_budgets={name: p.retry_budget for name, p in plugins.items()
                        if p.retry_budget is not None},
        plugin_lags={name: p.max_lag for name, p in plugins.items()},
        source_lags={name: source.max_lag for name, source in settings.sources.items()},
    )


async def _start_plugins(settings: Settings, registry: PluginRegistry) -> None:
    for name, plugin in settings.plugins.items():
        try:
            config = validate_plugin_config(plugin.type, plugin.options)
            started = await start_plugin(name, plugin.type, config)
        except PluginConfigError as exc:
            logger.error("cannot start plugin %r: %s", name, exc)
            raise
        registry.register(started, default=name == settings.default_plugin)
        logger.info("plugin %r (%s) started", name, plugin.type)
