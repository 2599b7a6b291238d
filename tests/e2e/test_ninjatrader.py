"""End to end: `tradehook serve` with a ninjatrader plugin, over order instruction files to the
simulated NinjaTrader that watches its incoming folder, and over the C# stand-in for
NinjaTrader.Client.dll (pythonnet on Mono) to its simulated ATI socket. The faults: `kill -9`
while orders are in flight, NinjaTrader restarting in the middle of a position, the DLL
losing its connection during a send. Orders are counted as NinjaTrader was handed them."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.delivery import wait_for
from tests.e2e.server import RunningServer, start_server
from tests.fakes.ninjatrader_ati import AtiServer
from tests.fakes.ninjatrader_oif import OifPlatform
from tests.fakes.ninjatrader_platform import SimulatedNinjaTrader
from tests.plugins.ninjatrader_fixtures import client_dll

__all__ = ["client_dll"]  # a fixture used by name below

pytestmark = pytest.mark.e2e

ES = "ES 12-25"
CONFIG = """
default_plugin = "futures"

[execution]
retry_base_delay = 0.05

[plugins.futures]
type = "ninjatrader"
transport = "oif"
documents_dir = "{documents}"
account = "Sim101"
fill_timeout = 2.0
instruments = {{ "ES1!" = "{es}", "NQ1!" = "NQ 12-25" }}
"""
FAULTS = """
default_plugin = "futures"

[execution]
retry_base_delay = 0.05
retry_max_delay = 0.3
breaker_failures = 1000

