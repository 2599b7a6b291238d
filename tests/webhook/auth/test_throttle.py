"""Wrong admin tokens slow their sender down, per address, and a success clears the count."""

from __future__ import annotations

import pytest

from webhook.auth.throttle import FailureThrottle
from webhook.errors import TooManyAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, **kwargs: int) -> FailureThrottle:
    return FailureThrottle(free_failures=3, first_wait=2.0, max_wait=60.0, clock=clock, **kwargs)


def test_the_first_failures_are_free() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(2):
        limiter.check("198.51.100.1")
        limiter.failed("198.51.100.1")
    limiter.check("198.51.100.1")


def test_after_the_free_failures_the_address_waits_with_retry_after() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(3):
        limiter.failed("198.51.100.1")
    with pytest.raises(TooManyAttempts) as caught:
        limiter.check("198.51.100.1")
    assert caught.value.status_code == 429
    assert caught.value.answer_headers() == {"retry-after": "2"}


def test_the_wait_grows_with_each_further_failure_up_to_the_cap() -> None:
    clock = Clock()
    limiter = throttle(clock)
    waits = []
    for _ in range(10):
        limiter.failed("198.51.100.1")
        try:
            limiter.check("198.51.100.1")
            waits.append(0)
        except TooManyAttempts as exc:
            waits.append(exc.retry_after)
        clock.now += 1000  # past any wait: the next failure counts
    assert waits == [0, 0, 2, 4, 8, 16, 32, 60, 60, 60]


def test_other_addresses_are_not_slowed() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(5):
        limiter.failed("198.51.100.1")
    limiter.check("198.51.100.2")


def test_a_success_clears_the_count() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(3):
        limiter.failed("198.51.100.1")
    clock.now += 3
    limiter.check("198.51.100.1")
    limiter.succeeded("198.51.100.1")
    assert limiter.failures("198.51.100.1") == 0
    limiter.failed("198.51.100.1")
    limiter.check("198.51.100.1")


def test_memory_is_bounded_by_forgetting_the_oldest_addresses() -> None:
    clock = Clock()
    limiter = throttle(clock, max_addresses=100)
    for n in range(1000):
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
    assert limiter.failures("10.0.0.0") == 0
    assert limiter.failures("10.0.3.231") == 1
