"""A real rpyc classic server whose `MetaTrader5` is the fake module, in a subprocess.

This is what runs next to a terminal on Windows or under Wine (`rpyc_classic`, or mt5linux),
except that `import MetaTrader5` finds `tests.fakes.metatrader5`. `python -m
tests.fakes.mt5_server --port 0` prints `listening on PORT` once it accepts connections.
`serve_fake_mt5()` starts one for a test session and gives a control connection to the fake.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass
class FakeMT5Server:
    host: str
    port: int
    process: subprocess.Popen[str]
    connection: Any

    @property
    def fake(self) -> Any:
        """The server's MetaTrader5 module (the fake), for the tests' `fake_*` controls."""
        return self.connection.modules.MetaTrader5

    def state(self) -> dict[str, Any]:
        import rpyc

        result: dict[str, Any] = rpyc.classic.obtain(self.fake.fake_state())
        return result


@contextlib.contextmanager
def serve_fake_mt5(timeout: float = 15.0, terminal: bool = True) -> Iterator[FakeMT5Server]:
    """The server in a subprocess; `terminal=False` serves a Python without MetaTrader5."""
    import rpyc

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tests.fakes.mt5_server", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", "0", *([] if terminal else ["--no-terminal"])],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the fake MetaTrader 5 server did not start: {line!r}")
        port = int(line.split()[-1])
        connection = rpyc.classic.connect("127.0.0.1", port)
        try:
            yield FakeMT5Server("127.0.0.1", port, process, connection)
        finally:
            connection.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def main() -> None:
    from rpyc.core import SlaveService
    from rpyc.utils.server import ThreadedServer

    import tests.fakes.metatrader5 as fake

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18812)
    parser.add_argument("--no-terminal", action="store_true", help="no MetaTrader5 to import")
    args = parser.parse_args()
    sys.modules["MetaTrader5"] = None if args.no_terminal else fake
    server = ThreadedServer(
        SlaveService, hostname=args.host, port=args.port, reuse_addr=True, auto_register=False
    )
    thread = threading.Thread(target=server.start, daemon=True)
    thread.start()
    while not server.active:  # bound in __init__, listening only once start() runs
        time.sleep(0.01)
    print(f"listening on {server.port}", flush=True)
    thread.join()


if __name__ == "__main__":
    main()