[plugins.futures]
type = "ninjatrader"
account = "Sim101"
fill_timeout = 2.0
instruments = { "ES1!" = "ES 12-25", "NQ1!" = "NQ 12-25" }
"""
OIF = 'transport = "oif"\ndocuments_dir = "{}"\n'
DLL = 'transport = "dll"\ndll_path = "{}"\nport = {}\n'
DLL_ENV = {"NINJATRADER_FAKE_RECONNECT_SECONDS": "0.5"}
KILLED = ["buy 1 ES1!", "sell 1 NQ1!", "buy 2 ES1!", "sell 2 NQ1!", "buy 1 ES1!", "sell 1 NQ1!"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OifPlatform]:
    with OifPlatform(tmp_path_factory.mktemp("documents") / "NinjaTrader 8") as running:
        yield running


@pytest.fixture(scope="module")
def server(
    platform: OifPlatform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    documents = platform.incoming.parent
    running = start_server(
        tmp_path_factory.mktemp("serve-ninjatrader"),
        config_toml=CONFIG.format(documents=documents.as_posix(), es=ES),
    )
    yield running
    running.stop()


def placed(platform: OifPlatform, signal_id: str) -> list[list[str]]:
    return [f for f in platform.sim.received if f[0] == "PLACE" and f[10] == f"TH{signal_id}"]


def test_one_signed_alert_becomes_one_order_in_ninjatrader(
    server: RunningServer, platform: OifPlatform
) -> None:
    body = {"symbol": "ES1!", "side": "buy", "quantity": 2, "stop_loss": 4990,
            "take_profit": 5020}  # fmt: skip
    answer = server.post_signed(json.dumps(body), content_type="application/json")
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signal_id"]

    record = server.wait_for_signal(signal_id)

    [entry] = placed(platform, signal_id)
    assert entry == ["PLACE", "Sim101", ES, "BUY", "2", "MARKET", "", "", "GTC", "",
                     f"TH{signal_id}", "", ""]  # fmt: skip
    legs = {o.order_id: o.state for o in platform.sim.orders.values()}
    assert (legs[f"TH{signal_id}-SL"], legs[f"TH{signal_id}-TP"]) == ("ACCEPTED", "WORKING")
    assert record["status"] == "filled"
    assert record["result"]["order_id"] == f"TH{signal_id}"
    assert record["result"]["filled_quantity"] == 2
    assert platform.torn == []


def test_ninjatrader_not_running_is_retried_and_fills_once_it_is(
    server: RunningServer, platform: OifPlatform
) -> None:
    platform.paused.set()
    answer = server.post_signed("sell 1 ES1!")
    signal_id = answer.json()["signal_id"]
    deadline = time.monotonic() + 10
    while not any(a["outcome"] == "temporary" for a in server.signal(signal_id)["attempts"]):
        assert time.monotonic() < deadline, "the first attempt never timed out"
        time.sleep(0.05)  # the instruction waited fill_timeout, then was withdrawn
    platform.paused.clear()

    record = server.wait_for_signal(signal_id)

    assert len(placed(platform, signal_id)) == 1
    assert record["status"] == "filled"
    assert any(a["outcome"] == "temporary" for a in record["attempts"])


def test_a_report_that_comes_late_is_reconciled_not_sent_again(
    server: RunningServer, platform: OifPlatform
) -> None:
    platform.report_delay = 2.5  # longer than fill_timeout: the plugin stops waiting first
    platform.report_spacing = 0.2  # and the lookup sees the order Accepted before Filled
    try:
        answer = server.post_signed("buy 3 ES1!")
        signal_id = answer.json()["signal_id"]
        record = server.wait_for_signal(signal_id)
    finally:
        platform.report_delay = platform.report_spacing = 0.0

    assert len(placed(platform, signal_id)) == 1
    assert record["status"] == "filled"
    assert [a["outcome"] for a in record["attempts"]][-1] == "reconciled"


def handed(sim: SimulatedNinjaTrader, command: str = "PLACE") -> Counter[str]:
    """Instructions NinjaTrader was handed, refused ones too, by order id."""
    return Counter(f[10] for f in sim.handed if f[0] == command)


def held(sim: SimulatedNinjaTrader, instrument: str) -> int:
    return sim.position("Sim101", instrument).quantity


def kill_and_start_again(server: RunningServer, config: str, **env: str) -> RunningServer:
    """kill -9, then the same command on the same port and folder (the same journal, and the
    same executor name, which takes its signals back at once)."""
    server.kill()
    server.log_path.rename(server.log_path.with_suffix(".killed.log"))
    port = int(server.url.rsplit(":", 1)[1])
    return start_server(server.workdir, config_toml=config, port=port, env=env or None)


def check_each_placed_once(
    server: RunningServer, sim: SimulatedNinjaTrader, signal_ids: list[str]
) -> None:
    """Every signal filled, each by exactly one order that NinjaTrader was handed once, the
    positions what the signals add up to, and at least one signal cut by the kill was looked
    up before anything else was sent for it."""
    records = [server.wait_for_signal(i, timeout=60) for i in signal_ids]
    outcomes = {r["id"]: [a["outcome"] for a in r["attempts"]] for r in records}
    unfilled = {r["id"]: r["attempts"] for r in records if r["status"] != "filled"}
    assert not unfilled, unfilled
    assert handed(sim) == Counter(f"TH{i}" for i in signal_ids)
    assert (held(sim, ES), held(sim, "NQ 12-25")) == (4, -4)
    cut = [o for o in outcomes.values() if None in o]
    assert cut, f"the kill cut no attempt short: {outcomes}"
    assert all(o[o.index(None) + 1] in ("reconciled", "not_found") for o in cut), outcomes


@pytest.mark.parametrize("fault", ["reports-late", "not-reading"])
def test_a_kill_during_file_orders_places_each_signal_once(tmp_path: Path, fault: str) -> None:
    with OifPlatform(tmp_path / "NinjaTrader 8") as platform:
        config = FAULTS + OIF.format(platform.incoming.parent.as_posix())
        server = start_server(tmp_path / "serve", config_toml=config)
        try:
            if fault == "reports-late":
                platform.report_delay = 1.0  # taken, reported after the kill
            else:
                platform.paused.set()  # files wait in incoming at the kill
            ids = [server.post_signed(body).json()["signal_id"] for body in KILLED]
            wait_for(lambda: len(handed(platform.sim)) >= 2 or len(list(
                platform.incoming.glob("oif*.txt"))) >= 2, "two orders in flight")  # fmt: skip
            server = kill_and_start_again(server, config)
            time.sleep(0.5)
            platform.paused.clear()
            check_each_placed_once(server, platform.sim, ids)
        finally:
            server.stop()
    assert platform.torn == []


@pytest.fixture
def ati() -> Iterator[AtiServer]:
    with AtiServer() as server:
        yield server


def dll_server(tmp_path: Path, ati: AtiServer, dll: Path) -> tuple[RunningServer, str]:
    config = FAULTS + DLL.format(dll.as_posix(), ati.port)
    return start_server(tmp_path / "serve", config_toml=config, env=DLL_ENV), config


def test_a_kill_during_dll_orders_places_each_signal_once(
    tmp_path: Path, ati: AtiServer, client_dll: Path
) -> None:
    server, config = dll_server(tmp_path, ati, client_dll)
    try:
        ati.push_delay = 0.6  # executed, the values pushed to the client after the kill
        ids = [server.post_signed(body).json()["signal_id"] for body in KILLED]
        wait_for(lambda: len(handed(ati.sim)) >= 2, "two orders in flight")
        server = kill_and_start_again(server, config, **DLL_ENV)
        check_each_placed_once(server, ati.sim, ids)
    finally:
        server.stop()


def test_a_dll_disconnect_during_a_send_is_found_once_it_reconnects_not_resent(
    tmp_path: Path, ati: AtiServer, client_dll: Path
) -> None:
    server, _ = dll_server(tmp_path, ati, client_dll)
    try:
        ati.down_after_command = True
        signal_id = server.post_signed("buy 2 ES1!").json()["signal_id"]
        wait_for(lambda: any(a["outcome"] == "lookup_failed"
                             for a in server.signal(signal_id)["attempts"]),
                 "the lookup to find NinjaTrader unreachable")  # fmt: skip
        ati.come_back()
        record = server.wait_for_signal(signal_id, timeout=30)
    finally:
        server.stop()
    assert handed(ati.sim) == {f"TH{signal_id}": 1} and held(ati.sim, ES) == 2
    assert (record["status"], record["attempts"][-1]["outcome"]) == ("filled", "reconciled")


def test_a_dll_disconnect_in_the_middle_of_a_position_delays_the_close(
    tmp_path: Path, ati: AtiServer, client_dll: Path
) -> None:
    server, _ = dll_server(tmp_path, ati, client_dll)
    try:
        server.wait_for_signal(server.post_signed("buy 2 ES1!").json()["signal_id"])
        ati.go_down()
        closing = server.post_signed("close ES1!").json()["signal_id"]
        wait_for(lambda: any(a["outcome"] == "temporary"
                             for a in server.signal(closing)["attempts"]),
                 "the close to find the position unknown")  # fmt: skip
        ati.come_back()
        record = server.wait_for_signal(closing, timeout=30)
    finally:
        server.stop()
    assert record["status"] == "filled" and held(ati.sim, ES) == 0
    assert handed(ati.sim, "CLOSEPOSITION") == {"": 1} and len(handed(ati.sim)) == 1


def test_ninjatrader_restarting_in_the_middle_of_a_position(
    server: RunningServer, platform: OifPlatform
) -> None:
    """Last in this module: the restart empties the shared platform's outgoing folder."""
    nq = "NQ 12-25"
    opened = server.wait_for_signal(server.post_signed("buy 2 NQ1!").json()["signal_id"])
    platform.restart()
    reverse = {"symbol": "NQ1!", "side": "sell", "action": "reverse", "quantity": 2}
    answer = server.post_signed(json.dumps(reverse), content_type="application/json")
    refused = server.wait_for_signal(answer.json()["signal_id"])
    closed = server.wait_for_signal(server.post_signed("close NQ1!").json()["signal_id"])

    assert opened["status"] == "filled"
    assert refused["status"] == "failed"
    assert "has not reported the position" in refused["result"]["error"]
    assert closed["status"] == "filled" and held(platform.sim, nq) == 0
    assert [f[0] for f in platform.sim.handed if f[2] == nq] == ["PLACE", "CLOSEPOSITION"]


def test_a_position_rule_with_the_position_unreported_rejects_and_says_why(
    tmp_path: Path,
) -> None:
    with OifPlatform(tmp_path / "NinjaTrader 8") as platform:
        config = (FAULTS + OIF.format(platform.incoming.parent.as_posix())
                  + "\n[sources.signed.risk]\nmax_position = 4\n")  # fmt: skip
        server = start_server(tmp_path / "serve", config_toml=config)
        try:
            answer = server.post_signed("buy 1 ES1!")
        finally:
            server.stop()
    assert (answer.status_code, answer.json()["status"]) == (200, "rejected")
    assert "could not report its position" in answer.json()["reason"]
    assert "has reported no position in ES 12-25" in answer.json()["reason"]
    assert platform.sim.handed == []
