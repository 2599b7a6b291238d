"""The fake MT5 terminal over rpyc for end-to-end tests, and the `tradehook serve` that
reaches it as the plugin `forex`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import RunningServer, start_server
from tests.fakes.mt5_server import FakeMT5Server, serve_fake_mt5

PASSWORD = "e2e-terminal-password"
FOREX = """
[plugins.forex]
type = "mt5"
transport = "rpyc"
port = {port}
login = 5001
server = "FakeBroker-Demo"
password_env = "E2E_MT5_PASSWORD"
magic = 4242
"""
"""The plugin's table; `{port}` is the terminal's."""


@pytest.fixture(scope="module")
def terminal() -> Iterator[FakeMT5Server]:
    with serve_fake_mt5() as server:
        server.fake.fake_reset(login=5001, password=PASSWORD, server="FakeBroker-Demo")
        yield server


def serve_with_terminal(workdir: Path, terminal: FakeMT5Server, config_toml: str
                        ) -> RunningServer:
    """`tradehook serve` with `config_toml` plus the `forex` plugin on `terminal`."""
    config = config_toml + FOREX.format(port=terminal.port)
    return start_server(workdir, config_toml=config, env={"E2E_MT5_PASSWORD": PASSWORD})
