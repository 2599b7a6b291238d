"""deploy/windows/ and the Windows CI workflow: each file parses as its tool reads it and names
only paths and settings that exist. None of these has run on Windows here (docs/windows.md)."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import skip_unless_available
from webhook.app import SHUTDOWN_GRACE
from webhook.config.data_dir import HOME_VARIABLE
from webhook.serve import GRACEFUL_SHUTDOWN_SECONDS

ROOT = Path(__file__).parents[2]
WINDOWS = ROOT / "deploy" / "windows"
WORKFLOW = ROOT / ".github" / "workflows" / "windows.yml"
LINUX_CA = "trusted_ca_cert_file /etc/ssl/certs/ca-certificates.crt"


def service() -> ElementTree.Element:
    return ElementTree.parse(WINDOWS / "tradehook-service.xml").getroot()  # noqa: S314 - ours


def test_the_service_runs_serve_as_the_traders_account_in_the_data_directory() -> None:
    root = service()
    assert root.tag == "service"
    assert root.findtext("executable") == "C:\\tradehook\\venv\\Scripts\\tradehook.exe"
    assert root.findtext("arguments") == "serve"
    account = root.find("serviceaccount")
    assert account is not None and account.findtext("prompt") == "console"
    assert account.find("password") is None  # no password is kept in the file
    environment = {env.get("name"): env.get("value") for env in root.findall("env")}
    assert environment[HOME_VARIABLE] == root.findtext("workingdirectory") == "C:\\tradehook\\data"


def test_the_service_waits_for_a_clean_stop_longer_than_serve_takes() -> None:
    timeout = service().findtext("stoptimeout") or ""
    seconds = re.fullmatch(r"(\d+) sec", timeout)
    assert seconds is not None, timeout
    # uvicorn waits for open requests, then the executor for orders in flight, then closes.
    assert int(seconds.group(1)) >= GRACEFUL_SHUTDOWN_SECONDS + SHUTDOWN_GRACE + 10


def test_the_windows_caddyfile_is_the_linux_one_with_a_ca_bundle_that_exists_on_windows() -> None:
    linux = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    windows = (WINDOWS / "Caddyfile").read_text(encoding="utf-8")
    site = windows[windows.index("{$TRADEHOOK_DOMAIN"):]
    ca_line = next(line.strip() for line in site.splitlines() if "trusted_ca_cert_file" in line)
    assert ca_line == ("trusted_ca_cert_file "
                       "{$TRADEHOOK_CA_BUNDLE:C:/tradehook/venv/Lib/site-packages/certifi/cacert.pem}")
    assert site.replace(ca_line, LINUX_CA) == linux[linux.index("{$TRADEHOOK_DOMAIN"):]


def test_the_default_ca_bundle_is_where_certifi_keeps_it_in_a_virtual_environment() -> None:
    import certifi

    assert Path(certifi.where()).parts[-3:] == ("site-packages", "certifi", "cacert.pem")


def test_caddy_validates_the_windows_caddyfile(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    skip_unless_available(caddy is not None, "caddy is not installed (apt-get install caddy)")
    assert caddy is not None
    done = subprocess.run(
        [caddy, "validate", "--config", str(WINDOWS / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True, text=True, encoding="utf-8", timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
             "TRADEHOOK_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"},
    )
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


@pytest.mark.parametrize("script", ["firewall.ps1", "private-data-folder.ps1", "logon-task.ps1"])
def test_the_powershell_scripts_stop_on_errors(script: str) -> None:
    text = (WINDOWS / script).read_text(encoding="utf-8")
    assert "$ErrorActionPreference = 'Stop'" in text
    assert text.isascii()  # Windows PowerShell 5.1 reads a file without a BOM as ANSI
    elevated = script != "logon-task.ps1"  # the task is the trader's own, made by the trader
    assert ("#Requires -RunAsAdministrator" in text) == elevated


def test_the_data_folder_acl_removes_inheritance_and_keeps_three_entries() -> None:
    text = (WINDOWS / "private-data-folder.ps1").read_text(encoding="utf-8")
    assert "/inheritance:r /grant:r" in text
    for entry in ('"${Account}:(OI)(CI)F"', "'*S-1-5-18:(OI)(CI)F'", "'*S-1-5-32-544:(OI)(CI)F'"):
        assert entry in text
    assert text.count("$LASTEXITCODE -ne 0") == 2


def workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_workflow_is_valid_yaml_for_a_windows_runner() -> None:
    flow = workflow()
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) >= {"push", "pull_request"}
    (job,) = flow["jobs"].values()
    assert job["runs-on"] == "windows-latest"
    assert job["defaults"]["run"]["shell"] == "pwsh"
    assert job["env"]["PYTHONWARNDEFAULTENCODING"] == "1"
    for step in job["steps"]:
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.fullmatch(r"actions/(checkout|setup-python)@v\d+", step["uses"])


def test_the_workflow_runs_the_suites_that_exist_with_the_encoding_rule() -> None:
    (job,) = workflow()["jobs"].values()
    commands = "\n".join(step.get("run", "") for step in job["steps"])
    suites = re.findall(r"pytest\.exe -p no:cacheprovider ([^\n]+)", commands)
    assert suites == ["tests/webhook", "tests/plugins tests/deploy"]
    for suite in " ".join(suites).split():
        assert (ROOT / suite).is_dir(), suite
    conftest = (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
    assert 'simplefilter("error", EncodingWarning)' in conftest
    assert "PYTHONWARNDEFAULTENCODING=1 $(BIN)/pytest" in (ROOT / "Makefile").read_text(
        encoding="utf-8")
    assert "--body-file alert.json" in commands
