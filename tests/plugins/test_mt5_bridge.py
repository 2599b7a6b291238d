"""The link to the terminal: a bridge that cannot reach into tradehook, TLS with client
certificates, no bridge off this machine in clear, and one terminal connection per plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from plugins.errors import PluginConfigError
from plugins.loader import validate_plugin_config
from plugins.mt5 import MT5Config, MT5Plugin
from plugins.mt5 import session as mt5_session
from plugins.mt5.session import MT5Session
from plugins.orders import ExecutionStatus, Order
from tests.fakes.mt5_server import FakeMT5Server, TlsFiles, serve_fake_mt5
from tests.plugins.mt5_fixtures import (
    SIGNAL_ID,
    FakeMT5,
    fake_mt5,
    make_certificates,
    mt5_server,
    started_mt5,
)

__all__ = ["fake_mt5", "mt5_server"]  # fixtures used by name below

pytestmark = pytest.mark.anyio
BUY = Order(symbol="EURUSD", side="buy", quantity=0.1, client_order_id=SIGNAL_ID)


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_the_bridge_cannot_run_code_inside_tradehook(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_set(hostile=True)
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(BUY)
    attempts = list(fake_mt5.fake_attacks())
    assert attempts and all(a.startswith("refused") for a in attempts), attempts


@pytest.mark.parametrize("host", ["10.0.0.5", "windows-vps.example", "192.168.1.20"])
def test_a_bridge_off_this_machine_without_tls_is_refused_naming_the_fix(host: str) -> None:
    with pytest.raises(PluginConfigError, match=f"^host: the rpyc bridge at '{host}' .*TLS.*"
                       "allow_insecure_bridge"):  # fmt: skip
        validate_plugin_config("mt5", {"transport": "rpyc", "host": host})


def test_a_remote_bridge_is_allowed_with_tls_or_when_said_explicitly() -> None:
    tls = {"tls_ca_file": "ca.pem", "tls_cert_file": "me.pem", "tls_key_file": "me.key"}
    assert MT5Config(transport="rpyc", host="10.0.0.5", **tls).tls_ca_file == "ca.pem"
    assert MT5Config(transport="rpyc", host="10.0.0.5", allow_insecure_bridge=True)
    assert MT5Config(transport="rpyc", host="::1") and MT5Config(transport="rpyc", host="localhost")
    with pytest.raises(ValidationError, match="go together"):
        MT5Config(transport="rpyc", tls_ca_file="ca.pem")


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TlsFiles]:
    return make_certificates(tmp_path_factory.mktemp("mt5-tls"))


@pytest.fixture(scope="module")
def tls_bridge(certificates: dict[str, TlsFiles]) -> Iterator[FakeMT5Server]:
    with serve_fake_mt5(tls=certificates["bridge"], control=certificates["client"]) as server:
        yield server


def tls_options(files: TlsFiles) -> dict[str, str]:
    return {"tls_ca_file": str(files.ca), "tls_cert_file": str(files.cert),
            "tls_key_file": str(files.key)}  # fmt: skip


async def test_orders_travel_over_tls_with_a_client_certificate(
    tls_bridge: FakeMT5Server, certificates: dict[str, TlsFiles]
) -> None:
    tls_bridge.fake.fake_reset()
    fake = FakeMT5("rpyc", tls_bridge.fake, tls_bridge.port)
    async with started_mt5(fake, **tls_options(certificates["client"])) as plugin:
        result = await plugin.execute_order(BUY)
    assert result.status is ExecutionStatus.FILLED and len(fake.state()["deals"]) == 1


@pytest.mark.parametrize("who", ["no certificate", "another CA's certificate"])
async def test_a_tls_bridge_refuses_clients_without_our_certificate(
    tls_bridge: FakeMT5Server, certificates: dict[str, TlsFiles], who: str
) -> None:
    tls_bridge.fake.fake_reset()
    options = {} if who == "no certificate" else tls_options(certificates["stranger"])
    plugin = MT5Plugin("mt5")
    with pytest.raises(PluginConfigError, match="may require TLS|refuse|TLS"):
        await plugin.init(MT5Config(transport="rpyc", port=tls_bridge.port, **options))
    assert tls_bridge.state()["initialize_calls"] == []


async def test_a_bridge_whose_certificate_names_another_host_is_refused(
    tls_bridge: FakeMT5Server, certificates: dict[str, TlsFiles]
) -> None:
    config = MT5Config(transport="rpyc", port=tls_bridge.port, tls_server_name="bridge.example",
                       **tls_options(certificates["client"]))  # fmt: skip
    with pytest.raises(PluginConfigError, match="TLS with the bridge .*bridge.example"):
        await MT5Plugin("mt5").init(config)


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_a_second_plugin_on_the_same_bridge_is_refused_at_start(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as first:
        second = MT5Plugin("other")
        with pytest.raises(PluginConfigError, match="'other' would share the rpyc bridge at"):
            await second.init(fake_mt5.config())
        assert (await first.execute_order(BUY)).status is ExecutionStatus.FILLED
    async with started_mt5(fake_mt5):  # once the first has stopped, the bridge is free
        pass
    assert len(fake_mt5.state()["initialize_calls"]) == 2


@pytest.mark.parametrize("fake_mt5", ["native"], indirect=True)
async def test_a_second_native_plugin_is_refused_at_start(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5):
        with pytest.raises(PluginConfigError, match="MetaTrader5 module of this process"):
            await MT5Plugin("other").init(fake_mt5.config())


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_another_tradehook_on_the_same_bridge_is_refused_and_shuts_nothing(
    fake_mt5: FakeMT5, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process (here a second session, with its own name on the bridge) is refused by
    the bridge's claim, so it never re-targets the terminal nor calls shutdown()."""
    monkeypatch.setattr(mt5_session, "_CLAIM_WAIT", 0.2)
    async with started_mt5(fake_mt5) as plugin:
        intruder = MT5Session(fake_mt5.config())
        with pytest.raises(PluginConfigError, match="in use by another tradehook"):
            intruder.connect()
        result = await plugin.execute_order(BUY)
    calls = [name for name, _ in fake_mt5.state()["calls"]]
    assert result.status is ExecutionStatus.FILLED
    assert calls.count("initialize") == 1 and calls.count("shutdown") == 1


@pytest.mark.parametrize("fake_mt5", ["rpyc"], indirect=True)
async def test_a_slow_initialize_gets_its_own_timeout_not_the_call_timeout(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set(init_latency=0.8)
    async with started_mt5(fake_mt5, request_timeout=0.3, init_timeout_ms=2000) as plugin:
        assert await plugin.health_check()
