"""A typed Python client of a running tradehook, for agents and scripts: the few lines an agent
framework needs to preview, submit and follow signals with an agent token.

This room is what a program outside the server imports, so it must import no server room
(`webhook.http`, `webhook.decide`, `webhook.execute`, `webhook.journal`, `webhook.config`,
`webhook.agents`, ...) and no plugin: only `webhook.auth.signatures` (to sign like a signed
sender) and its own models, which the server's HTTP surface uses in turn.
"""

from webhook.client.agent import AgentClient, ClientError
from webhook.client.models import AgentSignal, KillSwitchEngagement
from webhook.client.signed import AsyncSignedSender, RetryPolicy, SignedSender

__all__ = [
    "AgentClient", "AgentSignal", "AsyncSignedSender", "ClientError", "KillSwitchEngagement",
    "RetryPolicy", "SignedSender",
]
