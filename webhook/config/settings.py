"""The configuration model: what a `tradehook.toml` and `TRADEHOOK_*` variables may say.

Loading (file, environment, secret files, checks that name the key) is `webhook.config.loader`.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from webhook.agents.settings import AgentSettings
from webhook.auth.client_address import AddressAllowlist, TrustedProxies
from webhook.auth.credentials import admin_token_problem, passphrase_problem
from webhook.auth.signatures import WebhookSecret
from webhook.config.text_files import control_character_problem
from webhook.decide.accounts import AccountRule, account_group_problem
from webhook.decide.approval import (
    DEFAULT_APPROVAL_TIMEOUT,
    ApprovalMode,
    ApprovalTimeout,
    approval_problem,
)
from webhook.decide.protective_prices import ProtectivePriceSettings
from webhook.decide.risk_limits import RiskLimits
from webhook.decide.sizing import SizingSettings
from webhook.decide.symbols import check_patterns
from webhook.dialects.pineconnector_targets import PineConnectorSettings
from webhook.execute.settings import ExecutionSettings, MaxLag, Seconds
from webhook.journal.postgres_url import parse_postgres_url
from webhook.observe.notify.targets import NotificationTarget

Dialect = Literal["auto", "native", "tradingview", "traderspost", "pineconnector", "plain"]
Threshold = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
DEFAULT_SOURCE = "tradingview"
DEFAULT_PLUGIN = "mock"
SIGNED_SOURCE = "signed"
"""The reserved source name of requests verified by HMAC signature: `[sources.signed]`
configures them, and no source URL is ever made for or accepted under it."""
SOURCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _invalid(key: str, message: str) -> PydanticCustomError:
    """An error found by a cross-field check; `ctx` carries the key it is about."""
    template = message.replace("{", "(").replace("}", ")")
    return PydanticCustomError("invalid_setting", template, {"key": key})


def _check_names(table: str, kind: str, names: dict[str, Any]) -> None:
    """Source and agent names travel in idempotency keys and URLs: a safe charset only."""
    for name in names:
        if SOURCE_NAME.fullmatch(name) is None:
            raise _invalid(f"{table}.{name}", f"{kind} name may hold only letters, digits, "
                           "_ and - (at most 64)")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(_Strict):
    """One sender that posts to a signed URL (`/webhook/{token}`)."""

    dialect: Dialect = "auto"
    plugin: str | None = None
    """Where this source's orders go unless the alert names a plugin; else the default plugin."""
    confidence_threshold: Threshold | None = None
    """Overrides the global threshold for this source."""
    passphrase: SecretStr | None = None
    """When set, the body must carry it in a `passphrase` field (JSON) or `passphrase=` (text)."""
    generation: Annotated[int, Field(ge=1)] = 1
    """Raise it to revoke every URL made for this source before."""
    dedup_seconds: Annotated[float, Field(gt=0, le=3600)] | None = None
    """Alerts with no id of their own: the same body again within this many seconds is a
    duplicate (remembered by this receiver)."""
    enabled: bool = True
    ip_allowlist: AddressAllowlist = ()
    """When set, only these addresses or networks may post; `"tradingview"` stands for
    TradingView's four. Behind a proxy, list it in the top-level `trusted_proxies`."""
    require_tradingview_certificate: bool = False
    """Refuse requests for which the (trusted) proxy did not verify TradingView's TLS client
    certificate; see deploy/nginx.conf."""
    allow_plugin_field: bool | None = None
    """Let alerts name their plugin with a `plugin` field (else such alerts are invalid).
    Default: no for URL sources, yes for signed (HMAC) senders (`[sources.signed]`)."""
    routes: dict[str, str] = Field(default_factory=dict)
    """Symbol pattern -> plugin (or account group), before `plugin`; the most specific wins."""
    allow_accounts_field: bool | None = None
    """Let alerts name the accounts to fan out to with an `accounts` field; default as for
    `allow_plugin_field`."""
    on_position_mismatch: Literal["ignore", "reject", "resync"] = "ignore"
    """When an alert's expected position (before its order) is not the broker's: send it as it
    is, reject it, or order what reaches the position the alert leaves. Always recorded and
    notified."""
    sizing: SizingSettings = Field(default_factory=SizingSettings)
    risk: RiskLimits = Field(default_factory=RiskLimits)
    """Limits on this source's signals, by the symbol as the alert names it."""
    protective_prices: ProtectivePriceSettings = Field(default_factory=ProtectivePriceSettings)
    """How far stops, targets and pending entries may be from the market."""
    pineconnector: PineConnectorSettings = Field(default_factory=PineConnectorSettings)
    """How PineConnector alerts read `sl=`, `tp=` and `price=` (the EA's Target Type and
    Pending Order Entry)."""
    max_lag: MaxLag = MaxLag()
    """How old this source's signals may be when sent (`market`, `resting` seconds)."""
    approval: ApprovalMode = "never"
    """Whether signals wait for a person before they are executed (`webhook.decide.approval`)."""
    review_threshold: Threshold | None = None
    """For `approval = "below"`: signals under this confidence (and at or above the threshold)
    wait for a person."""
    approval_timeout: ApprovalTimeout = DEFAULT_APPROVAL_TIMEOUT
    """Seconds a signal may wait for approval; then it is `expired`, never executed."""

    @field_validator("routes")
    @classmethod
    def _check_route_patterns(cls, value: dict[str, str]) -> dict[str, str]:
        check_patterns(value)
        return value

    @field_validator("passphrase")
    @classmethod
    def _check_passphrase(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and (problem := passphrase_problem(value.get_secret_value())):
            raise ValueError(problem)
        return value


class PluginSettings(BaseModel):
    """A `[plugins.NAME]` table: its `type` and that type's own options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    risk: RiskLimits = Field(default_factory=RiskLimits)
    """Limits on every order this plugin executes, by the symbol as the broker names it."""
    retry_budget: Seconds | None = None
    """Seconds of temporary failures a signal may ride out here; default `[execution]`'s."""
    max_lag: MaxLag = MaxLag()
    """How old a signal may be when sent to this plugin (`market`, `resting` seconds)."""

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Settings(_Strict):
    secret: list[WebhookSecret] = Field(default_factory=list)
    """Webhook secrets (`whsec_...`); the first signs new source URLs, all verify."""
    admin_token: SecretStr | None = None
    journal: str = "sqlite:///tradehook.db"
    confidence_threshold: Threshold = 0.6
    default_plugin: str = DEFAULT_PLUGIN
    plugins: dict[str, PluginSettings] = Field(
        default_factory=lambda: {DEFAULT_PLUGIN: PluginSettings(type="mock")}
    )
    sources: dict[str, SourceSettings] = Field(
        default_factory=lambda: {DEFAULT_SOURCE: SourceSettings()}
    )
    trusted_proxies: TrustedProxies = ()
    """Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (addresses or
    networks); from anyone else those headers are ignored."""
    notifications: dict[str, NotificationTarget] = Field(default_factory=dict)
    agents: dict[str, AgentSettings] = Field(default_factory=dict)
    """Agents with their own tokens and scopes (`[agents.NAME]`, see docs/agents.md)."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """`auto`: text on a terminal, JSON lines otherwise."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    public_url: str | None = None
    """The address senders use (e.g. https://hooks.example.com), for printed URLs."""
    max_body_bytes: Annotated[int, Field(ge=256, le=16 * 1024 * 1024)] = 64 * 1024
    client_read_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    """Seconds a client may take to send a request's head, and then again its body: a slower head
    closes the connection, a slower body is answered 408."""
    max_connections: Annotated[int, Field(ge=8, le=100_000)] = 1000
    """Open connections (and requests in progress) beyond which new ones are answered 503."""
    keep_alive_seconds: Annotated[int, Field(ge=1, le=300)] = 5
    """How long an idle kept-alive connection stays open."""
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)
    routes: dict[str, str] = Field(default_factory=dict)
    """Symbol pattern -> plugin for every source, after a source's own `routes` and `plugin`."""
    account_groups: dict[str, dict[str, AccountRule]] = Field(default_factory=dict)
    """Group -> {plugin -> size rule}: a signal routed to a group goes to each of its
    accounts (`webhook.decide.accounts`)."""
    symbol_maps: dict[str, dict[str, Annotated[str, Field(min_length=1, max_length=64)]]] = (
        Field(default_factory=dict)
    )
    """Plugin -> {alert symbol -> broker symbol}, e.g. `[symbol_maps.ninjatrader] "ES1!" =
    "ES 12-25"`."""
    kill_switch: bool = False
    """Engage the kill switch from the start: signals are stored and rejected, none executed.
    While set, the admin API cannot release it."""
    broker_lookup_timeout: Annotated[float, Field(gt=0, le=2.5)] = 1.5
    """Seconds to wait for a plugin's price, balance or position while deciding a signal
    (TradingView gives up on an answer after 3 s)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @field_validator("secret", mode="before")
    @classmethod
    def _parse_secrets(cls, value: Any) -> list[WebhookSecret]:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, list):
            raise ValueError("expected one or more 'whsec_...' secrets")
        return [v if isinstance(v, WebhookSecret) else WebhookSecret.parse(str(v)) for v in value]

    @field_validator("admin_token")
    @classmethod
    def _check_admin_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and (problem := admin_token_problem(value.get_secret_value())):
            raise ValueError(problem)
        return value

    @field_validator("sources")
    @classmethod
    def _check_source_names(cls, value: dict[str, SourceSettings]) -> dict[str, SourceSettings]:
        _check_names("sources", "a source", value)
        return value

    @field_validator("agents")
    @classmethod
    def _check_agent_names(cls, value: dict[str, AgentSettings]) -> dict[str, AgentSettings]:
        _check_names("agents", "an agent", value)
        return value

    @field_validator("journal")
    @classmethod
    def _check_journal(cls, value: str) -> str:
        if problem := control_character_problem(value):  # "sqlite:///C:\tradehook" in TOML
            raise ValueError(f"the journal URL {problem}")
        if value.startswith(("postgresql://", "postgres://")):
            parse_postgres_url(value)  # its errors never repeat the URL, which may hold a password
            return value
        if not value.startswith("sqlite:///"):
            raise ValueError(
                "the journal must be 'sqlite:///PATH' or 'postgresql://USER@HOST[:PORT]/DATABASE'"
            )
        if value == "sqlite:///":
            raise ValueError("the journal path is empty")
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_to_the_only_plugin(cls, data: Any) -> Any:
        if isinstance(data, dict) and "default_plugin" not in data:
            plugins = data.get("plugins")
            if isinstance(plugins, dict) and len(plugins) == 1:
                data = {**data, "default_plugin": next(iter(plugins))}
        return data

    @model_validator(mode="after")
    def _check_account_groups(self) -> Settings:
        _check_names("account_groups", "an account group", self.account_groups)
        if problem := account_group_problem(self.account_groups, self.plugins):
            raise _invalid(*problem)
        return self

    @model_validator(mode="after")
    def _check_references(self) -> Settings:
        configured = ", ".join(sorted(self.plugins)) or "none"
        if self.default_plugin not in self.plugins:
            raise _invalid(
                "default_plugin",
                f"{self.default_plugin!r} is not a configured plugin (configured: {configured})",
            )
        for name, source in self.sources.items():
            if source.plugin is not None and not self.routes_to(source.plugin):
                raise _invalid(
                    f"sources.{name}.plugin",
                    f"no plugin named {source.plugin!r} (configured: {configured})",
                )
        return self

    @model_validator(mode="after")
    def _check_routing(self) -> Settings:
        configured = ", ".join(sorted(self.plugins)) or "none"
        tables = [("routes", self.routes)] + [
            (f"sources.{name}.routes", source.routes) for name, source in self.sources.items()
        ]
        for key, routes in tables:
            check_patterns(routes)
            for pattern, plugin in routes.items():
                if not self.routes_to(plugin):
                    raise _invalid(f'{key}."{pattern}"',
                                   f"no plugin named {plugin!r} (configured: {configured})")
        for plugin in self.symbol_maps:
            if plugin not in self.plugins:
                raise _invalid(f"symbol_maps.{plugin}",
                               f"no plugin named {plugin!r} (configured: {configured})")
        return self

    @model_validator(mode="after")
    def _check_agents(self) -> Settings:
        configured = ", ".join(sorted(self.plugins)) or "none"
        tokens = {self.admin_token.get_secret_value()} if self.admin_token else set()
        for name, agent in self.agents.items():
            if agent.source != SIGNED_SOURCE and agent.source not in self.sources:
                raise _invalid(f"agents.{name}.source", f"no source named {agent.source!r}")
            for plugin in agent.plugins:
                if plugin not in self.plugins:
                    raise _invalid(f"agents.{name}.plugins",
                                   f"no plugin named {plugin!r} (configured: {configured})")
            target = self.notifications.get(agent.callback) if agent.callback else None
            if agent.callback and (target is None or target.kind != "webhook"):
                raise _invalid(f"agents.{name}.callback", f"no notification named "
                               f"{agent.callback!r} of kind 'webhook'")
            token = agent.token.get_secret_value()
            if token in tokens:
                raise _invalid(f"agents.{name}.token", "is the same as the admin token or "
                               "another agent's; every agent needs its own")
            tokens.add(token)
        return self

    @model_validator(mode="after")
    def _check_approvals(self) -> Settings:
        senders: list[tuple[str, str, str | None]] = [
            (f"sources.{name}", name, None) for name in self.sources]
        senders += [(f"agents.{name}", agent.source, name) for name, agent in self.agents.items()]
        for key, source, agent in senders:
            if problem := approval_problem(self, source, agent):
                raise _invalid(f"{key}.review_threshold", problem)
        return self

    def routes_to(self, name: str) -> bool:
        """Whether a route may name `name`: a plugin or an account group."""
        return name in self.plugins or name in self.account_groups

    @property
    def journal_path(self) -> str | None:
        """The SQLite journal's file; None for a journal that is not a file (PostgreSQL)."""
        if not self.journal.startswith("sqlite:///"):
            return None
        return self.journal.removeprefix("sqlite:///")

    def threshold_for(self, source: str | None) -> float:
        configured = self.sources.get(source) if source else None
        if configured is not None and configured.confidence_threshold is not None:
            return configured.confidence_threshold
        return self.confidence_threshold

    def secret_values(self) -> list[str]:
        """Every configured value that must never be shown (in logs, answers or the journal)."""
        found = [str(s) for s in self.secret]
        found += [str(s).removeprefix("whsec_") for s in self.secret]
        if self.admin_token is not None:
            found.append(self.admin_token.get_secret_value())
        found += [s.passphrase.get_secret_value() for s in self.sources.values() if s.passphrase]
        found += [agent.token.get_secret_value() for agent in self.agents.values()]
        for target in self.notifications.values():
            found.append(target.url.get_secret_value())
            if target.secret is not None:
                found += [str(target.secret), str(target.secret).removeprefix("whsec_")]
        if self.journal_path is None:
            found += parse_postgres_url(self.journal).secrets
        return found + self._plugin_credentials()

    def _plugin_credentials(self) -> list[str]:
        """The values of the environment variables that plugins read their credentials from
        (every `*_env` option: ccxt's keys, the MT5 password...)."""
        found = []
        for plugin in self.plugins.values():
            for option, name in plugin.options.items():
                if option.endswith("_env") and isinstance(name, str):
                    value = os.environ.get(name, "").strip()
                    found += [value] if value else []
        return found
