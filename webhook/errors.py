"""Errors of the receiving side.

    WebhookError
    ├── RequestRefused         answered without storing anything
    │   ├── AuthError          401: no valid signature or source token
    │   ├── Forbidden          403: a revoked or unknown source, a wrong passphrase
    │   ├── RequestTimeout     408: the body did not arrive in time
    │   ├── BodyTooLarge       413
    │   ├── UnsupportedMediaType  415
    │   └── TooManyAttempts    429: too many wrong credentials from one address (Retry-After)
    ├── PayloadError           400: authenticated but unusable; stored as `invalid`
    ├── JournalError           503: the signal could not be stored, so nothing is acknowledged
    ├── LeaseLost              an executor's claim on a signal expired and another took it
    ├── ConfigError            the configuration is wrong; raised at start, naming the key
    ├── DecisionError          the policy could not decide with what it could learn
    │   ├── FactUnavailable    the plugin could not give a price, a balance or a position
    │   │   └── FactNotReported    ... because it does not report that at all
    │   └── SizingError        the quantity or the bracket could not be computed
    ├── HeldByConfiguration    409: the configuration engages the kill switch; the API cannot
    │                          release it
    └── DeliveryFailed         a notification did not reach its receiver (`retry` says whether
                               trying again may help)

Errors of the plugins (`plugins.errors.ExecutionError`) stay in their own tree: the executor
reads them, and `webhook.execute.attempts` is where they become a signal's status.

`webhook.http.answers` is the one place that turns these into HTTP answers.
"""

from __future__ import annotations


class WebhookError(Exception):
    """Base of every error on the receiving side."""


class RequestRefused(WebhookError):
    status_code = 400

    def answer_headers(self) -> dict[str, str]:
        """Headers the answer carries besides the error."""
        return {}


class AuthError(RequestRefused):
    status_code = 401


class Forbidden(RequestRefused):
    status_code = 403


class RequestTimeout(RequestRefused):
    status_code = 408

    def answer_headers(self) -> dict[str, str]:
        return {"connection": "close"}


class TooManyAttempts(RequestRefused):
    """Wrong credentials came from one client address too often; `retry_after` is in seconds."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def answer_headers(self) -> dict[str, str]:
        return {"retry-after": str(self.retry_after)}


class BodyTooLarge(RequestRefused):
    status_code = 413


class UnsupportedMediaType(RequestRefused):
    status_code = 415


class PayloadError(WebhookError):
    """The body is authenticated but cannot become an order. `field` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class JournalError(WebhookError):
    """The journal could not store or read a signal."""


class NameTaken(JournalError):
    """Another live executor runs under this executor's name on the same journal."""


class LeaseLost(WebhookError):
    """Another executor holds the signal now: this one must not touch it."""


class ConfigError(WebhookError):
    """A wrong configuration value; the message starts with the key."""


class DecisionError(WebhookError):
    """The policy could not decide about a signal; it is rejected with this message."""


class FactUnavailable(DecisionError):
    """The plugin could not say what the policy needed; the message says what and why."""


class FactNotReported(FactUnavailable):
    """The plugin does not report this fact at all (it declares no such ability), so asking
    again will not help."""


class SizingError(DecisionError):
    """The quantity or the bracket could not be computed; the message says why."""


class HeldByConfiguration(WebhookError):
    """The setting engages the kill switch, so the API cannot release it."""


class DeliveryFailed(WebhookError):
    """A notification was not delivered; `retry` says whether trying again may help."""

    def __init__(self, reason: str, *, retry: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry = retry
        self.retry_after = retry_after
