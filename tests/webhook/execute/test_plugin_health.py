"""Plugin health costs the broker nothing extra: at most one check in flight, its answer kept
for a few seconds, however many callers ask."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from webhook.execute.plugin_health import PluginHealth


class CountingRegistry:
    """Stands in for `PluginRegistry.health_check_all`, counting the checks it was asked for."""

    def __init__(self) -> None:
        self.checks = 0
        self.release = asyncio.Event()
        self.healthy = True

    async def health_check_all(self, per_plugin_timeout: float = 2.0) -> dict[str, bool]:
        self.checks += 1
        await self.release.wait()
        return {"mock": self.healthy}


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def health(registry: CountingRegistry, clock: Clock) -> PluginHealth:
    fake: Any = registry
    return PluginHealth(fake, ttl=5.0, clock=clock)


@pytest.mark.anyio
async def test_callers_during_a_check_share_it() -> None:
    registry, clock = CountingRegistry(), Clock()
    cache = health(registry, clock)
    callers = [asyncio.create_task(cache.get()) for _ in range(50)]
    await asyncio.sleep(0)
    registry.release.set()
    answers = await asyncio.gather(*callers)
    assert registry.checks == 1
    assert answers == [{"mock": True}] * 50


@pytest.mark.anyio
async def test_the_answer_is_kept_for_the_ttl_then_checked_again() -> None:
    registry, clock = CountingRegistry(), Clock()
    registry.release.set()
    cache = health(registry, clock)
    await cache.get()
    clock.now += 4.9
    registry.healthy = False
    assert await cache.get() == {"mock": True}
    assert registry.checks == 1
    clock.now += 0.2
    assert await cache.get() == {"mock": False}
    assert registry.checks == 2


@pytest.mark.anyio
async def test_a_caller_that_gives_up_does_not_cancel_the_others_check() -> None:
    registry, clock = CountingRegistry(), Clock()
    cache = health(registry, clock)
    impatient = asyncio.create_task(cache.get())
    patient = asyncio.create_task(cache.get())
    await asyncio.sleep(0)
    impatient.cancel()
    registry.release.set()
    assert await patient == {"mock": True}
    assert registry.checks == 1
