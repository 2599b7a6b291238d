"""The circuit breaker: open after consecutive failures, then one probe at a time."""

from __future__ import annotations

from webhook.execute.breaker import BreakerState, CircuitBreakers


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def opened(clock: Clock) -> CircuitBreakers:
    breakers = CircuitBreakers(failures=2, cooldown=10, clock=clock)
    breakers.failed("ex")
    breakers.failed("ex")
    return breakers


def test_opens_after_consecutive_failures_and_holds_signals() -> None:
    clock = Clock()
    breakers = opened(clock)
    assert breakers.state("ex") is BreakerState.OPEN
    assert breakers.waiting_plugins() == {"ex"}
    assert not breakers.take_probe("ex")


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = Clock()
    breakers = opened(clock)
    clock.now = 10
    assert breakers.state("ex") is BreakerState.HALF_OPEN
    assert breakers.take_probe("ex")
    assert not breakers.take_probe("ex")  # the others wait for its verdict
    assert breakers.waiting_plugins() == {"ex"}


def test_a_failed_probe_opens_it_again_for_a_cooldown() -> None:
    clock = Clock()
    breakers = opened(clock)
    clock.now = 10
    assert breakers.take_probe("ex")
    breakers.failed("ex")
    assert breakers.state("ex") is BreakerState.OPEN
    assert breakers.seconds_until_half_open("ex") == 10
    clock.now = 20
    assert breakers.take_probe("ex")  # the next cooldown ended: a new probe


def test_a_successful_probe_closes_it() -> None:
    clock = Clock()
    breakers = opened(clock)
    clock.now = 10
    assert breakers.take_probe("ex")
    breakers.succeeded("ex")
    assert breakers.state("ex") is BreakerState.CLOSED
    assert breakers.waiting_plugins() == set()


def test_a_probe_that_ended_without_a_verdict_frees_the_next() -> None:
    clock = Clock()
    breakers = opened(clock)
    clock.now = 10
    assert breakers.take_probe("ex")
    breakers.probe_ended("ex")
    assert breakers.take_probe("ex")
