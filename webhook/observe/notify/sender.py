"""The notifier: turns signal events into messages and delivers them in the background.

It reads events from its own subscription, so publishing never waits for it. Each target has
its own queue and worker, so a receiver that hangs holds up only its own messages, and each
message is retried on its own (network errors, timeouts, 429 and 5xx answers) with growing
pauses, up to the target's `max_attempts`. A full queue drops its oldest message, and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping

import httpx

from webhook.errors import DeliveryFailed
from webhook.journal import SignalJournal, SignalRecord
from webhook.observe.events import SignalEvent, SignalEvents, Subscription
from webhook.observe.metrics import Metrics
from webhook.observe.notify.messages import Notification, notification_for, request_for
from webhook.observe.notify.targets import NotificationTarget

logger = logging.getLogger("tradehook.notify")
QUEUE_SIZE = 1000
RETRY_BASE_DELAY = 1.0
RETRY_MAX_DELAY = 60.0




class Notifier:
    def __init__(
        self,
        targets: Mapping[str, NotificationTarget],
        journal: SignalJournal,
        metrics: Metrics | None = None,
        *,
        retry_base_delay: float = RETRY_BASE_DELAY,
        only_source: Mapping[str, str] | None = None,
        dashboard_url: str | None = None,
    ) -> None:
        """`only_source`: targets that get only the signals of one source (an agent's result
        callback gets only `agent:NAME`'s), by target name. `dashboard_url`: where messages
        that need a person (approvals) link to."""
        self._dashboard_url = dashboard_url
        self._targets = dict(targets)
        self._only_source = dict(only_source or {})
        self._journal = journal
        self._metrics = metrics
        self._retry_base_delay = retry_base_delay
        self._queues: dict[str, asyncio.Queue[Notification]] = {
            name: asyncio.Queue(QUEUE_SIZE) for name in self._targets
        }
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._unsubscribe = contextlib.ExitStack()
        self._subscription: Subscription | None = None

    def start(self, events: SignalEvents) -> None:
        if not self._targets:
            return
        self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        subscription = self._unsubscribe.enter_context(events.subscribe(QUEUE_SIZE))
        self._subscription = subscription
        self._tasks.append(asyncio.create_task(self._dispatch(subscription), name="notify"))
        for name in self._targets:
            self._tasks.append(asyncio.create_task(self._deliver_all(name), name=f"notify {name}"))

    async def stop(self, grace: float = 2.0) -> None:
        """Give the queues up to `grace` seconds to empty, then stop; what was not delivered
        by then is dropped (and logged)."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained(), grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        undelivered = sum(queue.qsize() for queue in self._queues.values())
        if undelivered:
            logger.warning("stopping with %d notifications undelivered", undelivered)
        self._unsubscribe.close()
        if self._client is not None:
            await self._client.aclose()

    async def _drained(self) -> None:
        if self._subscription is not None:
            await self._subscription.queue.join()
        for queue in self._queues.values():
            await queue.join()

    async def _dispatch(self, subscription: Subscription) -> None:
        while True:
            event = await subscription.get()
            try:
                record = await self._record_for(event)
                note = notification_for(event, record, dashboard_url=self._dashboard_url)
                for name, target in self._targets.items():
                    if note is None or note.event not in target.events:
                        continue
                    only = self._only_source.get(name)
                    if only is None or (record is not None and record.source == only):
                        self._enqueue(name, note)
            except Exception:  # noqa: BLE001 - one bad event must not stop notifications
                logger.exception("cannot build a notification for %s", event.signal_id)
            finally:
                subscription.queue.task_done()

    async def _record_for(self, event: SignalEvent) -> SignalRecord | None:
        if event.signal_id is None:
            return None
        try:
            return await self._journal.get(event.signal_id)
        except Exception:  # noqa: BLE001 - the message can do without the details
            return None

    def _enqueue(self, name: str, note: Notification) -> None:
        queue = self._queues[name]
        if queue.full():
            dropped = queue.get_nowait()
            queue.task_done()
            self._count(name, "dropped")
            logger.warning("notification %s for %r dropped: its queue is full", dropped.id, name)
        queue.put_nowait(note)

    async def _deliver_all(self, name: str) -> None:
        queue, target = self._queues[name], self._targets[name]
        while True:
            note = await queue.get()
            try:
                await self._deliver(name, target, note)
            except Exception:  # noqa: BLE001 - keep the worker alive whatever happens
                logger.exception("notification %s for %r failed", note.id, name)
            finally:
                queue.task_done()

    async def _deliver(self, name: str, target: NotificationTarget, note: Notification) -> None:
        body, headers = request_for(target, note)
        for attempt in range(1, target.max_attempts + 1):
            try:
                await self._post(target, body, headers)
            except DeliveryFailed as exc:
                last = attempt == target.max_attempts or not exc.retry
                logger.log(
                    logging.WARNING if last else logging.INFO,
                    "notification %s to %r, try %d of %d: %s%s", note.id, name, attempt,
                    target.max_attempts, exc, "" if not last else "; giving up",
                    extra={"signal_id": note.signal_id},
                )
                if last:
                    self._count(name, "failed")
                    return
                await asyncio.sleep(self._pause(attempt, exc.retry_after))
                continue
            self._count(name, "sent")
            logger.info("notification %s sent to %r", note.id, name,
                        extra={"signal_id": note.signal_id})
            return

    async def _post(self, target: NotificationTarget, body: bytes, headers: dict[str, str]) -> None:
        assert self._client is not None  # noqa: S101 - started before any delivery
        try:
            answer = await self._client.post(
                target.url.get_secret_value(), content=body, headers=headers,
                timeout=target.timeout,
            )
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"no answer within {target.timeout:g} s", retry=True) from exc
        except httpx.HTTPError as exc:
            # The exception text may hold the URL, and the URL a token: say only what kind.
            raise DeliveryFailed(f"{type(exc).__name__}", retry=True) from None
        if answer.status_code < 300:
            return
        retry_after = _retry_after(answer.headers.get("retry-after"))
        retry = answer.status_code == 429 or answer.status_code >= 500
        raise DeliveryFailed(f"answered {answer.status_code}", retry=retry, retry_after=retry_after)

    def _pause(self, attempt: int, hint: float | None) -> float:
        delay = min(RETRY_MAX_DELAY, self._retry_base_delay * 2.0 ** (attempt - 1))
        jitter: float = random.uniform(0.75, 1.0)  # noqa: S311 - jitter, not security
        return max(delay * jitter, min(hint or 0.0, RETRY_MAX_DELAY))

    def _count(self, name: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.notifications.labels(name, outcome).inc()


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
