"""Where notifications go: a `[notifications.NAME]` table of the configuration.

    [notifications.phone]
    kind = "telegram"            # telegram | discord | slack | webhook
    chat_id = "123456789"        # telegram only
    events = ["filled", "failed", "unknown", "expired", "kill_switch"]
    # url from TRADEHOOK_NOTIFICATIONS__PHONE__URL or url_file: it carries the bot token

The `url` (and a `webhook` target's `secret`, which signs each message with the Standard
Webhooks scheme) are secrets: they come from the environment or a file, never the config file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from webhook.auth.discord_signatures import public_key_problem
from webhook.auth.signatures import WebhookSecret

NotificationKind = Literal["telegram", "discord", "slack", "webhook"]
NotificationEvent = Literal[
    "filled", "partially_filled", "placed", "cancelled", "failed", "unknown", "rejected",
    "kill_switch", "expired", "position_mismatch", "awaiting_approval", "declined", "exit",
]
ALL_EVENTS: tuple[NotificationEvent, ...] = get_args(NotificationEvent)


class NotificationTarget(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    kind: NotificationKind
    url: SecretStr
    """Telegram: https://api.telegram.org/bot<token>/sendMessage; Discord and Slack: the
    channel's incoming webhook URL; webhook: your endpoint."""
    chat_id: str | None = None
    secret: WebhookSecret | None = None
    events: tuple[NotificationEvent, ...] = ALL_EVENTS
    timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    """Seconds to wait for the receiver to answer one try."""
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    commands: bool = False
    """Answer `/status`, `/positions`, `/signals` and `/kill`. Telegram: by long polling, with
    the Approve and Decline buttons of `awaiting_approval` messages; Discord: as slash commands
    posted to `POST /discord/NAME` (the application's Interactions Endpoint URL)."""
    command_chats: tuple[str, ...] = ()
    """Telegram: the chat ids whose commands are obeyed; empty: `chat_id` alone."""
    public_key: str | None = None
    """Discord: the application's public key (hex), which checks Discord's signatures."""
    command_channels: tuple[str, ...] = ()
    """Discord: the channel ids whose commands are obeyed (channel ids are unique across
    servers); every other channel, and direct messages, are refused."""
    command_users: tuple[str, ...] = ()
    """Discord: when set, only these user ids may command, and only in `command_channels`."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("secret", mode="before")
    @classmethod
    def _parse_secret(cls, value: Any) -> WebhookSecret | None:
        if value is None or isinstance(value, WebhookSecret):
            return value
        return WebhookSecret.parse(str(value))

    @field_validator("events", mode="before")
    @classmethod
    def _split_events(cls, value: Any) -> Any:
        return value.replace(",", " ").split() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_kind(self) -> NotificationTarget:
        if self.kind == "telegram" and not self.chat_id:
            raise ValueError("a telegram target needs chat_id")
        if self.commands and self.kind not in ("telegram", "discord"):
            raise ValueError("commands: only telegram and discord targets take commands")
        if self.kind == "discord" and self.commands:
            if self.public_key is None:
                raise ValueError("public_key: a discord target with commands needs the "
                                 "application's public key")
            if (problem := public_key_problem(self.public_key)) is not None:
                raise ValueError(f"public_key: {problem}")
            if not self.command_channels:
                raise ValueError("command_channels: name the channel ids that may command")
        if self.kind == "webhook" and self.secret is None:
            raise ValueError("a webhook target needs a secret ('whsec_...') to sign with")
        return self
