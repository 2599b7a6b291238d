"""Errors of the receiving side.

    WebhookError
    ├── RequestRefused         answered without storing anything
    │   ├── AuthError          401: no valid signature or source token
    │   ├── Forbidden          403: a revoked or unknown source, a wrong passphrase
    │   ├── BodyTooLarge       413
    │   └── UnsupportedMediaType  415
    ├── PayloadError           400: authenticated but unusable; stored as `invalid`
    ├── JournalError           503: the signal could not be stored, so nothing is acknowledged
    ├── LeaseLost              an executor's claim on a signal expired and another took it
    └── ConfigError            the configuration is wrong; raised at start, naming the key

`webhook.http.answers` is the one place that turns these into HTTP answers.
"""

from __future__ import annotations


class WebhookError(Exception):
    """Base of every error on the receiving side."""


class RequestRefused(WebhookError):
    status_code = 400


class AuthError(RequestRefused):
    status_code = 401


class Forbidden(RequestRefused):
    status_code = 403


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


class LeaseLost(WebhookError):
    """Another executor holds the signal now: this one must not touch it."""


class ConfigError(WebhookError):
    """A wrong configuration value; the message starts with the key."""
