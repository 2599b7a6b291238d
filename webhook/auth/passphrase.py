"""A source's passphrase: checked on the value the dialect parsed, and taken out of the stored body.

The check compares the parsed passphrase, so JSON escaping (`"\\u0073ecret"`) cannot carry a
passphrase past it. Redaction replaces only the passphrase itself: a JSON string whose decoded
value is the passphrase becomes `"[redacted]"`, and in a text body each occurrence of it does;
every other byte of the body is kept as it came.
"""

from __future__ import annotations

import hmac
import json
import re

from pydantic import SecretStr

from webhook.errors import Forbidden, PayloadError

REDACTED = "[redacted]"
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def check_passphrase(offered: str | None, expected: SecretStr) -> None:
    """Raise `Forbidden` unless the alert's parsed passphrase is the source's."""
    if not hmac.compare_digest(
        (offered or "").encode(), expected.get_secret_value().encode()
    ):
        raise Forbidden("wrong or missing passphrase")


def redact_passphrase(body: bytes, passphrase: SecretStr) -> bytes:
    """The body with every appearance of the passphrase replaced, and nothing else changed."""
    secret = passphrase.get_secret_value()
    if not secret:
        return body

    def replace(match: re.Match[bytes]) -> bytes:
        token = match.group()
        return b'"' + REDACTED.encode() + b'"' if _decoded(token) == secret else token

    redacted = _JSON_STRING.sub(replace, body)
    return redacted.replace(secret.encode(), REDACTED.encode())


def redact_passphrase_in_error(error: PayloadError, passphrase: SecretStr | None) -> PayloadError:
    """The error with the passphrase taken out of its field and problem: a dialect that names
    the value it could not read would otherwise echo a passphrase sent in the wrong field into
    the answer, the log and the journal."""
    secret = passphrase.get_secret_value() if passphrase is not None else ""
    if not secret or (secret not in error.field and secret not in error.problem):
        return error
    return PayloadError(error.field.replace(secret, REDACTED),
                        error.problem.replace(secret, REDACTED))


def carries_passphrase(body: bytes, passphrase: SecretStr) -> bool:
    """Whether a body that no dialect could read holds the passphrase somewhere, as text or as a
    JSON string: only then is it kept (as `invalid`) rather than refused."""
    secret = passphrase.get_secret_value()
    if not secret:
        return False
    if secret.encode() in body:
        return True
    return any(_decoded(match.group()) == secret for match in _JSON_STRING.finditer(body))


def _decoded(token: bytes) -> str | None:
    try:
        value = json.loads(token)
    except ValueError:
        return None
    return value.strip() if isinstance(value, str) else None
