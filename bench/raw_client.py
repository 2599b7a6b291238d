"""A lean HTTP/1.1 client for the benchmark: pre-built signed requests written on a few
keep-alive connections, several in flight on each (pipelined), answers timed one by one.

httpx would spend more CPU per request than the server under test; this writes bytes that were
built before the clock starts and parses only the status line and Content-Length of each answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from webhook.auth.signatures import WebhookSecret, sign

LIMIT_SECONDS = 300.0
"""No run of the benchmark waits longer than this for its answers."""


@dataclass(frozen=True)
class Answer:
    status: int
    seconds: float
    """From the start of the run to the answer's arrival."""
    body: bytes


def signed_request(secret: WebhookSecret, host: str, msg_id: str, body: bytes) -> bytes:
    stamp = int(time.time())
    signature = sign(secret, msg_id, stamp, body)
    head = (
        f"POST /webhook HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nwebhook-id: {msg_id}\r\n"
        f"webhook-timestamp: {stamp}\r\nwebhook-signature: {signature}\r\n\r\n"
    )
    return head.encode() + body


async def post_all(
    host: str, port: int, requests: list[bytes], *, connections: int, window: int,
) -> list[Answer]:
    """Send every request once, spread over `connections`, at most `window` unanswered on
    each; the answers in the order of `requests`."""
    answers: list[Answer | None] = [None] * len(requests)
    started = time.monotonic()

    async def connection(indexes: list[int]) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        in_flight: deque[int] = deque()
        queue = deque(indexes)
        try:
            while queue or in_flight:
                while queue and len(in_flight) < window:
                    index = queue.popleft()
                    writer.write(requests[index])
                    in_flight.append(index)
                await writer.drain()
                status, body = await read_answer(reader)
                answers[in_flight.popleft()] = Answer(status, time.monotonic() - started, body)
        finally:
            writer.close()

    shares = [list(range(n, len(requests), connections)) for n in range(connections)]
    async with asyncio.timeout(LIMIT_SECONDS):
        await asyncio.gather(*(connection(s) for s in shares if s))
    return [a for a in answers if a is not None]


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body
