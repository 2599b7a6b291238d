"""Previews: what tradehook would decide about a signal, without storing or executing it.

`POST /api/preview` (an administrator, or an agent whose token has the `preview` scope) takes a
body as a sender would post it; an administrator may name the source whose rules apply with
`?source=NAME` (default `signed`). Signed senders get the same with `POST /webhook?dry_run=true`,
verified like any signed request. The answer is a `SignalPreview`, always 200: its `status` is
what the signal would get.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webhook.config.settings import SIGNED_SOURCE
from webhook.decide.arrival import Incoming
from webhook.decide.preview import SignalPreview
from webhook.errors import PayloadError
from webhook.http import signals
from webhook.http.agent_access import require_agent_or_admin
from webhook.http.agent_api import agent_incoming
from webhook.http.state import ServerState

_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no", ""})


def preview_answer(preview: SignalPreview) -> JSONResponse:
    return JSONResponse(preview.model_dump(mode="json", exclude_none=True))


async def preview(request: Request) -> Response:
    """An agent's preview follows its own rules (`source` and limits); `?source=` is for
    administrators."""
    services, agent = await require_agent_or_admin(request, "preview")
    source = request.query_params.get("source", SIGNED_SOURCE)
    if source != SIGNED_SOURCE and source not in services.settings.sources:
        raise PayloadError("source", f"no source named {source[:64]!r} is configured")
    body, content_type = await signals.read_body(request, services.settings)
    if agent is None:
        incoming = Incoming(source, body, content_type)
    else:
        incoming = agent_incoming(request, agent, body, content_type)
    return preview_answer(await services.pipeline.preview(incoming))


async def receive_signed_or_dry_run(request: Request) -> Response:
    """`POST /webhook`: a signal, or with `?dry_run=true` the preview of one."""
    if not request.scope["query_string"]:  # every signal but a preview: nothing to parse
        return await signals.receive_signed(request)
    flag = request.query_params.get("dry_run", "").strip().lower()
    if flag in _FALSE:
        return await signals.receive_signed(request)
    services = ServerState.of(request)
    incoming = await signals.signed_incoming(signals.SignalRequest.of(request), services)
    if flag not in _TRUE:
        raise PayloadError("dry_run", "must be true or false")
    return preview_answer(await services.pipeline.preview(incoming))
