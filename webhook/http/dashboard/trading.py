"""`GET /trading`: the "Positions & P&L" page of the dashboard.

The page is a template with no data in it; its script (`static/trading.js`) reads
`/api/positions` and `/api/stats` with the session cookie, follows `/api/events`, and draws the
charts with TradingView's lightweight-charts, shipped in `static/vendor/` (nothing is fetched
from elsewhere at run time). Without a session it sends the browser to the login form at `/`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from webhook.http.dashboard.pages import SECURITY_HEADERS, session_page
from webhook.http.state import ServerState


async def trading_page(request: Request) -> Response:
    session = await ServerState.of(request).sessions.read(request)
    if session is None:
        return RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
    return session_page("trading.html", session.csrf)
