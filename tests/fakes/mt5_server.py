"""A real rpyc classic server whose `MetaTrader5` is the fake module, in a subprocess.

This is what runs next to a terminal on Windows or under Wine (`rpyc_classic`, or mt5linux),
except that `import MetaTrader5` finds `tests.fakes.metatrader5`. `python -m
tests.fakes.mt5_server --port 0` prints `listening on PORT` once it accepts connections.
`serve_fake_mt5()` starts one for a test session and gives a control connection to the fake.
With `tls`, the server speaks TLS and asks each client for a certificate signed by the CA, as
`rpyc_classic --ssl-keyfile --ssl-certfile --ssl-cafile` does (rpyc docs, "SSL" in
Secure connections; `rpyc.utils.authenticators.SSLAuthenticator`).
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


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA both sides trust, and one side's certificate and key."""

    ca: Path
    cert: Path
    key: Path


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
        import rpyc.utils.classic

        result: dict[str, Any] = rpyc.classic.obtain(self.fake.fake_state())
        return result


@contextlib.contextmanager
def serve_fake_mt5(
    timeout: float = 15.0,
    terminal: bool = True,
    tls: TlsFiles | None = None,
    control: TlsFiles | None = None,
) -> Iterator[FakeMT5Server]:
    """The server in a subprocess; `terminal=False` serves a Python without MetaTrader5; `tls`
    are the server's files, `control` the test's client certificate for its control link."""
    from rpyc.core.service import MasterService
    from rpyc.utils.factory import connect, ssl_connect

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tests.fakes.mt5_server", "--host", "127.0.0.1"]
    if tls is not None:
        command += ["--ssl-keyfile", str(tls.key), "--ssl-certfile", str(tls.cert),
                    "--ssl-cafile", str(tls.ca)]  # fmt: skip
    process = subprocess.Popen(
        [*command, "--port", "0", *([] if terminal else ["--no-terminal"])],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True, encoding="utf-8",
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the fake MetaTrader 5 server did not start: {line!r}")
        port = int(line.split()[-1])
        if control is None:
            connection = connect("127.0.0.1", port, service=MasterService)
        else:
            connection = ssl_connect(
                "127.0.0.1", port, keyfile=str(control.key), certfile=str(control.cert),
                ca_certs=str(control.ca), service=MasterService,
            )
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
    import ssl

    from rpyc.core import SlaveService
    from rpyc.utils.authenticators import SSLAuthenticator
    from rpyc.utils.server import ThreadedServer

    import tests.fakes.metatrader5 as fake

    class RecordingSlaveService(SlaveService):  # type: ignore[misc]
        """rpyc_classic's service, noting which thread serves which client (for `hostile`)."""

        def on_connect(self, conn: Any) -> None:
            super().on_connect(conn)
            fake.fake_connections[threading.get_ident()] = conn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18812)
    parser.add_argument("--no-terminal", action="store_true", help="no MetaTrader5 to import")
    parser.add_argument("--ssl-keyfile")
    parser.add_argument("--ssl-certfile")
    parser.add_argument("--ssl-cafile")
    args = parser.parse_args()
    sys.modules["MetaTrader5"] = None if args.no_terminal else fake
    authenticator = None
    if args.ssl_keyfile:
        authenticator = SSLAuthenticator(
            args.ssl_keyfile, args.ssl_certfile, ca_certs=args.ssl_cafile,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    server = ThreadedServer(
        RecordingSlaveService, hostname=args.host, port=args.port, reuse_addr=True,
        auto_register=False, authenticator=authenticator,
    )
    thread = threading.Thread(target=server.start, daemon=True)
    thread.start()
    while not server.active:  # bound in __init__, listening only once start() runs
        time.sleep(0.01)
    print(f"listening on {server.port}", flush=True)
    thread.join()


if __name__ == "__main__":
    main()
