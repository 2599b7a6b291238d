"""The OpenAPI document against the live server: schemathesis (its own command line) generates
requests for every operation of `/openapi.json` and checks that `tradehook serve` answers no 5xx
and that every answer (status, content type, body) is one the document declares. Bounded in
examples per operation and in seconds per run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import RunningServer, start_server

AGENT_TOKEN = "fuzz-agent-token-3c7e1a9f5b2d"
CONFIG = """
[agents.fuzz]
scopes = ["read", "preview", "submit"]
"""
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance," \
         "response_schema_conformance"
AGENT_PATHS = "^/api/(agent/|preview)"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("openapi"), config_toml=CONFIG,
                           env={"TRADEHOOK_AGENTS__FUZZ__TOKEN": AGENT_TOKEN})
    yield running
    running.stop()


def schemathesis(live: RunningServer, token: str, *selection: str) -> str:
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run",
        f"{live.url}/openapi.json", "--checks", CHECKS, "--header",
        f"Authorization: Bearer {token}", "--max-examples", "8", "--max-time", "20",
        "--phases", "examples,coverage,fuzzing", "--seed", "13", "--workers", "1",
        "--request-timeout", "10", "--exclude-path", "/api/events",
        # wrong and missing tokens are tested elsewhere; here they would only trip the throttle
        "--generation-with-security-parameters", "false", *selection,
    ]
    # schemathesis keeps a cache in its working directory: the server's folder, not the repo.
    done = subprocess.run(command, capture_output=True, timeout=240, check=False,
                          cwd=live.workdir)
    report = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode == 0, report[-6000:]
    return report


def test_admin_and_open_routes_answer_as_the_document_says(live: RunningServer) -> None:
    schemathesis(live, live.admin_token, "--exclude-path-regex", AGENT_PATHS)
    assert live.alive()


def test_agent_routes_answer_as_the_document_says(live: RunningServer) -> None:
    schemathesis(live, AGENT_TOKEN, "--include-path-regex", AGENT_PATHS)
    assert live.alive()
