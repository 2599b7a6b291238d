"""The configuration model: what a `tradehook.toml` and `TRADEHOOK_*` variables may say.

Loading (file, environment, secret files, checks that name the key) is `webhook.config`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from webhook.auth import WebhookSecret

Dialect = Literal["auto", "native", "tradingview", "plain"]
Threshold = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
DEFAULT_SOURCE = "tradingview"
DEFAULT_PLUGIN = "mock"


def _invalid(key: str, message: str) -> PydanticCustomError:
    """An error found by a cross-field check; `ctx` carries the key it is about."""
    template = message.replace("{", "(").replace("}", ")")
    return PydanticCustomError("invalid_setting", template, {"key": key})


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
    enabled: bool = True


class PluginSettings(BaseModel):
    """A `[plugins.NAME]` table: its `type` and that type's own options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ExecutionSettings(_Strict):
    max_attempts: Annotated[int, Field(ge=1, le=100)] = 5
    """Tries per signal for temporary broker failures."""
    retry_base_delay: Annotated[float, Field(gt=0, le=60)] = 0.5
    retry_max_delay: Annotated[float, Field(gt=0, le=3600)] = 30.0
    concurrency: Annotated[int, Field(ge=1, le=1000)] = 32
    """Signals executed at once (never two for the same plugin and symbol)."""


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
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    public_url: str | None = None
    """The address senders use (e.g. https://hooks.example.com), for printed URLs."""
    max_body_bytes: Annotated[int, Field(ge=256, le=16 * 1024 * 1024)] = 64 * 1024
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @field_validator("secret", mode="before")
    @classmethod
    def _parse_secrets(cls, value: Any) -> list[WebhookSecret]:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, list):
            raise ValueError("expected one or more 'whsec_...' secrets")
        return [v if isinstance(v, WebhookSecret) else WebhookSecret.parse(str(v)) for v in value]

    @field_validator("journal")
    @classmethod
    def _check_journal(cls, value: str) -> str:
        if not value.startswith("sqlite:///"):
            raise ValueError("the journal must be 'sqlite:///PATH'")
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
    def _check_references(self) -> Settings:
        configured = ", ".join(sorted(self.plugins)) or "none"
        if self.default_plugin not in self.plugins:
            raise _invalid(
                "default_plugin",
                f"{self.default_plugin!r} is not a configured plugin (configured: {configured})",
            )
        for name, source in self.sources.items():
            if source.plugin is not None and source.plugin not in self.plugins:
                raise _invalid(
                    f"sources.{name}.plugin",
                    f"no plugin named {source.plugin!r} (configured: {configured})",
                )
        return self

    @property
    def journal_path(self) -> str:
        return self.journal.removeprefix("sqlite:///")

    def threshold_for(self, source: str | None) -> float:
        configured = self.sources.get(source) if source else None
        if configured is not None and configured.confidence_threshold is not None:
            return configured.confidence_threshold
        return self.confidence_threshold
