"""The baseline: a bare Starlette endpoint that reads the body and answers 202."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def receive(request: Request) -> Response:
    await request.body()
    return JSONResponse({"status": "queued"}, status_code=202)


app = Starlette(routes=[Route("/webhook", receive, methods=["POST"])])
