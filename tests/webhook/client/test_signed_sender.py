"""The signed senders: every request verifiable, and a retry that carries the same id."""

from __future__ import annotations

import json

import httpx
import pytest

from webhook.auth.signatures import WebhookSecret, read_signature_headers, verify_signature
from webhook.client import AgentSignal, ClientError, RetryPolicy, SignedSender

SECRET = WebhookSecret.generate()
NO_WAIT = RetryPolicy(attempts=3, first_wait=0, max_wait=0)
BUY = AgentSignal.model_validate({"symbol": "BTC/USDT", "side": "buy", "quantity": 0.1})


class Receiver:
    """Answers from a script and keeps every request it got."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.answers.pop(0)
        if status == 0:
            raise httpx.ConnectError("refused", request=request)
        body = {"status": "queued", "signal_id": "01SIGNAL"} if status < 400 else {"error": "x"}
        return httpx.Response(status, json=body)


def sender(receiver: Receiver) -> SignedSender:
    return SignedSender("http://127.0.0.1:8000", str(SECRET), retry=NO_WAIT,
                        transport=httpx.MockTransport(receiver))


def test_every_request_verifies_with_the_secret() -> None:
    receiver = Receiver(202)
    assert sender(receiver).send(BUY) == {"status": "queued", "signal_id": "01SIGNAL"}
    (request,) = receiver.requests
    webhook_id = verify_signature([SECRET], read_signature_headers(request.headers),
                                  request.content)
    assert webhook_id.startswith("msg_")
    assert json.loads(request.content)["symbol"] == "BTC/USDT"


def test_a_5xx_or_a_network_error_is_retried_with_the_same_id() -> None:
    receiver = Receiver(503, 0, 202)
    assert sender(receiver).send(BUY, msg_id="plan-7-step-1")["signal_id"] == "01SIGNAL"
    ids = {request.headers["webhook-id"] for request in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {"plan-7-step-1"}
    for request in receiver.requests:
        verify_signature([SECRET], read_signature_headers(request.headers), request.content)


def test_a_refusal_is_not_retried() -> None:
    receiver = Receiver(401)
    with pytest.raises(ClientError) as refused:
        sender(receiver).send("buy 1 BTCUSDT")
    assert refused.value.status == 401 and len(receiver.requests) == 1
    assert receiver.requests[0].headers["content-type"] == "text/plain"


def test_retries_are_bounded() -> None:
    receiver = Receiver(503, 503, 503)
    with pytest.raises(ClientError) as failed:
        sender(receiver).send(BUY)
    assert failed.value.status == 503 and len(receiver.requests) == 3
