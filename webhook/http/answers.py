"""The one place where outcomes and errors become HTTP answers."""

from __future__ import annotations

import logging

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from webhook.decide.arrival import Receipt
from webhook.errors import JournalError, PayloadError, RequestRefused
from webhook.journal import SignalStatus

logger = logging.getLogger("tradehook.http")

_STATUS_CODES = {
    SignalStatus.QUEUED: 202,
    SignalStatus.AWAITING_APPROVAL: 202,
    SignalStatus.FILTERED: 200,
    SignalStatus.REJECTED: 200,
    SignalStatus.DUPLICATE: 200,
    SignalStatus.INVALID: 400,
}


class JsonBytes(Response):
    """A JSON answer from its encoded body: what the signal endpoints answer every request
    with, without `JSONResponse`'s `json.dumps` and its header assembly."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", b"%d" % len(body)),
                            (b"content-type", b"application/json")]


def decision_answer(decision: Receipt) -> JsonBytes:
    body: dict[str, str] = {"status": decision.status.value, "signal_id": decision.signal_id}
    if decision.reason:
        body["reason"] = decision.reason
    if decision.rule:
        body["rule"] = decision.rule
    if decision.error:
        body["error"] = decision.error
    if decision.field:
        body["field"] = decision.field
    if decision.plugin and decision.status is SignalStatus.QUEUED:
        body["plugin"] = decision.plugin
    return JsonBytes(orjson.dumps(body), _STATUS_CODES.get(decision.status, 200))


def status_for(exc: Exception) -> int:
    """The HTTP status the handlers below answer `exc` with."""
    if isinstance(exc, RequestRefused):
        return exc.status_code
    if isinstance(exc, PayloadError):
        return 400
    if isinstance(exc, JournalError):
        return 503
    return 500


async def refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestRefused)  # noqa: S101 - registered for this class only
    return JSONResponse(
        {"error": str(exc)}, status_code=exc.status_code, headers=exc.answer_headers()
    )


async def client_gone(request: Request, exc: Exception) -> Response:
    """A client that closed its connection before sending its whole body: one debug line (a
    hostile client must not be able to fill the log), and an answer that nobody reads."""
    logger.debug("client left during %s %s", request.method, request.url.path)
    return Response(status_code=400)


async def bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PayloadError)  # noqa: S101 - registered for this class only
    return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)


async def journal_unavailable(request: Request, exc: Exception) -> Response:
    logger.error("journal unavailable: %s", exc)
    return JSONResponse(
        {"error": "the signal could not be stored, so it was not accepted; send it again"},
        status_code=503,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal error"}, status_code=500)


EXCEPTION_HANDLERS = {
    RequestRefused: refused,
    ClientDisconnect: client_gone,
    PayloadError: bad_request,
    JournalError: journal_unavailable,
    Exception: server_error,
}
