"""`tradehook serve` started twice on one journal under one executor name (the same command
run twice, or a configuration copied without changing `[execution] instance`): the second
refuses to start, with a message that says why, and the first runs on undisturbed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import start_server

pytestmark = pytest.mark.e2e
NAMED = {"TRADEHOOK_EXECUTION__INSTANCE": "executor-1"}


def test_a_second_server_under_a_running_executors_name_does_not_start(tmp_path: Path) -> None:
    first = start_server(tmp_path / "serve", env=NAMED)
    try:
        with pytest.raises(RuntimeError, match="another process runs an executor named "
                                               "'executor-1'"):
            start_server(first.workdir, env=NAMED)
        first.filled({"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01})
    finally:
        first.stop()
    again = start_server(first.workdir, env=NAMED)  # stopped, the name is free
    again.stop()
