"""`POST /discord/{target}`: the Interactions Endpoint URL of a Discord application, for the
slash commands of the `[notifications.TARGET]` Discord target that has `commands = true`.

The signature is checked on the raw body before anything else is read (`webhook.auth.
discord_signatures`: 401 when it fails, as Discord requires); then the interaction is answered
by `webhook.observe.notify.discord_commands`, with the same actions as Telegram's commands; a
slow command's reply is sent after the (deferred) answer, as the response's background task.
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webhook.auth.discord_signatures import verify_discord_signature
from webhook.errors import PayloadError
from webhook.http import signals
from webhook.http.state import ServerState
from webhook.observe.notify.command_answers import ServerCommandActions
from webhook.observe.notify.discord_commands import DiscordCommands, Interaction


async def interactions(request: Request) -> Response:
    services = ServerState.of(request)
    target = services.settings.notifications.get(request.path_params["target"])
    if target is None or target.kind != "discord" or not target.commands or not target.public_key:
        return JSONResponse({"error": "no Discord commands are configured here"},
                            status_code=404)
    body, _ = await signals.read_body(request, services.settings)
    verify_discord_signature(target.public_key, request.headers, body)
    try:
        interaction = Interaction.model_validate_json(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise PayloadError(".".join(str(p) for p in error["loc"]) or "body",
                           str(error["msg"])) from exc
    pipeline = services.pipeline
    actions = ServerCommandActions(services.journal, services.registry, pipeline.kill_switch,
                                   services.events, pipeline.approvals)
    answer = await DiscordCommands(target, actions).answer(interaction)
    later = BackgroundTask(answer.later) if answer.later is not None else None
    return JSONResponse(answer.body, background=later)
