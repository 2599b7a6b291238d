"""The answers of the HTTP surface as pydantic models, for the OpenAPI document.

The routes build these bodies themselves; these models say what they are, and the schemathesis
test run against the live server (tests/e2e/test_openapi_live.py) holds the routes to them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from plugins.base import PluginCapabilities
from webhook.http.admin_api import SignalView
from webhook.journal import SignalStatus


class _Answer(BaseModel):
    """Answers may gain fields; the document lets them (`additionalProperties`)."""

    model_config = ConfigDict(extra="allow")


class _Exact(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignalAnswer(_Exact):
    """The answer of a signal endpoint once the signal is stored (or was a duplicate)."""

    status: SignalStatus
    signal_id: str
    reason: str | None = None
    rule: str | None = None
    error: str | None = None
    field: str | None = None
    plugin: str | None = None


class ErrorAnswer(_Exact):
    """A refusal: nothing was stored. `field` names the input at fault, where there is one."""

    error: str
    field: str | None = None


class SignalList(_Answer):
    signals: list[SignalView]


class ApprovalList(_Answer):
    """The signals awaiting approval, the first to expire first."""

    approvals: list[SignalView]


class ApprovalAnswer(_Exact):
    """What approving or declining came to: 200 when done as asked; 409 when the signal no
    longer awaits approval (`status` says what it is now, `error` why), or when the kill switch
    or a risk rule refused it at approval (`status` rejected, `rule` names the setting)."""

    signal_id: str
    status: SignalStatus
    reason: str | None = None
    rule: str | None = None
    error: str | None = None


class PluginView(_Answer):
    name: str
    type: str
    default: bool
    healthy: bool
    capabilities: PluginCapabilities
    exits: dict[str, Literal["native", "managed", "unavailable"]]
    """Each part of managed exits (stop, trailing_stop, break_even, take_profits): held by the
    broker (`native`), by tradehook from the plugin's prices (`managed`), or not at all where
    the plugin gives no prices (`unavailable`)."""


class PluginList(_Answer):
    plugins: list[PluginView]
    default: str | None


class KillSwitchView(_Answer):
    engaged: bool
    reason: str | None = None
    changed_at: float | None = None
    changed_by: str | None = None
    configured: bool


class HealthAnswer(_Answer):
    status: str


class ReadyAnswer(BaseModel):
    """`status` for anyone; the details (journal, plugins, breakers, backlog...) for an admin."""

    status: str


class AgentLimits(_Answer):
    agent: str
    scopes: list[str]
    source: str
    plugins: list[str]
    symbols: list[str] | None
    confidence_threshold: float
    kill_switch: KillSwitchView


class AccountView(_Answer):
    plugin: str
    currency: str
    equity: float


class PositionView(_Answer):
    plugin: str
    symbol: str
    position: float
