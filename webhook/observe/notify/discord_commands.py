"""Slash commands for a Discord notification target (`commands = true`).

Discord posts each interaction to the application's Interactions Endpoint URL, which is
tradehook's `POST /discord/NAME` (`webhook.http.discord_interactions` checks the signature
first); the answer to the POST is the reply ("Receiving and Responding",
https://discord.com/developers/docs/interactions/receiving-and-responding): a `PING` (type 1)
is answered `PONG` (type 1); an application command (type 2, its name in `data.name`) is
answered with a message (type 4, `CHANNEL_MESSAGE_WITH_SOURCE`, `data.content` of at most
2000 characters; flag 64 makes it seen by the sender alone). Discord waits 3 seconds for it.

    /status  /positions  /signals  /kill     as on Telegram (`command_answers`)

Only commands from `command_channels` (and, when set, `command_users`) are obeyed; any other
channel, direct messages and other users get a refusal only they can see, and nothing happens.
Releasing the kill switch stays in the dashboard.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict

from webhook.observe.notify.targets import NotificationTarget
from webhook.observe.notify.telegram_commands import HELP, CommandActions, run_command

logger = logging.getLogger("tradehook.notify.commands")

PING, APPLICATION_COMMAND = 1, 2
PONG, CHANNEL_MESSAGE_WITH_SOURCE = 1, 4
EPHEMERAL = 1 << 6
MAX_CONTENT = 2000
REFUSED = "This channel or user may not command tradehook."


class _Discord(BaseModel):
    """Discord adds fields over time: the ones tradehook does not read are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class DiscordUser(_Discord):
    id: str


class DiscordMember(_Discord):
    user: DiscordUser | None = None


class CommandData(_Discord):
    name: str = ""


class Interaction(_Discord):
    """An interaction as Discord posts it: `member.user` in a server, `user` in a DM."""

    type: int
    channel_id: str | None = None
    guild_id: str | None = None
    member: DiscordMember | None = None
    user: DiscordUser | None = None
    data: CommandData | None = None

    @property
    def user_id(self) -> str | None:
        person = self.member.user if self.member and self.member.user else self.user
        return person.id if person else None


class DiscordCommands:
    def __init__(self, target: NotificationTarget, actions: CommandActions) -> None:
        self._channels = frozenset(target.command_channels)
        self._users = frozenset(target.command_users)
        self._actions = actions

    async def answer(self, interaction: Interaction) -> dict[str, Any]:
        """The body of the answer to one interaction."""
        if interaction.type == PING:
            return {"type": PONG}
        if interaction.type != APPLICATION_COMMAND or interaction.data is None:
            return _message("tradehook answers slash commands only.", private=True)
        if not self._allowed(interaction):
            logger.warning("discord commands: refused /%s from channel %s, user %s",
                           interaction.data.name[:32], interaction.channel_id or "-",
                           interaction.user_id or "-")
            return _message(REFUSED, private=True)
        by = f"Discord user {interaction.user_id} in channel {interaction.channel_id}"
        reply = await run_command(self._actions, interaction.data.name.lower(), by)
        return _message(HELP, private=True) if reply is None else _message(reply, private=False)

    def _allowed(self, interaction: Interaction) -> bool:
        if interaction.guild_id is None or interaction.channel_id not in self._channels:
            return False
        return not self._users or interaction.user_id in self._users


def _message(text: str, *, private: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"content": text[:MAX_CONTENT], "allowed_mentions": {"parse": []}}
    if private:
        data["flags"] = EPHEMERAL
    return {"type": CHANNEL_MESSAGE_WITH_SOURCE, "data": data}
