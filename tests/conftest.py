"""Shared test fixtures and the rule that CI never skips a test for want of a service."""

from __future__ import annotations

import os
import warnings
from collections.abc import Generator

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_unless_available(available: bool, reason: str) -> None:
    """Skip a test whose service or tool is missing here; in CI (CI=true) fail it instead."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"required in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """A text file opened without `encoding=` fails the test that opens it, when the run warns
    of them (PYTHONWARNDEFAULTENCODING=1, as `make test` and CI run): on Windows it would be
    read in the ANSI code page. Only around tests, not while pytest loads its plugins, some of
    which open their own files so (tests/test_explicit_encodings.py reads our source)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", EncodingWarning)
        return (yield)
