"""`GET /api/positions`: what each plugin holds.

Positions come from the plugins' own calls through the registry (`fetch_balance`, and
`fetch_position` for each symbol the journal shows filled on that plugin), kept for
`ACCOUNT_TTL` seconds per plugin: however many dashboards or scripts ask, a plugin's broker is
asked at most once per that time, and callers who arrive while it is being asked wait for the
same answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from plugins.errors import ExecutionError
from plugins.registry import PluginRegistry
from webhook.http.admin_api import require_admin
from webhook.journal import SignalJournal, SignalStatus

ACCOUNT_TTL = 5.0
FILLED_LOOKBACK = 500
"""Newest filled signals read to learn which symbols each plugin trades."""


class AccountCache:
    def __init__(self, registry: PluginRegistry, journal: SignalJournal, *,
                 timeout: float, ttl: float = ACCOUNT_TTL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._registry = registry
        self._timeout = timeout
        self._journal = journal
        self._ttl = ttl
        self._clock = clock
        self._kept: dict[str, tuple[float, dict[str, Any]]] = {}
        self._asking: dict[str, asyncio.Task[dict[str, Any]]] = {}

    def _fresh(self, plugin: str) -> dict[str, Any] | None:
        kept = self._kept.get(plugin)
        return kept[1] if kept is not None and self._clock() - kept[0] < self._ttl else None

    async def account(self, plugin: str, symbols: list[str]) -> dict[str, Any]:
        fresh = self._fresh(plugin)
        if fresh is not None:
            return fresh
        task = self._asking.get(plugin)
        if task is None:
            task = asyncio.create_task(self._ask(plugin, symbols))
            self._asking[plugin] = task
            task.add_done_callback(lambda _t: self._asking.pop(plugin, None))
        return await asyncio.shield(task)

    async def all_accounts(self) -> dict[str, Any]:
        names = self._registry.names()
        fresh = {name: self._fresh(name) for name in names}
        if all(view is not None for view in fresh.values()):
            return fresh  # no broker to ask, so no need to read the journal either
        traded = await self._traded_symbols()
        views = await asyncio.gather(*(self.account(n, traded.get(n, [])) for n in names))
        return dict(zip(names, views, strict=True))

    async def _ask(self, plugin: str, symbols: list[str]) -> dict[str, Any]:
        view: dict[str, Any] = {"balance": None, "positions": {}, "errors": []}
        try:
            balance = await asyncio.wait_for(self._registry.fetch_balance(plugin), self._timeout)
            view["balance"] = balance.model_dump(mode="json")
        except (ExecutionError, TimeoutError) as exc:
            view["errors"].append(f"balance: {exc or 'no answer in time'}")
        for symbol in symbols:
            try:
                view["positions"][symbol] = await asyncio.wait_for(
                    self._registry.fetch_position(symbol, plugin), self._timeout)
            except (ExecutionError, TimeoutError) as exc:
                view["errors"].append(f"position {symbol}: {exc or 'no answer in time'}")
        view["as_of"] = time.time()
        self._kept[plugin] = (self._clock(), view)
        return view

    async def _traded_symbols(self) -> dict[str, list[str]]:
        records = await self._journal.list_signals(status=SignalStatus.FILLED,
                                                   limit=FILLED_LOOKBACK)
        traded: dict[str, set[str]] = {}
        for record in records:
            if record.plugin and record.order is not None:
                traded.setdefault(record.plugin, set()).add(record.order.symbol)
        return {plugin: sorted(symbols) for plugin, symbols in traded.items()}


async def positions(request: Request) -> Response:
    services = await require_admin(request)
    cache = getattr(request.app.state, "account_cache", None)
    if cache is None:
        cache = AccountCache(services.registry, services.journal,
                             timeout=services.settings.broker_lookup_timeout)
        request.app.state.account_cache = cache
    return JSONResponse({"plugins": await cache.all_accounts()})

