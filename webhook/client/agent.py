"""`AgentClient`: the agent API of a running tradehook, over HTTP with an agent token."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import httpx

from webhook.client.models import AgentSignal

SETTLED_WAIT_LIMIT = 300.0
"""The longest `wait_for_signal` waits, whatever it is asked."""
_PENDING = frozenset({"queued", "executing", "awaiting_approval"})


class ClientError(Exception):
    """The server refused a request (`status` is its HTTP status; `answer` its JSON body)."""

    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        super().__init__(f"{status}: {answer.get('error') or answer}")
        self.status = status
        self.answer = answer


def json_answer(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; a body that is none is put under `error` or `answer`."""
    try:
        data = response.json()
    except ValueError:
        return {"error": response.text[:200]}
    return data if isinstance(data, dict) else {"answer": data}


class AgentClient:
    """`async with AgentClient("http://127.0.0.1:8000", token) as tradehook: ...`

    `transport` lets a caller reach an app in process (`httpx.ASGITransport`)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport,
            headers={"authorization": f"Bearer {token}"},
        )

    async def __aenter__(self) -> AgentClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def preview(self, signal: AgentSignal) -> dict[str, Any]:
        """The decision `signal` would get now; nothing is stored."""
        return await self._call("POST", "/api/preview", signal=signal)

    async def submit(self, signal: AgentSignal, *, idempotency_key: str | None = None
                     ) -> dict[str, Any]:
        """Store and execute `signal`; the same `idempotency_key` again gives the first
        signal's id (`status: duplicate`), never a second order."""
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        return await self._call("POST", "/api/agent/signals", signal=signal, headers=headers,
                                accept=(200, 202, 400))

    async def get_signal(self, signal_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/api/agent/signals/{signal_id}")

    async def list_signals(self, *, status: str | None = None, limit: int = 20
                           ) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": limit}
        if status:
            params["status"] = status
        return await self._call("GET", "/api/agent/signals", params=params)

    async def wait_for_signal(self, signal_id: str, *, seconds: float = 30.0,
                              interval: float = 0.25) -> dict[str, Any]:
        """The signal once it has settled (no longer queued, executing or awaiting approval),
        or as it is when `seconds` (at most SETTLED_WAIT_LIMIT) have passed."""
        deadline = time.monotonic() + min(max(seconds, 0.0), SETTLED_WAIT_LIMIT)
        while True:
            signal = await self.get_signal(signal_id)
            if signal.get("status") not in _PENDING or time.monotonic() >= deadline:
                return signal
            await asyncio.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))

    async def limits(self) -> dict[str, Any]:
        return await self._call("GET", "/api/agent/limits")

    async def balance(self, plugin: str) -> dict[str, Any]:
        """The account behind `plugin`: `currency` and `equity`."""
        return await self._call("GET", f"/api/agent/plugins/{quote(plugin, safe='')}/balance")

    async def position(self, plugin: str, symbol: str) -> dict[str, Any]:
        """The net position in `symbol` (the broker's name) at `plugin`."""
        path = f"/api/agent/plugins/{quote(plugin, safe='')}/positions/{quote(symbol)}"
        return await self._call("GET", path)

    async def engage_kill_switch(self, reason: str) -> dict[str, Any]:
        """Stop all execution. No agent can release it; only a person."""
        return await self._call("POST", "/api/agent/kill-switch", body={"reason": reason})

    async def _call(
        self,
        method: str,
        path: str,
        *,
        signal: AgentSignal | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str | int] | None = None,
        accept: tuple[int, ...] = (200,),
    ) -> dict[str, Any]:
        content = signal.body() if signal is not None else None
        sent = {"content-type": "application/json", **(headers or {})} if signal else headers
        answer = await self._http.request(method, path, content=content, json=body,
                                          headers=sent, params=params)
        data = json_answer(answer)
        if answer.status_code not in accept:
            raise ClientError(answer.status_code, data)
        return data
