"""The approval queue in the admin API: `GET /api/approvals`, `POST /api/signals/{id}/approve`
and `POST /api/signals/{id}/decline`.

Admin only (the admin token, or the dashboard's session with its CSRF token): an agent's token
never approves. The decision itself is `webhook.decide.approvals`.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webhook.decide.approvals import ApprovalOutcome
from webhook.errors import JournalError
from webhook.http.admin_api import SignalView, require_admin
from webhook.http.openapi_models import ApprovalAnswer, ApprovalList

logger = logging.getLogger("tradehook.admin")
MAX_WAITING = 500


async def list_approvals(request: Request) -> Response:
    services = await require_admin(request)
    records = await services.pipeline.approvals.waiting(MAX_WAITING)
    listed = ApprovalList(approvals=[SignalView.of(r, full=False) for r in records])
    return JSONResponse(listed.model_dump(mode="json"))


async def approve(request: Request) -> Response:
    return await _decide(request, approving=True)


async def decline(request: Request) -> Response:
    return await _decide(request, approving=False)


async def _decide(request: Request, *, approving: bool) -> Response:
    services = await require_admin(request)
    signal_id = request.path_params["signal_id"]
    by = "the admin API" if "authorization" in request.headers else "the dashboard"
    queue = services.pipeline.approvals
    try:
        outcome = await (queue.approve(signal_id, by) if approving
                         else queue.decline(signal_id, by))
    except JournalError as exc:
        logger.error("signal %s: approval not recorded: %s", signal_id, exc)
        return JSONResponse({"error": "the journal could not record it, so nothing changed; "
                             "try again"}, status_code=503)
    if outcome is None:
        return JSONResponse({"error": "no such signal"}, status_code=404)
    return _answer(outcome)


def _answer(outcome: ApprovalOutcome) -> Response:
    answer = ApprovalAnswer(signal_id=outcome.signal_id, status=outcome.status,
                            reason=outcome.reason, rule=outcome.rule)
    if not outcome.done:
        answer.error = (outcome.reason if outcome.rule else
                        f"signal {outcome.signal_id} is {outcome.status.value}, not awaiting "
                        "approval")
    return JSONResponse(answer.model_dump(mode="json", exclude_none=True),
                        status_code=200 if outcome.done else 409)
