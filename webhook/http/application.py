"""`TradehookApp`: Starlette, with the two signal routes served ahead of its router.

`POST /webhook` (without a query: a dry run goes through the router) and `POST /webhook/{token}`
are most of what the server does, and Starlette's layers do nothing for them that their
handlers need: the error middleware, the exception middleware, the router's matching of 36
routes, a `Request` with its header view and body stream, and the endpoint's wrapper cost about
a tenth of a signal's CPU. Here they are matched on the scope, read from `receive` directly
(`webhook.http.signals.SignalRequest`), and a refusal or error is answered by the same handlers
(`webhook.http.answers.EXCEPTION_HANDLERS`) as Starlette would call: the same statuses, headers
and bodies. Every other request, and any scope this does not recognise (a `root_path`), goes
through Starlette as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from webhook.http.answers import EXCEPTION_HANDLERS, server_error
from webhook.http.signals import SignalHandler, SignalRequest, handle_from_source, handle_signed

SOURCE_PREFIX = "/webhook/"


class TradehookApp(Starlette):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            path: str = scope["path"]
            if path == "/webhook" and not scope["query_string"]:
                scope["app"] = self
                return await _serve(handle_signed, SignalRequest(scope, receive), send)
            if path.startswith(SOURCE_PREFIX) and "/" not in (token := path[len(SOURCE_PREFIX):]) \
                    and token:
                scope["app"] = self
                return await _serve(handle_from_source, SignalRequest(scope, receive, token), send)
        await super().__call__(scope, receive, send)


async def _serve(handler: SignalHandler, request: SignalRequest, send: Send) -> None:
    scope, receive = request.scope, request.receive
    try:
        response = await handler(request, request.services)
    except Exception as exc:
        answer = _handler_for(exc)
        # As Starlette's error middleware does for what no other handler takes: answer 500,
        # then raise it on to the server, which logs it.
        unhandled = answer is server_error
        response = await answer(Request(scope) if unhandled else Request(scope, receive), exc)
        await response(scope, receive, send)
        if unhandled:
            raise
        return
    await response(scope, receive, send)


def _handler_for(exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The handler Starlette would choose: the first of the exception's classes that has one."""
    for cls in type(exc).__mro__:
        handler = EXCEPTION_HANDLERS.get(cls)
        if handler is not None:
            return handler
    return server_error
