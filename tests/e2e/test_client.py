"""The Python client against the real server: signed, retried with the same id, waited for."""

from __future__ import annotations

import asyncio

from tests.e2e.server import RunningServer
from webhook.client import AgentSignal, AsyncSignedSender, SignedSender

BUY = AgentSignal.model_validate({"symbol": "SOL/USDT", "side": "buy", "quantity": 2})


def test_a_signal_sent_twice_under_one_id_is_one_filled_order(server: RunningServer) -> None:
    with SignedSender(server.url, str(server.secret), read_token=server.admin_token) as sender:
        first = sender.send(BUY, msg_id="client-e2e-once")
        again = sender.send(BUY, msg_id="client-e2e-once")
        settled = sender.wait_for_signal(first["signal_id"], seconds=20)
    assert first["status"] == "queued"
    assert again == {"status": "duplicate", "signal_id": first["signal_id"]}
    assert settled["status"] == "filled" and len(settled["attempts"]) == 1
    stored = server.admin_get("/api/signals", symbol="SOL/USDT").json()["signals"]
    assert [s["id"] for s in stored] == [first["signal_id"]]


def test_the_async_sender_is_the_same(server: RunningServer) -> None:
    async def send() -> dict[str, object]:
        async with AsyncSignedSender(server.url, str(server.secret),
                                     read_token=server.admin_token) as sender:
            sent = await sender.send("sell 1 SOL/USDT")
            return await sender.wait_for_signal(str(sent["signal_id"]), seconds=20)

    assert asyncio.run(send())["status"] == "filled"
