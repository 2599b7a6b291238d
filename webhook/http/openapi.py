"""`GET /openapi.json`: the OpenAPI 3.1 document of the HTTP surface, generated from the pydantic
models that the routes read and answer with (built once per app, on first request)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webhook.client.models import AgentSignal, KillSwitchEngagement
from webhook.decide.preview import SignalPreview
from webhook.execute.kill_switch import KillSwitchRequest
from webhook.http.admin_api import SignalView
from webhook.http.builder_api import BuilderChoices, BuilderTemplate, BuilderTest, BuilderTestAnswer
from webhook.http.openapi_models import (
    AccountView,
    AgentLimits,
    ApprovalAnswer,
    ApprovalList,
    ErrorAnswer,
    HealthAnswer,
    KillSwitchView,
    PluginList,
    PositionView,
    ReadyAnswer,
    SignalAnswer,
    SignalList,
)
from webhook.journal import SignalStatus
from webhook.observe.signal_stats import SignalStats

REQUESTS: tuple[type[BaseModel], ...] = (
    AgentSignal, KillSwitchEngagement, KillSwitchRequest, BuilderTest,
)
ANSWERS: tuple[type[BaseModel], ...] = (
    SignalPreview, SignalView, AgentLimits, ErrorAnswer, HealthAnswer, KillSwitchView,
    PluginList, ReadyAnswer, SignalAnswer, SignalList, AccountView, PositionView, SignalStats,
    ApprovalAnswer, ApprovalList,
    BuilderChoices, BuilderTemplate, BuilderTestAnswer,
)
_REFUSALS = {"400": "unusable input", "401": "not authenticated", "403": "not allowed",
             "408": "the body came too slowly", "413": "body too large",
             "415": "unsupported content type", "429": "too many wrong credentials",
             "503": "not stored; send it again"}
SIGNAL_ID = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}(\.[0-9]{1,6})?$"}
"""A signal id, or a fanned-out child's: the parent's id and `.N`."""


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _answers(ok: dict[str, dict[str, Any]], *refusals: str) -> dict[str, Any]:
    answers = dict(ok)
    for code in refusals:
        answers[code] = _json(_ref(ErrorAnswer), _REFUSALS[code])
    return answers


def _not_found() -> dict[str, Any]:
    error = {"schema": _ref(ErrorAnswer)}
    return {"404": {"description": "no such signal", "content": {
        "application/json": error, "text/plain": {"schema": {"type": "string"}}}}}


def _alert_body() -> dict[str, Any]:
    return {"required": True, "content": {
        "application/json": {"schema": _ref(AgentSignal)},
        "text/plain": {"schema": {"type": "string", "maxLength": 65536}}}}


def _signal_answers(*refusals: str) -> dict[str, Any]:
    stored = _json(_ref(SignalAnswer), "stored: filtered, rejected or a duplicate")
    return _answers({"202": _json(_ref(SignalAnswer), "stored and queued, or awaiting approval"),
                     "200": stored,
                     "400": _json({"anyOf": [_ref(SignalAnswer), _ref(ErrorAnswer)]},
                                  "stored as invalid, or refused")},
                    *refusals)


def _account_answers(found: dict[str, Any]) -> dict[str, Any]:
    return {**_answers({"200": _json(found, "what the broker reports")}, "401", "403", "429"),
            **_not_found(),
            "503": _json(_ref(ErrorAnswer), "the plugin could not answer in time")}


def _approval(verb: str, signal_id: list[dict[str, Any]], scheme: str) -> dict[str, Any]:
    """`approve` or `decline` a signal awaiting approval (admin token or dashboard session)."""
    answer = _ref(ApprovalAnswer)
    return _bearer({
        "summary": f"{verb} a signal awaiting approval",
        "parameters": signal_id,
        "responses": {**_answers({
            "200": _json(answer, f"{verb}d"),
            "409": _json(answer, "no longer awaiting approval, or refused at approval"),
            "503": _json(_ref(ErrorAnswer), "the journal could not record it; nothing changed"),
        }, "401", "403", "429"), **_not_found()},
    }, scheme)


def _bearer(operation: dict[str, Any], scheme: str) -> dict[str, Any]:
    return {**operation, "security": [{scheme: []}]}


def _paths() -> dict[str, Any]:
    preview = _json(_ref(SignalPreview), "the decision it would get; nothing stored")
    query = [{"name": name, "in": "query", "required": False, "schema": schema}
             for name, schema in (
                 ("status", {"type": "string", "enum": [s.value for s in SignalStatus]}),
                 ("source", {"type": "string"}), ("symbol", {"type": "string"}),
                 ("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
                 ("before", {"type": "string"}))]
    signal_id = [{"name": "signal_id", "in": "path", "required": True, "schema": SIGNAL_ID}]
    kill_switch = _json(_ref(KillSwitchView), "the kill switch")
    plugin = {"name": "plugin", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}
    admin, agent = "admin", "agent"
    return {
        "/webhook": {"post": {
            "summary": "a signed signal (Standard Webhooks); ?dry_run=true previews it",
            "parameters": [{"name": "dry_run", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": ["true", "false"]}}],
            "requestBody": _alert_body(),
            "responses": {**_signal_answers("401", "403", "408", "413", "415", "503"),
                          "200": _json({"anyOf": [_ref(SignalAnswer), _ref(SignalPreview)]},
                                       "stored (filtered, rejected, duplicate), or a preview")},
        }},
        "/webhook/{token}": {"post": {
            "summary": "a signal to a source's signed URL (TradingView)",
            "parameters": [{"name": "token", "in": "path", "required": True,
                            "schema": {"type": "string", "maxLength": 512}}],
            "requestBody": _alert_body(),
            "responses": _signal_answers("401", "403", "408", "413", "415", "503"),
        }},
        "/discord/{target}": {"post": {
            "summary": "a Discord application's Interactions Endpoint: slash commands, signed "
                       "with Ed25519 (X-Signature-Ed25519, X-Signature-Timestamp)",
            "parameters": [{"name": "target", "in": "path", "required": True,
                            "schema": {"type": "string", "maxLength": 64}}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object"}}}},
            "responses": {**_answers({"200": _json({"type": "object"}, "the interaction's reply")},
                                     "400", "401", "408", "413", "415"),
                          "404": _json(_ref(ErrorAnswer), "no Discord commands for this target")},
        }},
        "/health": {"get": {"responses": {"200": _json(_ref(HealthAnswer), "alive")}}},
        "/ready": {"get": {"responses": _answers({
            "200": _json(_ref(ReadyAnswer), "ready"),
            "503": _json(_ref(ReadyAnswer), "not ready")}, "401", "429")}},
        "/metrics": {"get": {"responses": {"200": {
            "description": "Prometheus text",
            "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/api/signals": {"get": _bearer({
            "parameters": query,
            "responses": _answers({"200": _json(_ref(SignalList), "newest first")},
                                  "400", "401", "429")}, admin)},
        "/api/signals/{signal_id}": {"get": _bearer({
            "parameters": signal_id,
            "responses": {**_answers({"200": _json(_ref(SignalView), "one signal")},
                                     "401", "429"), **_not_found()}}, admin)},
        "/api/approvals": {"get": _bearer({"responses": _answers(
            {"200": _json(_ref(ApprovalList), "awaiting approval, first to expire first")},
            "401", "429")}, admin)},
        "/api/signals/{signal_id}/approve": {"post": _approval("approve", signal_id, admin)},
        "/api/signals/{signal_id}/decline": {"post": _approval("decline", signal_id, admin)},
        "/api/plugins": {"get": _bearer({"responses": _answers(
            {"200": _json(_ref(PluginList), "plugins")}, "401", "429")}, admin)},
        "/api/kill-switch": {
            "get": _bearer({"responses": _answers({"200": kill_switch}, "401", "429")}, admin),
            "post": _bearer({
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref(KillSwitchRequest)}}},
                "responses": _answers({"200": kill_switch, "409": kill_switch},
                                      "400", "401", "403", "429", "503")}, admin),
        },
        "/api/events": {"get": _bearer({"responses": {**_answers({}, "401", "429"), "200": {
            "description": "server-sent events",
            "content": {"text/event-stream": {"schema": {"type": "string"}}}}}}, admin)},
        "/api/positions": {"get": _bearer({
            "summary": "balances and positions per plugin, from the plugins (cached for a few s)",
            "responses": _answers({"200": _json({"type": "object"}, "per plugin")},
                                  "401", "429")}, admin)},
        "/api/stats": {"get": _bearer({
            "summary": "signals by status, fills, rejections, realised P&L, slippage and "
                       "alert-to-fill times, per source and plugin, for a period",
            "parameters": [{"name": name, "in": "query", "required": False,
                            "schema": {"type": "string", "maxLength": 64}}
                           for name in ("since", "until")],
            "responses": _answers({"200": _json(_ref(SignalStats), "per source and plugin")},
                                  "400", "401", "429")}, admin)},
        **_builder_paths(admin),
        "/api/preview": {"post": {
            "summary": "the decision a signal would get now; nothing stored",
            "security": [{admin: []}, {agent: []}],
            "parameters": [{"name": "source", "in": "query", "required": False,
                            "schema": {"type": "string", "maxLength": 64}}],
            "requestBody": _alert_body(),
            "responses": _answers({"200": preview}, "400", "401", "403", "408", "413", "415",
                                  "429"),
        }},
        "/api/agent/signals": {
            "post": _bearer({
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                "schema": SIGNAL_ID}],
                "requestBody": _alert_body(),
                "responses": _signal_answers("401", "403", "408", "413", "415", "429", "503"),
            }, agent),
            "get": _bearer({"parameters": query, "responses": _answers(
                {"200": _json(_ref(SignalList), "this agent's signals")},
                "400", "401", "403", "429")}, agent),
        },
        "/api/agent/signals/{signal_id}": {"get": _bearer({
            "parameters": signal_id,
            "responses": {**_answers({"200": _json(_ref(SignalView), "one of its signals")},
                                     "401", "403", "429"), **_not_found()}}, agent)},
        "/api/agent/limits": {"get": _bearer({"responses": _answers(
            {"200": _json(_ref(AgentLimits), "its limits")}, "401", "403", "429")}, agent)},
        "/api/agent/plugins/{plugin}/balance": {"get": _bearer({
            "parameters": [plugin],
            "responses": _account_answers(_ref(AccountView))}, agent)},
        "/api/agent/plugins/{plugin}/positions/{symbol}": {"get": _bearer({
            "parameters": [plugin, {"name": "symbol", "in": "path", "required": True,
                                    "schema": {"type": "string", "pattern": "^[^/]{1,64}$"}}],
            "responses": _account_answers(_ref(PositionView))}, agent)},
        "/api/agent/kill-switch": {"post": _bearer({
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref(KillSwitchEngagement)}}},
            "responses": _answers({"200": kill_switch}, "400", "401", "403", "429", "503"),
        }, agent)},
    }


def _builder_paths(admin: str) -> dict[str, Any]:
    name = {"type": "string", "minLength": 1, "maxLength": 64}
    choice = [{"name": key, "in": "query", "required": True, "schema": name}
              for key in ("source", "dialect", "action")]
    quantity = {"name": "quantity", "in": "query", "required": False,
                "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": 1e9}}
    return {
        "/api/builder": {"get": _bearer({
            "summary": "the alert builder's choices: sources with their URLs, dialects, actions",
            "responses": _answers({"200": _json(_ref(BuilderChoices), "the choices")},
                                  "401", "429")}, admin)},
        "/api/builder/template": {"get": _bearer({
            "summary": "the webhook URL and alert message for a source, dialect and action",
            "parameters": [*choice, quantity],
            "responses": _answers({"200": _json(_ref(BuilderTemplate), "the template")},
                                  "400", "401", "429")}, admin)},
        "/api/builder/test": {"post": _bearer({
            "summary": "send the template, filled in, through the source's checks as a test",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref(BuilderTest)}}},
            "responses": _answers({"200": _json(_ref(BuilderTestAnswer), "stored, not executed")},
                                  "400", "401", "403", "408", "413", "415", "429", "503")},
            admin)},
    }


def openapi_document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(m, "validation") for m in REQUESTS] + [(m, "serialization") for m in ANSWERS],
        ref_template="#/components/schemas/{model}",
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": "tradehook", "version": "1", "description": (
            "Signals in (signed, source URLs, agents), decisions and the journal out.")},
        "paths": _paths(),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "admin": {"type": "http", "scheme": "bearer",
                          "description": "the admin token"},
                "agent": {"type": "http", "scheme": "bearer",
                          "description": "an agent's token ([agents.NAME])"},
            },
        },
    }


async def openapi_json(request: Request) -> Response:
    document = getattr(request.app.state, "openapi", None)
    if document is None:
        document = request.app.state.openapi = openapi_document()
    return JSONResponse(document)
