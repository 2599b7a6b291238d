"""Signed senders: post signals to `POST /webhook` signed with the Standard Webhooks scheme, in
a sync (`SignedSender`) and an async (`AsyncSignedSender`) form.

A send that meets a network error or a 5xx (the server did not store it) is sent again with
the same `webhook-id` and a fresh timestamp and signature, so a retry can never become a
second order: the server answers a repeated id with the first signal's id (`duplicate`).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.client.agent import ClientError, json_answer
from webhook.client.models import AgentSignal

PENDING = frozenset({"queued", "executing", "awaiting_approval"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try again after a network error or a 5xx."""

    attempts: int = 4
    first_wait: float = 0.5
    max_wait: float = 4.0

    def waits(self) -> Iterator[float]:
        """The pause before each attempt after the first."""
        for number in range(1, max(self.attempts, 1)):
            yield min(self.first_wait * 2 ** (number - 1), self.max_wait)


def _body(signal: AgentSignal | bytes | str) -> tuple[bytes, str]:
    if isinstance(signal, AgentSignal):
        return signal.body(), "application/json"
    raw = signal.encode() if isinstance(signal, str) else signal
    return raw, "application/json" if raw.lstrip()[:1] in (b"{", b"[") else "text/plain"


def _signed(secret: WebhookSecret, raw: bytes, content_type: str, msg_id: str
            ) -> dict[str, str]:
    return {**signature_headers(secret, raw, msg_id=msg_id), "content-type": content_type}


def _answer(response: httpx.Response) -> dict[str, Any]:
    data = json_answer(response)
    if response.status_code >= 400 and "signal_id" not in data:
        raise ClientError(response.status_code, data)
    return data


class _Delivery:
    """One signal on its way: its bytes and id, signed afresh for each try, and what each
    answer means (the answer to return, or the pause before trying again)."""

    def __init__(self, secret: WebhookSecret, signal: AgentSignal | bytes | str,
                 msg_id: str | None, retry: RetryPolicy) -> None:
        self._secret = secret
        self.raw, self._content_type = _body(signal)
        self._id = msg_id or "msg_" + secrets.token_urlsafe(16)
        self._waits = retry.waits()

    def headers(self) -> dict[str, str]:
        return _signed(self._secret, self.raw, self._content_type, self._id)

    def after(self, response: httpx.Response | None) -> dict[str, Any] | float:
        if response is not None and response.status_code < 500:
            return _answer(response)
        pause = next(self._waits, None)
        if pause is not None:
            return pause
        if response is None:
            raise ClientError(0, {"error": "the server could not be reached"})
        return _answer(response)


class SignedSender:
    """`SignedSender("http://127.0.0.1:8000", "whsec_...").send({"symbol": ...})`"""

    def __init__(self, base_url: str, secret: str, *, read_token: str | None = None,
                 retry: RetryPolicy = RetryPolicy(), timeout: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._secret = WebhookSecret.parse(secret)
        self._retry = retry
        headers = {"authorization": f"Bearer {read_token}"} if read_token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                  headers=headers, transport=transport)

    def __enter__(self) -> SignedSender:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def send(self, signal: AgentSignal | bytes | str, *, msg_id: str | None = None
             ) -> dict[str, Any]:
        """The server's answer (`status`, `signal_id`, ...); `ClientError` on a refusal."""
        delivery = _Delivery(self._secret, signal, msg_id, self._retry)
        while True:
            try:
                response: httpx.Response | None = self._http.post(
                    "/webhook", content=delivery.raw, headers=delivery.headers())
            except httpx.TransportError:
                response = None
            if isinstance(outcome := delivery.after(response), dict):
                return outcome
            time.sleep(outcome)

    def wait_for_signal(self, signal_id: str, *, seconds: float = 30.0) -> dict[str, Any]:
        """The signal (`GET /api/signals/{id}`, needs `read_token`) once it has settled, or
        as it is after `seconds`."""
        deadline = time.monotonic() + min(seconds, 300.0)
        while True:
            signal = _answer(self._http.get(f"/api/signals/{signal_id}"))
            if signal.get("status") not in PENDING or time.monotonic() >= deadline:
                return signal
            time.sleep(0.25)


class AsyncSignedSender:
    """The same as `SignedSender`, for asyncio."""

    def __init__(self, base_url: str, secret: str, *, read_token: str | None = None,
                 retry: RetryPolicy = RetryPolicy(), timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._secret = WebhookSecret.parse(secret)
        self._retry = retry
        headers = {"authorization": f"Bearer {read_token}"} if read_token else {}
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout,
                                       headers=headers, transport=transport)

    async def __aenter__(self) -> AsyncSignedSender:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._http.aclose()

    async def send(self, signal: AgentSignal | bytes | str, *, msg_id: str | None = None
                   ) -> dict[str, Any]:
        delivery = _Delivery(self._secret, signal, msg_id, self._retry)
        while True:
            try:
                response: httpx.Response | None = await self._http.post(
                    "/webhook", content=delivery.raw, headers=delivery.headers())
            except httpx.TransportError:
                response = None
            if isinstance(outcome := delivery.after(response), dict):
                return outcome
            await asyncio.sleep(outcome)

    async def wait_for_signal(self, signal_id: str, *, seconds: float = 30.0
                              ) -> dict[str, Any]:
        deadline = time.monotonic() + min(seconds, 300.0)
        while True:
            signal = _answer(await self._http.get(f"/api/signals/{signal_id}"))
            if signal.get("status") not in PENDING or time.monotonic() >= deadline:
                return signal
            await asyncio.sleep(0.25)
