"""The kill switch: while engaged, nothing is executed; signals are still stored and answered.

Engaged by the `kill_switch = true` setting (released only by changing the configuration) or by
`POST /api/kill-switch` (kept in the journal, so it survives a restart). New signals are
answered `rejected`; queued ones are not sent when their turn comes.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webhook.errors import HeldByConfiguration
from webhook.journal import SignalJournal

logger = logging.getLogger("tradehook.kill_switch")
STATE_KEY = "kill_switch"


class KillSwitchState(BaseModel):
    model_config = ConfigDict(frozen=True)

    engaged: bool = False
    reason: str | None = None
    changed_at: float | None = None
    changed_by: str | None = None
    """`api`, or `config` when the setting engages it."""


class KillSwitchRequest(BaseModel):
    """The body of `POST /api/kill-switch`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engaged: bool
    reason: str | None = Field(default=None, max_length=500)


class KillSwitch:
    def __init__(self, journal: SignalJournal, *, configured: bool = False) -> None:
        self._journal = journal
        self._configured = configured
        self._stored = KillSwitchState()
        self._durable = True

    async def load(self) -> None:
        """Read the state the API last stored; call once the journal is open."""
        try:
            text = await self._journal.read_state(STATE_KEY)
        except NotImplementedError:
            logger.warning("this journal keeps no state: the kill switch will not survive a "
                           "restart")
            self._durable = False
            return
        if text is None:
            return
        try:
            self._stored = KillSwitchState.model_validate_json(text)
        except ValidationError:
            # Fail safe: a state we cannot read is taken as engaged.
            logger.error("the stored kill switch state is unreadable; taking it as engaged")
            self._stored = KillSwitchState(engaged=True, reason="stored state unreadable",
                                           changed_by="journal")
        if self._stored.engaged:
            logger.warning("kill switch engaged: %s", self.describe())

    @property
    def engaged(self) -> bool:
        return self._configured or self._stored.engaged

    @property
    def configured(self) -> bool:
        return self._configured

    @property
    def state(self) -> KillSwitchState:
        if self._configured:
            return KillSwitchState(engaged=True, reason="kill_switch = true in the configuration",
                                   changed_by="config")
        return self._stored

    async def set(self, request: KillSwitchRequest) -> KillSwitchState:
        """Engage or release it; returns once the new state is durable."""
        if self._configured and not request.engaged:
            raise HeldByConfiguration(
                "the configuration engages the kill switch (kill_switch = true); change the "
                "configuration and restart to release it"
            )
        state = KillSwitchState(engaged=request.engaged, reason=request.reason,
                                changed_at=time.time(), changed_by="api")
        if self._durable:
            await self._journal.write_state(STATE_KEY, state.model_dump_json())
        self._stored = state
        logger.warning("kill switch %s by the admin API%s", "engaged" if state.engaged else
                       "released", f": {state.reason}" if state.reason else "")
        return self.state

    def describe(self) -> str:
        state = self.state
        if state.changed_by == "config":
            return "engaged by the configuration (kill_switch = true)"
        when = (datetime.fromtimestamp(state.changed_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                if state.changed_at else "an unknown time")
        reason = f" (reason: {state.reason})" if state.reason else ""
        return f"engaged by the admin API at {when}{reason}"
