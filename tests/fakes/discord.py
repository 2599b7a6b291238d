"""A local fake of the one Discord API call tradehook makes for a deferred slash command:
"Edit Original Interaction Response".

Rules, each from https://discord.com/developers/docs/interactions/receiving-and-responding:
- #edit-original-interaction-response: `PATCH /webhooks/{application.id}/{interaction.token}/
  messages/@original`, a JSON body of the message fields (`content`, `allowed_mentions`, ...);
  it answers the edited message. The interaction token authenticates it (no bot token).
- #responding-to-an-interaction: "Interaction tokens are valid for 15 minutes": the fake answers
  an unknown token with 404 and Discord's JSON error shape (`{"message": ..., "code": 10015}`,
  "Unknown Webhook"; the code is from the API's "JSON Error Codes" table, not this page).
The version prefix (`/api/v10`) is Discord's "API Versioning" section.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.background import BackgroundServer, ServedFake


class FakeDiscordApi(ServedFake):
    def __init__(self, application_id: str, token: str) -> None:
        self.application_id, self.token = application_id, token
        self.edits: list[dict[str, Any]] = []
        self._server = BackgroundServer(self._app)

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_patch("/api/v10/webhooks/{application}/{token}/messages/@original",
                             self._edit_original)
        return app

    async def _edit_original(self, request: web.Request) -> web.Response:
        known = (request.match_info["application"], request.match_info["token"])
        if known != (self.application_id, self.token):
            return web.json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        body = await request.json()
        self.edits.append(body)
        return web.json_response({"id": "1", "type": 20, **body})
