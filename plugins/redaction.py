"""Secrets removed from text that people see: log lines, error messages, the journal.

Standard library only, so that a plugin and the webhook use the same `Redactor`, each with its
own secrets and patterns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

MIN_SECRET_LENGTH = 4
"""Shorter values are not redacted: they would mask ordinary words and numbers."""


class Redactor:
    """Replaces known secret values, and text shaped like a secret, by `mask`.

    A secret is also found URL-encoded, as it appears in query strings and forms. Each pattern
    matches one secret-shaped text; its first group, when it has one, is kept (the label in
    front, as in `signature=` or `/webhook/`), and what follows it is masked.
    """

    def __init__(
        self,
        secrets: Iterable[str] = (),
        patterns: Iterable[re.Pattern[str]] = (),
        *,
        mask: str = "***",
    ) -> None:
        kept = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
        kept |= {quote(s, safe="") for s in kept}
        self._secrets = sorted(kept, key=len, reverse=True)
        self._patterns = tuple(patterns)
        self._mask = mask

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, self._mask)
        for pattern in self._patterns:
            text = pattern.sub(self._masked, text)
        return text

    def _masked(self, match: re.Match[str]) -> str:
        label = match.group(1) if match.re.groups else None
        return (label or "") + self._mask
