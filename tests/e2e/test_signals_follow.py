"""`tradehook signals --follow` against a running `tradehook serve`: the live stream."""

from __future__ import annotations

import select
import signal
import subprocess
import time

from tests.e2e.server import RunningServer, tradehook_command


def _follower(server: RunningServer, *args: str,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [tradehook_command(), "signals", "--follow", "--server", server.url, *args],
        cwd=server.workdir, env=env or server.env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_follow_prints_signals_as_they_arrive_and_stops_at_its_count(
    server: RunningServer,
) -> None:
    follower = _follower(server, "--count", "2", "--for", "60")
    sent: list[str] = []
    try:
        for _ in range(100):  # until the follower, once connected, has seen two
            if follower.poll() is not None:
                break
            answer = server.post_signed(f"buy 0.{len(sent) + 1} ETH/USDT")
            assert answer.status_code == 202, answer.text
            sent.append(answer.json()["signal_id"])
            time.sleep(0.2)
        out, err = follower.communicate(timeout=30)
    finally:
        follower.kill()
    assert follower.returncode == 0, err
    lines = out.decode().splitlines()
    assert len(lines) == 2, lines
    for line in lines:
        cells = line.split()
        assert cells[1] in sent
        assert cells[2] == "signed"
        assert cells[3] in {"queued", "executing", "filled"}


def test_ctrl_c_stops_the_follower_cleanly(server: RunningServer) -> None:
    follower = _follower(server, "--for", "60")
    try:
        assert follower.stdout is not None
        for _ in range(100):  # until it has printed a signal: it is reading the stream
            server.post_signed("sell 0.1 ETH/USDT")
            if select.select([follower.stdout], [], [], 0.2)[0]:
                break
        follower.send_signal(signal.SIGINT)
        _, err = follower.communicate(timeout=15)
    finally:
        follower.kill()
    assert follower.returncode == 130
    assert b"Traceback" not in err


def test_a_wrong_admin_token_is_refused_with_the_status(server: RunningServer) -> None:
    env = {**server.env, "TRADEHOOK_ADMIN_TOKEN": "not-the-admin-token-" + "9" * 24}
    follower = _follower(server, "--for", "10", env=env)
    _, err = follower.communicate(timeout=30)
    assert follower.returncode == 2
    assert b"answered 401" in err
    assert b"not-the-admin-token" not in err


def test_an_unreachable_server_is_named(server: RunningServer) -> None:
    done = server.run_cli("signals", "--follow", "--server", "http://127.0.0.1:9", "--for", "5")
    assert done.returncode == 2
    assert b"cannot reach http://127.0.0.1:9/api/events" in done.stderr
