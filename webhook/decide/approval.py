"""The approval rule: which signals wait for a person before they are executed.

Per source and per agent (`[sources.NAME]`, `[agents.NAME]`):

    approval = "below"          # never (default) | below | always
    review_threshold = 0.8      # for "below": confidence under it waits for a person
    approval_timeout = 300      # seconds a waiting signal may wait; then it expires

`below` holds a signal whose confidence is at or above the confidence threshold (lower ones are
still `filtered`) but below `review_threshold`; `always` holds every signal that passed the
policy. An agent's unset keys are its source's. Only a signal that passed every check waits:
a filtered or rejected one is decided at once, as without approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

if TYPE_CHECKING:
    from webhook.config.settings import Settings

ApprovalMode = Literal["never", "below", "always"]
ApprovalTimeout = Annotated[float, Field(ge=1, le=24 * 3600, allow_inf_nan=False)]
"""Nothing waits for ever: at most a day."""
DEFAULT_APPROVAL_TIMEOUT = 300.0


@dataclass(frozen=True)
class ApprovalRule:
    """The resolved rule of one sender; `key` is where it is configured (for reasons)."""

    mode: ApprovalMode = "never"
    review_threshold: float | None = None
    timeout: float = DEFAULT_APPROVAL_TIMEOUT
    key: str = ""

    def reason_to_wait(self, confidence: float) -> str | None:
        """Why a signal of this `confidence` that passed the policy waits, or None."""
        within = f"approve within {self.timeout:g} s or it expires"
        if self.mode == "always":
            return f"awaiting approval: {self.key}.approval = \"always\" ({within})"
        if self.mode == "below" and self.review_threshold is not None and (
                confidence < self.review_threshold):
            return (f"awaiting approval: confidence {confidence:g} is below "
                    f"{self.key}.review_threshold {self.review_threshold:g} ({within})")
        return None


def approval_rule(settings: Settings, source: str, agent: str | None) -> ApprovalRule:
    """The rule for signals from `source` (the source whose rules apply), sent by `agent`."""
    configured = settings.sources.get(source)
    mode: ApprovalMode = configured.approval if configured else "never"
    threshold = configured.review_threshold if configured else None
    timeout = configured.approval_timeout if configured else DEFAULT_APPROVAL_TIMEOUT
    key = f"sources.{source}"
    agent_settings = settings.agents.get(agent) if agent else None
    if agent_settings is not None:
        if agent_settings.approval is not None:
            mode, key = agent_settings.approval, f"agents.{agent}"
        if agent_settings.review_threshold is not None:
            threshold = agent_settings.review_threshold
        if agent_settings.approval_timeout is not None:
            timeout = agent_settings.approval_timeout
    return ApprovalRule(mode, threshold, timeout, key)


def approval_problem(settings: Settings, source: str, agent: str | None) -> str | None:
    """What is wrong with a sender's approval settings: `below` needs a review threshold
    above the confidence threshold (else no signal would ever wait)."""
    rule = approval_rule(settings, source, agent)
    if rule.mode != "below":
        return None
    if rule.review_threshold is None:
        return 'approval = "below" needs a review_threshold'
    threshold = settings.threshold_for(source)
    if rule.review_threshold <= threshold:
        return (f"review_threshold {rule.review_threshold:g} must be above the confidence "
                f"threshold {threshold:g}, else no signal would wait for approval")
    return None
