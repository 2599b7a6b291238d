"""deploy/: the proxy configs and the unit pass their own tools' checks; the container files
and examples name only settings that exist. (No Docker engine runs here: the image is not built.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import skip_unless_available
from webhook.auth.signatures import WebhookSecret
from webhook.config.loader import load_settings, read_env_file
from webhook.errors import ConfigError

DEPLOY = Path(__file__).parents[2] / "deploy"
TRADEHOOK = Path(sys.executable).with_name("tradehook")


def test_caddy_validates_the_caddyfile() -> None:
    caddy = shutil.which("caddy")
    skip_unless_available(caddy is not None, "caddy is not installed (apt-get install caddy)")
    assert caddy is not None
    done = subprocess.run(
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True, text=True, encoding="utf-8", timeout=60, check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "TRADEHOOK_DOMAIN": "hooks.example.com"},
    )
    assert done.returncode == 0, done.stderr
    assert "Valid configuration" in done.stdout + done.stderr


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd is not present here")
    # verify checks that ExecStart exists: point it at this checkout's tradehook.
    unit = (DEPLOY / "tradehook.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/tradehook/bin/tradehook " in unit
    copy = tmp_path / "tradehook.service"
    copy.write_text(unit.replace("/opt/tradehook/bin/tradehook", str(TRADEHOOK)), encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                          timeout=60, check=False, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # it only warns about unknown values


def test_unit_is_hardened() -> None:
    unit = (DEPLOY / "tradehook.service").read_text(encoding="utf-8")
    for line in ("User=tradehook", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "StateDirectory=tradehook", "EnvironmentFile=/etc/tradehook/tradehook.env",
                 "CapabilityBoundingSet=\n"):
        assert line in unit


def test_image_is_non_root_with_a_healthcheck_and_a_journal_volume() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER tradehook$", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", dockerfile, re.MULTILINE)
    assert "VOLUME /var/lib/tradehook" in dockerfile
    assert "sqlite:////var/lib/tradehook/tradehook.db" in dockerfile


def test_compose_puts_caddy_in_front_and_postgres_behind_a_profile() -> None:
    try:
        import yaml
    except ImportError:
        skip_unless_available(False, "PyYAML is not installed (pip install pyyaml)")
        return
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["caddy"]["ports"] == ["80:80", "443:443"]
    assert "ports" not in services["tradehook"]
    assert services["postgres"]["profiles"] == ["postgres"]
    proxy_address = services["caddy"]["networks"]["edge"]["ipv4_address"]
    assert services["tradehook"]["environment"]["TRADEHOOK_TRUSTED_PROXIES"] == proxy_address
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]


def _variables(text: str) -> dict[str, str]:
    found = dict(re.findall(r"(TRADEHOOK_[A-Z_]+)[=:] *([^\s\\]+)", text))
    return {k: v for k, v in found.items() if not v.startswith("${")}


def test_settings_named_by_the_deploy_files_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")}
    for name in ("Dockerfile", "compose.yaml", "tradehook.service"):
        env.update(_variables((DEPLOY / name).read_text(encoding="utf-8")))
    env.pop("TRADEHOOK_DOMAIN", None)  # Caddy's, not tradehook's
    env.pop("TRADEHOOK_UPSTREAM", None)
    env["TRADEHOOK_PUBLIC_URL"] = "https://hooks.example.com"
    settings = load_settings(None, env)
    assert settings.host == "0.0.0.0"  # noqa: S104 - the container's
    assert settings.journal == "sqlite:////var/lib/tradehook/tradehook.db"
    assert settings.log_format == "json"


def test_example_configuration_loads_with_the_example_environment(tmp_path: Path) -> None:
    env = read_env_file(DEPLOY / "tradehook.env.example")
    env["TRADEHOOK_SECRET"] = str(WebhookSecret.generate())
    env["TRADEHOOK_ADMIN_TOKEN"] = "deploy-check-admin-token-5c1e8a"
    settings = load_settings(DEPLOY / "tradehook.toml.example",
                             {**env, "TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")})
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32"]
    assert len(settings.sources["tradingview"].ip_allowlist) == 4
    assert settings.plugins[settings.default_plugin].type == "mock"


def test_the_example_environment_as_shipped_is_refused_naming_the_placeholder(
    tmp_path: Path,
) -> None:
    env = read_env_file(DEPLOY / "tradehook.env.example")
    with pytest.raises(ConfigError, match="admin_token|TRADEHOOK_ADMIN_TOKEN|secret"):
        load_settings(DEPLOY / "tradehook.toml.example",
                      {**env, "TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")})
