"""The agent API: what an agent's own token lets it do, behind `Authorization: Bearer <token>`.

- `POST /api/agent/signals` (`submit`): a signal, with an optional `Idempotency-Key` header;
  answered like `POST /webhook` and recorded with the source `agent:NAME`.
- `GET /api/agent/signals`, `GET /api/agent/signals/{id}` (`read`): its own signals only.
- `GET /api/agent/limits` (`read`): its scopes, plugins, symbols, threshold and the kill switch.
- `POST /api/agent/kill-switch` (`read`) with `{"reason": "..."}`: engage it. No agent route
  releases it; only a person, through the admin API or the dashboard.

`POST /api/preview` takes an agent's token with the `preview` scope (`webhook.http.previews`).
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webhook.agents.settings import agent_source
from webhook.agents.tokens import Agent
from webhook.auth.signatures import WEBHOOK_ID
from webhook.client.models import KillSwitchEngagement
from webhook.decide.arrival import Incoming, Receipt
from webhook.errors import HeldByConfiguration, PayloadError
from webhook.execute.kill_switch import KillSwitchRequest
from webhook.http.admin_api import SignalView, read_signal_query
from webhook.http.agent_access import require_agent
from webhook.http.signals import SignalRequest, as_endpoint, observed, read_body
from webhook.http.state import ServerState
from webhook.observe.events import SignalEvent


def agent_incoming(request: Request, agent: Agent, body: bytes, content_type: str | None
                   ) -> Incoming:
    """An agent's body as the pipeline takes it, with its `Idempotency-Key` if it sent one."""
    key = request.headers.get("idempotency-key")
    if key is not None and WEBHOOK_ID.fullmatch(key) is None:
        raise PayloadError("Idempotency-Key", "must be 1 to 64 letters, digits, _ or -")
    return Incoming(agent.settings.source, body, content_type, webhook_id=key, agent=agent.name)


async def _receive_from_agent(signal: SignalRequest, services: ServerState) -> Receipt:
    request = signal.starlette()
    services, agent = await require_agent(request, "submit")
    signal.source = agent_source(agent.name)
    body, content_type = await read_body(signal, services.settings)
    return await services.pipeline.receive(agent_incoming(request, agent, body, content_type))


submit_signal = as_endpoint(observed("agent", _receive_from_agent))


async def list_signals(request: Request) -> Response:
    services, agent = await require_agent(request, "read")
    wanted = read_signal_query(request).model_copy(update={"source": agent_source(agent.name)})
    records = await services.journal.list_signals(**wanted.model_dump())
    views = [SignalView.of(r, full=False).model_dump(mode="json") for r in records]
    return JSONResponse({"signals": views})


async def get_signal(request: Request) -> Response:
    services, agent = await require_agent(request, "read")
    record = await services.journal.get(request.path_params["signal_id"])
    if record is None or record.source != agent_source(agent.name):
        return JSONResponse({"error": "no such signal"}, status_code=404)
    return JSONResponse(SignalView.of(record, full=True).model_dump(mode="json"))


async def limits(request: Request) -> Response:
    services, agent = await require_agent(request, "read")
    settings = agent.settings
    switch = services.pipeline.kill_switch
    return JSONResponse({
        "agent": agent.name, "scopes": list(settings.scopes), "source": settings.source,
        "plugins": list(settings.plugins) or services.registry.names(),
        "symbols": list(settings.symbols) or None,
        "confidence_threshold": services.settings.threshold_for(settings.source),
        "kill_switch": {**switch.state.model_dump(mode="json"), "configured": switch.configured},
    })


async def engage_kill_switch(request: Request) -> Response:
    services, agent = await require_agent(request, "read")
    try:
        wanted = KillSwitchEngagement.model_validate_json(await request.body() or b"{}")
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(".".join(str(p) for p in error["loc"]) or "body",
                           str(error["msg"])) from exc
    switch = services.pipeline.kill_switch
    if not switch.engaged:
        try:
            await switch.set(KillSwitchRequest(engaged=True,
                                               reason=f"agent {agent.name}: {wanted.reason}"))
        except HeldByConfiguration:  # already engaged by the configuration
            pass
        services.events.publish(SignalEvent(kind="kill_switch", engaged=True,
                                            reason=switch.state.reason))
    return JSONResponse({**switch.state.model_dump(mode="json"), "configured": switch.configured})
