"""Slash commands for a Discord notification target (`commands = true`).

Discord posts each interaction to the application's Interactions Endpoint URL, which is
tradehook's `POST /discord/NAME` (`webhook.http.discord_interactions` checks the signature
first); the answer to the POST is the reply ("Receiving and Responding",
https://discord.com/developers/docs/interactions/receiving-and-responding): a `PING` (type 1)
is answered `PONG` (type 1); an application command (type 2, its name in `data.name`) is
answered with a message (type 4, `CHANNEL_MESSAGE_WITH_SOURCE`, `data.content` of at most
2000 characters; flag 64 makes it seen by the sender alone). Discord waits 3 seconds for it:
a command not done within `DEFER_AFTER` is answered `DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE`
(type 5, Discord shows "thinking"), and its reply edits that answer when it is ready ("Edit
Original Interaction Response", `PATCH /webhooks/{application_id}/{token}/messages/@original`,
allowed for 15 minutes with the interaction's own token; no bot token is needed). The API's
host is the target's `url`'s (Discord's own for a Discord webhook URL).

    /status  /positions  /signals  /kill     as on Telegram (`command_answers`)
    /approve signal:ID  /decline signal:ID   a signal awaiting approval, as Telegram's buttons

(`signal` is a string option, type 3, of the registered command; its value arrives in
`data.options`, "Application Command Interaction Data Option Structure".)

Only commands from `command_channels` (and, when set, `command_users`) are obeyed; any other
channel, direct messages and other users get a refusal only they can see, and nothing happens.
Releasing the kill switch stays in the dashboard.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict

from webhook.observe.notify.targets import NotificationTarget
from webhook.observe.notify.telegram_commands import HELP, CommandActions, run_command

logger = logging.getLogger("tradehook.notify.commands")

PING, APPLICATION_COMMAND = 1, 2
PONG, CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 1, 4, 5
DEFER_AFTER = 2.0
"""Seconds a command may take before its answer is deferred (Discord waits 3)."""
EDIT_TIMEOUT = 10.0
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


class CommandOption(_Discord):
    name: str
    value: str | int | float | bool | None = None


class CommandData(_Discord):
    name: str = ""
    options: list[CommandOption] = []

    def option(self, name: str) -> str | None:
        found = next((o.value for o in self.options if o.name == name), None)
        return None if found is None else str(found).strip()[:64]


class Interaction(_Discord):
    """An interaction as Discord posts it: `member.user` in a server, `user` in a DM."""

    type: int
    application_id: str | None = None
    token: str | None = None
    """The interaction's own token (a secret for 15 minutes: never logged)."""
    channel_id: str | None = None
    guild_id: str | None = None
    member: DiscordMember | None = None
    user: DiscordUser | None = None
    data: CommandData | None = None

    @property
    def user_id(self) -> str | None:
        person = self.member.user if self.member and self.member.user else self.user
        return person.id if person else None


@dataclass(frozen=True)
class Answer:
    """The body to answer Discord's POST with, and, for a deferred command, what finishes it
    once the answer is sent (`later`: run it after the response, e.g. as Starlette's
    background task)."""

    body: dict[str, Any]
    later: Callable[[], Awaitable[None]] | None = None


class DiscordCommands:
    def __init__(self, target: NotificationTarget, actions: CommandActions) -> None:
        self._channels = frozenset(target.command_channels)
        self._users = frozenset(target.command_users)
        self._actions = actions
        parts = urlsplit(target.url.get_secret_value())
        self._api = f"{parts.scheme}://{parts.netloc}/api/v10"

    async def answer(self, interaction: Interaction) -> Answer:
        """The answer to one interaction."""
        if interaction.type == PING:
            return Answer({"type": PONG})
        if interaction.type != APPLICATION_COMMAND or interaction.data is None:
            return Answer(_message("tradehook answers slash commands only.", private=True))
        if not self._allowed(interaction):
            logger.warning("discord commands: refused /%s from channel %s, user %s",
                           interaction.data.name[:32], interaction.channel_id or "-",
                           interaction.user_id or "-")
            return Answer(_message(REFUSED, private=True))
        by = f"Discord user {interaction.user_id} in channel {interaction.channel_id}"
        running = asyncio.ensure_future(self._run(interaction.data, by))
        try:
            reply = await asyncio.wait_for(asyncio.shield(running), DEFER_AFTER)
        except TimeoutError:
            if not interaction.application_id or not interaction.token:
                reply = await running  # nothing to edit later: answer late rather than never
            else:
                return Answer({"type": DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE},
                              later=functools.partial(self._edit_when_done, interaction, running))
        return Answer(_reply(reply))

    async def _run(self, data: CommandData, by: str) -> str | None:
        name = data.name.lower()
        if name not in ("approve", "decline"):
            return await run_command(self._actions, name, by)
        signal_id = data.option("signal")
        if not signal_id:
            return f"/{name} needs the signal's id: /{name} signal:ID"
        if name == "approve":
            return await self._actions.approve(signal_id, by)
        return await self._actions.decline(signal_id, by)

    async def _edit_when_done(self, interaction: Interaction,
                              running: asyncio.Future[str | None]) -> None:
        """Put the finished command's reply in place of Discord's "thinking"."""
        data = _reply(await running)["data"]
        data.pop("flags", None)  # a deferred answer's visibility was fixed when it was sent
        url = (f"{self._api}/webhooks/{quote(interaction.application_id or '', safe='')}/"
               f"{quote(interaction.token or '', safe='')}/messages/@original")
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=EDIT_TIMEOUT) as client:
                answer = await client.patch(url, json=data)
        except httpx.HTTPError as exc:
            logger.warning("discord commands: the deferred reply was not delivered (%s)",
                           type(exc).__name__)
            return
        if answer.status_code >= 300:
            logger.warning("discord commands: Discord refused the deferred reply (HTTP %d)",
                           answer.status_code)

    def _allowed(self, interaction: Interaction) -> bool:
        if interaction.guild_id is None or interaction.channel_id not in self._channels:
            return False
        return not self._users or interaction.user_id in self._users


def _reply(reply: str | None) -> dict[str, Any]:
    """A command's reply; None (not a command tradehook has) gets the help, privately."""
    return _message(HELP, private=True) if reply is None else _message(reply, private=False)


def _message(text: str, *, private: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"content": text[:MAX_CONTENT], "allowed_mentions": {"parse": []}}
    if private:
        data["flags"] = EPHEMERAL
    return {"type": CHANNEL_MESSAGE_WITH_SOURCE, "data": data}
