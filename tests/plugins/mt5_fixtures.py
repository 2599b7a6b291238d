"""Fixtures for the mt5 plugin's tests: the fake terminal, over rpyc or in process.

`fake_mt5` is parametrised over both transports: `rpyc` reaches the fake through a real rpyc
classic server in a subprocess (as a Wine or Windows terminal is reached), `native` imports
the same fake module in this process as `MetaTrader5`, as if on Windows.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import tests.fakes.metatrader5 as fake_module
from plugins.mt5 import MT5Config, MT5Plugin
from plugins.mt5 import transports as mt5_transports
from plugins.orders import Order
from tests.conftest import skip_unless_available
from tests.fakes.mt5_server import FakeMT5Server, TlsFiles, serve_fake_mt5

SIGNAL_ID = "01JDQ3F6Z8X2K9M4N7P5R0S1T2"


def order(**fields: Any) -> Order:
    """A buy of 0.1 EURUSD for SIGNAL_ID, with `fields` changed."""
    values: dict[str, Any] = {
        "symbol": "EURUSD", "side": "buy", "quantity": 0.1, "client_order_id": SIGNAL_ID,
    }  # fmt: skip
    values.update(fields)
    return Order(**values)


@dataclass
class FakeMT5:
    """The fake terminal as a test sees it, whichever transport the plugin uses."""

    transport: str
    module: Any
    port: int = 0

    def state(self) -> dict[str, Any]:
        raw = self.module.fake_state()
        if self.transport == "rpyc":
            import rpyc

            result: dict[str, Any] = rpyc.classic.obtain(raw)
            return result
        return dict(raw)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("fake_"):
            return getattr(self.module, name)
        raise AttributeError(name)

    def config(self, **options: Any) -> MT5Config:
        options.setdefault("reconcile_timeout", 0.3)
        if self.transport == "rpyc":
            return MT5Config(transport="rpyc", host="127.0.0.1", port=self.port, **options)
        return MT5Config(transport="native", **options)

    def net_position(self, symbol: str) -> float:
        return round(
            sum(p["volume"] * (1 if p["type"] == 0 else -1)
                for p in self.state()["positions"] if p["symbol"] == symbol),
            8,
        )  # fmt: skip


@pytest.fixture(scope="module")
def mt5_server() -> Iterator[FakeMT5Server]:
    with serve_fake_mt5() as server:
        yield server


@pytest.fixture(params=["rpyc", "native"])
def fake_mt5(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeMT5]:
    if request.param == "rpyc":
        server: FakeMT5Server = request.getfixturevalue("mt5_server")
        server.fake.fake_reset()
        yield FakeMT5("rpyc", server.fake, server.port)
        return
    fake_module.fake_reset()
    monkeypatch.setitem(sys.modules, "MetaTrader5", fake_module)
    monkeypatch.setattr(mt5_transports, "running_on_windows", lambda: True)
    yield FakeMT5("native", fake_module)


@contextlib.asynccontextmanager
async def started_mt5(fake: FakeMT5, **options: Any) -> AsyncIterator[MT5Plugin]:
    plugin = MT5Plugin("mt5")
    await plugin.init(fake.config(**options))
    try:
        yield plugin
    finally:
        await plugin.close()


def make_certificates(folder: Path) -> dict[str, TlsFiles]:
    """A CA, a bridge certificate for 127.0.0.1 and a client certificate, made with openssl;
    plus a client certificate from another CA (`stranger`)."""
    skip_unless_available(shutil.which("openssl") is not None, "openssl is not installed")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out",
            f"{ca}.pem", "-days", "2", "-subj", f"/CN=tradehook test {ca}")  # fmt: skip
    made: dict[str, TlsFiles] = {}
    for name, ca, extension in (
        ("bridge", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
        ("client", "ca", "extendedKeyUsage=clientAuth"),
        ("stranger", "other-ca", "extendedKeyUsage=clientAuth"),
    ):
        (folder / f"{name}.ext").write_text(extension + "\n", encoding="utf-8")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={name}")  # fmt: skip
        run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
            "-extfile", f"{name}.ext")  # fmt: skip
        made[name] = TlsFiles(folder / "ca.pem", folder / f"{name}.pem", folder / f"{name}.key")
    return made
