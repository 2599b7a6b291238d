"""The outage semantics of `test_outages`, for the other back ends: the MetaTrader 5 bridge
(a real rpyc server, behind a cuttable TCP proxy) going away and coming back, and NinjaTrader
pausing (its incoming folder left unread). Every signal sent into the outage ends with exactly
one order, in arrival order per symbol, and none is given up meanwhile. Both run side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.delivery import PENDING, journal_signals, wait_until_settled
from tests.e2e.mt5_terminal import FOREX, PASSWORD
from tests.e2e.server import RunningServer, start_server
from tests.e2e.tcp_proxy import TcpProxy
from tests.fakes.mt5_server import serve_fake_mt5
from tests.fakes.ninjatrader_oif import OifPlatform

pytestmark = pytest.mark.e2e
OUTAGE = 8.0
EXECUTION = """
[execution]
retry_base_delay = 0.2
retry_max_delay = 1.0
breaker_failures = 3
breaker_cooldown = 1.5
"""
MT5 = EXECUTION + FOREX
NINJATRADER = EXECUTION + """
[plugins.futures]
type = "ninjatrader"
transport = "oif"
documents_dir = "{documents}"
account = "Sim101"
fill_timeout = 1.0
instruments = {{ "ES1!" = "ES 12-25", "NQ1!" = "NQ 12-25" }}
"""
MT5_SIGNALS = ["buy 0.1 EURUSD", "sell 0.2 GBPUSD", "buy 0.3 EURUSD", "sell 0.4 GBPUSD"]
NT_SIGNALS = ["buy 1 ES1!", "sell 1 NQ1!", "buy 2 ES1!", "sell 2 NQ1!"]


def through_outage(
    server: RunningServer, bodies: list[str], begin: Callable[[], None],
    end: Callable[[], None],
) -> tuple[list[str], dict[str, str]]:
    """Begin the outage, send the bodies into it, end it after OUTAGE seconds, and wait until
    every signal is final: (the signal ids, any that were final before the outage ended)."""
    begin()
    cut_at = time.monotonic()
    ids = []
    for body in bodies:
        answer = server.post_signed(body)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["signal_id"])
    early: dict[str, str] = {}
    while time.monotonic() - cut_at < OUTAGE:
        early |= {s["id"]: s["status"] for s in journal_signals(server)
                  if s["status"] not in PENDING}
        time.sleep(0.5)
    end()
    wait_until_settled(server, timeout=60)
    return ids, early


def in_order(placed: list[str], ids: list[str], lanes: list[str]) -> bool:
    """Whether the signals of each lane reached the broker in the order they were sent."""
    for lane in set(lanes):
        sent = [i for i, name in zip(ids, lanes, strict=True) if name == lane]
        if [p for p in placed if p in sent] != sent:
            return False
    return True


def mt5_bridge_away(workdir: Path) -> tuple[list[str], dict[str, str], dict[str, int], bool]:
    with serve_fake_mt5() as terminal:
        terminal.fake.fake_reset(login=5001, password=PASSWORD, server="FakeBroker-Demo")
        with TcpProxy(terminal.port) as proxy:
            server = start_server(workdir, config_toml='default_plugin = "forex"\n' + MT5.format(
                port=proxy.port), env={"E2E_MT5_PASSWORD": PASSWORD}, timeout=60)
            try:
                ids, early = through_outage(server, MT5_SIGNALS, proxy.cut, proxy.restore)
                statuses = {s["id"]: s["status"] for s in journal_signals(server)}
            finally:
                server.stop()
        deals = terminal.state()["deals"]
    comments = [deal["comment"].removeprefix("th:") for deal in deals]
    counts = {i: comments.count(i) for i in ids}
    assert {statuses[i] for i in ids} == {"filled"}, statuses
    return ids, early, counts, in_order(comments, ids, [b.split()[-1] for b in MT5_SIGNALS])


def ninjatrader_paused(
    workdir: Path,
) -> tuple[list[str], dict[str, str], dict[str, int], bool]:
    with OifPlatform(workdir / "NinjaTrader 8") as platform:
        config = 'default_plugin = "futures"\n' + NINJATRADER.format(
            documents=platform.incoming.parent.as_posix())
        server = start_server(workdir / "serve", config_toml=config, timeout=60)
        try:
            ids, early = through_outage(server, NT_SIGNALS, platform.paused.set,
                                        platform.paused.clear)
            statuses = {s["id"]: s["status"] for s in journal_signals(server)}
        finally:
            server.stop()
        placed = [f[10].removeprefix("TH") for f in platform.sim.received if f[0] == "PLACE"]
    counts = {i: placed.count(i) for i in ids}
    assert {statuses[i] for i in ids} == {"filled"}, statuses
    return ids, early, counts, in_order(placed, ids, [b.split()[-1] for b in NT_SIGNALS])


def test_mt5_bridge_and_ninjatrader_outages_end_with_one_order_per_signal(
    tmp_path: Path,
) -> None:
    with ThreadPoolExecutor(2) as pool:
        mt5 = pool.submit(mt5_bridge_away, tmp_path / "mt5")
        ninjatrader = pool.submit(ninjatrader_paused, tmp_path / "ninjatrader")
        results = {"mt5": mt5.result(), "ninjatrader": ninjatrader.result()}
    for name, (ids, early, counts, ordered) in results.items():
        assert early == {}, f"{name}: given up during the outage: {early}"
        assert counts == dict.fromkeys(ids, 1), f"{name}: orders per signal {counts}"
        assert ordered, f"{name}: a lane's orders reached the broker out of order"
