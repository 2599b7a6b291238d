"""`[agents.NAME]`: an agent's token, scopes, and the plugins and symbols it may use."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from webhook.auth.credentials import admin_token_problem
from webhook.decide.approval import ApprovalMode, ApprovalTimeout

AgentScope = Literal["read", "preview", "submit"]
AGENT_SOURCE_PREFIX = "agent:"
"""The journal's `source` of an agent's signals is `agent:NAME`."""


class AgentSettings(BaseModel):
    """One agent. Its token comes from `TRADEHOOK_AGENTS__NAME__TOKEN` or `token_file`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: SecretStr
    scopes: Annotated[tuple[AgentScope, ...], Field(min_length=1)] = ("read", "preview")
    """`read`: its signals, positions, balances and limits; `preview`: decisions without
    storing; `submit`: signals that are stored and executed. Engaging the kill switch needs
    only `read`: stopping is always allowed, releasing never."""
    source: str = "signed"
    """The source whose rules (threshold, routing, sizing, risk) the agent's signals follow."""
    plugins: tuple[str, ...] = ()
    """The plugins its signals may go to; empty: any."""
    symbols: tuple[str, ...] = ()
    """The symbols (as its signals name them) it may trade; empty: any."""
    callback: str | None = None
    """A `[notifications.NAME]` of kind `webhook` that gets this agent's results (and only
    its own), signed with that target's secret."""
    approval: ApprovalMode | None = None
    """Whether its signals wait for a person (`never`, `below`, `always`); unset: its source's
    (see `webhook.decide.approval`). An agent token never approves."""
    review_threshold: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    approval_timeout: ApprovalTimeout | None = None

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        if problem := admin_token_problem(value.get_secret_value()):
            raise ValueError(problem)
        return value

    def may(self, scope: AgentScope) -> bool:
        return scope in self.scopes


def agent_source(name: str) -> str:
    return AGENT_SOURCE_PREFIX + name
