"""`GET /trading`: the session's page with the strict CSP, and the charting library it ships."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from starlette.testclient import TestClient

from tests.webhook.http.test_dashboard import client, log_in
from webhook.http.dashboard import STATIC_DIRECTORY

__all__ = ["client"]
VENDOR = STATIC_DIRECTORY / "vendor"
PYPROJECT = Path(__file__).parents[3] / "pyproject.toml"


def test_without_a_session_the_page_sends_to_the_login(client: TestClient) -> None:
    answer = client.get("/trading", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert "csrf-token" not in answer.text


def test_with_a_session_the_page_has_its_scripts_and_the_strict_csp(client: TestClient) -> None:
    csrf = log_in(client)
    page = client.get("/trading")
    assert page.status_code == 200
    assert f'content="{csrf}"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts == ["/static/vendor/lightweight-charts.standalone.production.js",
                       "/static/common.js", "/static/trading.js"]
    assert "<script>" not in page.text and "style=" not in page.text
    assert 'href="/trading"' in client.get("/").text  # the main page links to it


def test_the_charting_library_is_served_from_the_package(client: TestClient) -> None:
    library = client.get("/static/vendor/lightweight-charts.standalone.production.js")
    assert library.status_code == 200
    version = (VENDOR / "lightweight-charts.VERSION").read_text(encoding="utf-8").strip()
    assert f"Lightweight Charts™ v{version}" in library.text[:300]
    assert "Apache License" in (VENDOR / "lightweight-charts.LICENSE").read_text(encoding="utf-8")


def test_the_package_data_includes_the_vendored_files() -> None:
    patterns = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["webhook"]
    root = STATIC_DIRECTORY.parents[2]  # webhook/
    shipped = {p for pattern in patterns for p in root.glob(pattern)}
    assert set(VENDOR.iterdir()) <= shipped
