"""The admin API and the open health and metrics endpoints.

Admin requests carry `Authorization: Bearer <admin token>`, or come from the dashboard with its
session cookie (and, when they change anything, its CSRF token).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from plugins.orders import ExecutionResult, Order
from webhook.auth.admin_token import check_admin
from webhook.errors import AuthError, HeldByConfiguration, JournalError, PayloadError
from webhook.execute.kill_switch import KillSwitchRequest
from webhook.http.state import ServerState
from webhook.journal import Attempt, SignalRecord, SignalStatus
from webhook.journal.exit_plans import ExitPlan
from webhook.journal.records import parent_of
from webhook.observe.events import SignalEvent

logger = logging.getLogger("tradehook.admin")
MAX_LIST = 500
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class SignalView(BaseModel):
    """A signal as the API shows it."""

    id: str
    received_at: float
    updated_at: float
    source: str
    dialect: str | None
    status: SignalStatus
    needs_attention: bool
    symbol: str | None
    plugin: str | None
    order: Order | None
    reason: str | None
    error: str | None
    sizing: str | None = None
    """How the quantity was computed."""
    approval_deadline: float | None = None
    """When a signal stored `awaiting_approval` expires unless approved (unix time)."""
    approved_at: float | None = None
    result: ExecutionResult | None
    raw_body: str | None = None
    content_type: str | None = None
    attempts: list[Attempt] | None = None
    parent: str | None = None
    """Of a child signal (one account of a fanned-out signal): the signal it came from."""
    children: list[SignalView] | None = None
    """Of a fanned-out signal, in full: one child signal per account. Its `status` is then
    derived from theirs."""
    exit_plan: ExitPlan | None = None
    """Of a filled entry with managed exits, in full: its plan as it stands."""
    exits: list[SignalView] | None = None
    """Of a filled entry with managed exits, in full: the exit orders sent so far
    (`ENTRY.tp1`, ..., `ENTRY.stop`)."""

    @classmethod
    def of(cls, record: SignalRecord, *, full: bool) -> SignalView:
        status = record.status
        if record.children:
            status = SignalStatus.derived([child.status for child in record.children])
        view = cls(
            id=record.id, received_at=record.received_at, updated_at=record.updated_at,
            source=record.source, dialect=record.dialect, status=status,
            needs_attention=status is SignalStatus.UNKNOWN, symbol=record.symbol,
            plugin=record.plugin, order=record.order, reason=record.reason, error=record.error,
            sizing=record.sizing, result=record.result, parent=parent_of(record.id),
            approval_deadline=record.approval_deadline, approved_at=record.approved_at,
        )
        if full:
            view.raw_body = record.raw_body.decode("utf-8", errors="replace")
            view.content_type = record.content_type
            view.attempts = record.attempts
            if record.status is SignalStatus.FANNED_OUT:
                view.children = [cls.of(child, full=True) for child in record.children]
        return view


class SignalQuery(BaseModel):
    status: SignalStatus | None = None
    source: str | None = None
    symbol: str | None = None
    limit: int = 50
    before: str | None = None


async def require_admin(request: Request) -> ServerState:
    """The server's state, once the request is known to come from an administrator."""
    services = ServerState.of(request)
    await check_admin(
        request, services.settings.admin_token, sessions=services.sessions,
        throttle=services.admin_throttle, trusted_proxies=services.settings.trusted_proxies,
    )
    return services


def read_signal_query(request: Request) -> SignalQuery:
    """The query of a signal list, or `PayloadError` naming the parameter that is wrong."""
    try:
        query = SignalQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(str(error["loc"][0]), str(error["msg"])) from exc
    if not 1 <= query.limit <= MAX_LIST:
        raise PayloadError("limit", f"must be between 1 and {MAX_LIST}")
    return query


async def list_signals(request: Request) -> Response:
    services = await require_admin(request)
    query = read_signal_query(request)
    records = await services.journal.list_signals(**query.model_dump())
    views = [SignalView.of(await _with_children(services, r), full=False).model_dump(mode="json")
             for r in records]
    return JSONResponse({"signals": views})


async def _with_children(services: ServerState, record: SignalRecord) -> SignalRecord:
    """A fanned-out signal with its children, so that a list shows the status derived from
    theirs (as `GET /api/signals/{id}` does) rather than `fanned_out`."""
    if record.status is not SignalStatus.FANNED_OUT:
        return record
    return await services.journal.get(record.id) or record


