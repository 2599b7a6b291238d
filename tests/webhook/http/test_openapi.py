"""`/openapi.json`: a valid OpenAPI 3.1 document, generated from the models the routes use."""

from __future__ import annotations

import re
from pathlib import Path

from openapi_spec_validator import validate
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.client.models import AgentSignal
from webhook.config.settings import Settings
from webhook.journal.ids import new_signal_id
from webhook.journal.records import child_id


def document(tmp_path: Path) -> dict[str, object]:
    settings = Settings.model_validate({"journal": f"sqlite:///{tmp_path / 'j.db'}"})
    with TestClient(create_app(settings)) as client:
        answer = client.get("/openapi.json")
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


def test_the_document_is_valid_openapi_3_1(tmp_path: Path) -> None:
    spec = document(tmp_path)
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # type: ignore[arg-type]


def test_it_covers_signals_preview_agents_and_the_admin_api(tmp_path: Path) -> None:
    paths = document(tmp_path)["paths"]
    assert isinstance(paths, dict)
    assert {"/webhook", "/webhook/{token}", "/api/preview", "/api/signals",
            "/api/signals/{signal_id}", "/api/plugins", "/api/kill-switch", "/api/agent/signals",
            "/api/agent/limits", "/api/agent/kill-switch"} <= set(paths)


def test_the_agent_signal_schema_is_the_models(tmp_path: Path) -> None:
    schemas = document(tmp_path)["components"]["schemas"]  # type: ignore[index]
    generated = AgentSignal.model_json_schema(ref_template="#/components/schemas/{model}")
    assert schemas["AgentSignal"]["properties"] == generated["properties"]  # type: ignore[index]


def test_every_api_route_of_the_app_is_in_the_document(tmp_path: Path) -> None:
    settings = Settings.model_validate({"journal": f"sqlite:///{tmp_path / 'j.db'}"})
    app = create_app(settings)
    # Starlette's `{symbol:path}` is OpenAPI's `{symbol}`.
    served = {re.sub(r"\{(\w+):\w+\}", r"{\1}", getattr(route, "path", "")) for route in app.routes}
    api = {path for path in served
           if path.startswith(("/api/", "/webhook")) or path in ("/health", "/ready", "/metrics")}
    paths = document(tmp_path)["paths"]
    assert isinstance(paths, dict)
    assert api - set(paths) == set(), "routes the OpenAPI document does not describe"


def test_signal_ids_in_paths_admit_fanned_out_children(tmp_path: Path) -> None:
    parameters = document(tmp_path)["paths"]["/api/signals/{signal_id}"]  # type: ignore[index]
    (signal_id,) = [p for p in parameters["get"]["parameters"] if p["name"] == "signal_id"]
    pattern = re.compile(signal_id["schema"]["pattern"])
    parent = new_signal_id()
    assert pattern.match(parent) and pattern.match(child_id(parent, 2))
    assert not pattern.match(f"{parent}/..") and not pattern.match("..")
