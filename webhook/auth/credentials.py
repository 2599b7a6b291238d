"""What makes a configured credential real: checked at start, so that a blank, short or
placeholder value is refused with a message naming its key instead of opening a door.

An empty `TRADEHOOK_ADMIN_TOKEN=` (as an env file or an unset compose variable gives) is the
case this exists for: it must never mean "no authentication".
"""

from __future__ import annotations

MIN_ADMIN_TOKEN_LENGTH = 24
MIN_SECRET_KEY_BYTES = 24
MIN_PASSPHRASE_LENGTH = 8
MIN_DISTINCT_CHARACTERS = 6
"""Fewer different characters than this (`xxxxxxxx...`, `aaaa...`) is a placeholder too."""
PLACEHOLDER_WORDS = (
    "replace_me", "replaceme", "replace-me", "changeme", "change_me", "change-me",
    "placeholder", "your_token", "your-token", "yourtoken", "example", "<token>",
)
"""Text that marks a value as something to fill in, in any case (e.g. `REPLACE_ME`)."""
HOW_TO_MAKE_ONE = "make one with: python3 -c \"import secrets; print(secrets.token_urlsafe(32))\""


def admin_token_problem(token: str) -> str | None:
    """Why `token` cannot be the admin token, or None when it can."""
    text = token.strip()
    if not text:
        return f"is empty; set a real token or unset the variable ({HOW_TO_MAKE_ONE})"
    if _holds_placeholder_word(text):
        return f"is a placeholder, not a token ({HOW_TO_MAKE_ONE})"
    if len(text) < MIN_ADMIN_TOKEN_LENGTH:
        return (f"is {len(text)} characters long; it must have at least "
                f"{MIN_ADMIN_TOKEN_LENGTH} ({HOW_TO_MAKE_ONE})")
    if len(set(text)) < MIN_DISTINCT_CHARACTERS:
        return f"repeats too few characters to be a real token ({HOW_TO_MAKE_ONE})"
    return None


def passphrase_problem(passphrase: str) -> str | None:
    """Why `passphrase` cannot be a source's passphrase, or None when it can."""
    text = passphrase.strip()
    if not text:
        return "is empty; set a passphrase of at least 8 characters or unset the variable"
    if _holds_placeholder_word(text):
        return "is a placeholder, not a passphrase"
    if len(text) < MIN_PASSPHRASE_LENGTH:
        return (f"is {len(text)} characters long; it must have at least "
                f"{MIN_PASSPHRASE_LENGTH}")
    if len(set(text)) < MIN_DISTINCT_CHARACTERS:
        return "repeats too few characters to be a real passphrase"
    return None


def _holds_placeholder_word(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in PLACEHOLDER_WORDS)
