"""End to end: `tradehook serve` with an mt5 plugin reaching the fake terminal over rpyc."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.delivery import wait_for
from tests.e2e.mt5_terminal import PASSWORD, serve_with_terminal, terminal
from tests.e2e.server import RunningServer, start_server
from tests.fakes import mt5_structures as c
from tests.fakes.mt5_server import FakeMT5Server, serve_fake_mt5

pytestmark = pytest.mark.e2e

__all__ = ["terminal"]  # a fixture used by name below
CONFIG = """
default_plugin = "forex"

[execution]
retry_base_delay = 0.05
"""


@pytest.fixture(scope="module")
def server(
    terminal: FakeMT5Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = serve_with_terminal(tmp_path_factory.mktemp("serve-mt5"), terminal, CONFIG)
    yield running
    running.stop()


def ours(terminal: FakeMT5Server, kind: str, signal_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = terminal.state()[kind]
    return [i for i in items if signal_id in i["comment"]]


def test_one_signed_alert_becomes_one_deal_on_the_terminal(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    answer = server.post_signed("buy 0.1 FX:EURUSD")
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signal_id"]

    record = server.wait_for_signal(signal_id)

    [deal] = ours(terminal, "deals", signal_id)
    assert (deal["symbol"], deal["type"], deal["volume"]) == ("EURUSD", c.DEAL_TYPE_BUY, 0.1)
    assert (deal["magic"], deal["comment"]) == (4242, f"th:{signal_id}")
    assert record["status"] == "filled"
    assert record["result"]["order_id"] == str(deal["order"])
    assert record["result"]["client_order_id"] == signal_id
    assert record["result"]["average_price"] == pytest.approx(1.08512)


def test_a_lost_answer_is_found_on_the_terminal_not_sent_again(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    terminal.fake.fake_lose_next_reply(True)
    answer = server.post_signed("sell 0.2 GBPUSD")
    signal_id = answer.json()["signal_id"]

    record = server.wait_for_signal(signal_id)

    assert len(ours(terminal, "requests", signal_id)) == 1
    assert len(ours(terminal, "deals", signal_id)) == 1
    assert record["status"] == "filled"


def test_a_requote_is_retried_and_fills_once(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    terminal.fake.fake_refuse_next(c.TRADE_RETCODE_REQUOTE)
    answer = server.post_signed("buy 0.3 EURUSD")
    signal_id = answer.json()["signal_id"]

    record = server.wait_for_signal(signal_id)

    assert len(ours(terminal, "requests", signal_id)) == 2
    assert len(ours(terminal, "deals", signal_id)) == 1
    assert record["status"] == "filled"


def test_the_terminal_password_appears_nowhere(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    answer = server.post_signed("buy 0.1 NOSUCH")
    record = server.wait_for_signal(answer.json()["signal_id"])
    plugins = server.admin_get("/api/plugins").text

    assert record["status"] == "failed" and "NOSUCH" in json.dumps(record)
    assert PASSWORD not in server.log + json.dumps(record) + plugins


FAULTY_CONFIG = """
default_plugin = "forex"

[execution]
retry_base_delay = 0.05
retry_max_delay = 0.5
breaker_cooldown = 0.5

[plugins.forex]
type = "mt5"
transport = "rpyc"
port = {port}
magic = 4243
request_timeout = 0.5
reconcile_timeout = 0.2
"""


@pytest.fixture
def faulty_terminal() -> Iterator[FakeMT5Server]:
    with serve_fake_mt5() as server:
        yield server


def start_faulty(terminal: FakeMT5Server, workdir: Path, port: int | None = None) -> RunningServer:
    return start_server(workdir, config_toml=FAULTY_CONFIG.format(port=terminal.port), port=port)


def test_a_reply_that_hangs_on_a_server_that_rewrites_comments_makes_one_deal(
    faulty_terminal: FakeMT5Server, tmp_path: Path
) -> None:
    """Only the late reply can name the order (its comment is the server's own now): the
    executor asks again until it comes, and never sends a second time."""
    faulty_terminal.fake.fake_set(comment_rewrite="replace")
    faulty_terminal.fake.fake_hang_next(2.0)
    server = start_faulty(faulty_terminal, tmp_path)
    try:
        signal_id = server.post_signed("buy 0.1 EURUSD").json()["signal_id"]
        record = server.wait_for_signal(signal_id, timeout=20.0)
    finally:
        server.stop()
    state = faulty_terminal.state()
    [deal] = state["deals"]
    assert len([r for r in state["requests"] if signal_id in r["comment"]]) == 1
    assert record["status"] == "filled", record
    assert record["result"]["order_id"] == str(deal["order"])


def test_a_kill_while_the_reply_hangs_is_settled_after_the_restart_without_a_resend(
    faulty_terminal: FakeMT5Server, tmp_path: Path
) -> None:
    """The server keeps 16 characters of each comment; tradehook is killed while the bridge is
    still inside order_send. The restarted one finds the deal by the shortened comment."""
    faulty_terminal.fake.fake_set(comment_limit=16)
    faulty_terminal.fake.fake_hang_next(3.0)
    first = start_faulty(faulty_terminal, tmp_path)
    signal_id = first.post_signed("sell 0.2 EURUSD").json()["signal_id"]
    wait_for(lambda: len(faulty_terminal.state()["initialize_calls"]) >= 2,
               "the plugin set the hanging connection aside")  # fmt: skip
    first.kill()
    port = int(first.url.rsplit(":", 1)[1])
    second = start_faulty(faulty_terminal, tmp_path, port=port)
    try:
        record = second.wait_for_signal(signal_id, timeout=20.0)
    finally:
        second.stop()
    state = faulty_terminal.state()
    assert len(state["deals"]) == 1 and len(state["requests"]) == 1
    assert record["status"] == "filled", record
    assert record["result"]["order_id"] == str(state["deals"][0]["order"])