async def get_signal(request: Request) -> Response:
    services = await require_admin(request)
    record = await services.journal.get(request.path_params["signal_id"])
    if record is None:
        return JSONResponse({"error": "no such signal"}, status_code=404)
    view = SignalView.of(record, full=True)
    if record.order is not None and record.order.exits is not None:
        view.exit_plan = await services.journal.exit_plan(record.id)
        if view.exit_plan is not None:
            sent = [await services.journal.get(i) for i in view.exit_plan.exit_order_ids()]
            view.exits = [SignalView.of(order, full=True) for order in sent if order]
    return JSONResponse(view.model_dump(mode="json"))


async def list_plugins(request: Request) -> Response:
    services = await require_admin(request)
    health = await services.plugin_health.get()
    plugins: list[dict[str, Any]] = [
        {
            "name": name,
            "type": services.settings.plugins[name].type,
            "default": name == services.registry.default_name,
            "healthy": health.get(name, False),
            "capabilities": services.registry.capabilities(name).model_dump(),
            "exits": services.registry.capabilities(name).exit_parts,
            "description": services.registry.describe(name).model_dump(mode="json"),
        }
        for name in services.registry.names()
    ]
    return JSONResponse({"plugins": plugins, "default": services.registry.default_name})


async def kill_switch_state(request: Request) -> Response:
    services = await require_admin(request)
    return JSONResponse(_kill_switch_view(services))


def payload_error(exc: ValidationError) -> PayloadError:
    """A request body or query that its model refused, as the error naming its first field."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "body"
    message = "unknown field" if error["type"] == "extra_forbidden" else str(error["msg"])
    return PayloadError(field, message)


async def set_kill_switch(request: Request) -> Response:
    """`{"engaged": true, "reason": "..."}`; answers once the new state is durable."""
    services = await require_admin(request)
    body = await request.body()
    try:
        wanted = KillSwitchRequest.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise payload_error(exc) from exc
    try:
        state = await services.pipeline.kill_switch.set(wanted)
    except HeldByConfiguration as exc:
        return JSONResponse({"error": str(exc), **_kill_switch_view(services)}, status_code=409)
    except JournalError as exc:
        logger.error("kill switch not changed: %s", exc)
        return JSONResponse(
            {"error": "the journal could not store the change, so the kill switch is unchanged"},
            status_code=503,
        )
    services.events.publish(SignalEvent(kind="kill_switch", engaged=state.engaged,
                                        reason=state.reason))
    return JSONResponse(_kill_switch_view(services))


def _kill_switch_view(services: ServerState) -> dict[str, Any]:
    switch = services.pipeline.kill_switch
    return {**switch.state.model_dump(mode="json"), "configured": switch.configured}


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """The status for anyone; the details only for an administrator (a wrong token is refused
    and throttled like on every admin route)."""
    services = ServerState.of(request)
    try:
        await require_admin(request)
        detailed = True
    except AuthError:
        if "authorization" in request.headers:
            raise
        detailed = False
    journal_ok = await services.journal.healthy()
    plugins = await services.plugin_health.get()
    default_ok = plugins.get(services.registry.default_name or "", False)
    ok = journal_ok and default_ok
    body = {
        "status": "ready" if ok else "not ready",
        "journal": journal_ok,
        "plugins": plugins,
        "breakers": services.executor.breakers.states(),
        "backlog": services.executor.backlog,
        "executing": services.settings.execution.enabled,
        "waiting": {  # why signals are not moving: a breaker holds them, or the journal is away
            "on_breakers": services.executor.held_by_breakers(),
            "on_journal": not journal_ok or services.executor.journal_trouble is not None,
        },
    }
    if not detailed:
        body = {"status": body["status"]}
    return JSONResponse(body, status_code=200 if ok else 503)


async def metrics(request: Request) -> Response:
    services = ServerState.of(request)
    health = await services.plugin_health.get()
    text = services.metrics.render(
        queue_depth=services.executor.backlog, plugin_health=health,
        kill_switch=services.pipeline.kill_switch.engaged,
        held_by_breakers=services.executor.held_by_breakers(),
        journal_up=await services.journal.healthy() and services.executor.journal_trouble is None,
    )
    return Response(text, media_type=METRICS_CONTENT_TYPE)
