"""One redactor for every place that shows text to people: secrets and secret-shaped text."""

from __future__ import annotations

import re

from plugins.redaction import Redactor

TOKEN_IN_PATH = re.compile(r"(/webhook/)[^\s/?#\"']+")
WHSEC = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def test_known_secrets_are_masked_longest_first() -> None:
    redact = Redactor(["abcd", "abcdefgh"])
    assert redact("key abcdefgh and abcd") == "key *** and ***"


def test_short_values_are_not_taken_for_secrets() -> None:
    assert Redactor(["abc"])("abc is a word") == "abc is a word"


def test_url_encoded_secrets_are_masked_too() -> None:
    assert Redactor(["a/b+c d"])("x=a%2Fb%2Bc%20d") == "x=***"


def test_a_pattern_keeps_its_first_group_and_masks_the_rest() -> None:
    redact = Redactor(patterns=[TOKEN_IN_PATH, WHSEC], mask="[redacted]")
    text = redact("POST /webhook/tok3n?x=1 secret whsec_QUJD=")
    assert text == "POST /webhook/[redacted]?x=1 secret [redacted]"


def test_secrets_are_masked_before_patterns_run() -> None:
    redact = Redactor(["s3cr3t"], [re.compile(r"(?i)(bearer\s+)[^\s\"']+")], mask="[redacted]")
    assert redact("Bearer abc.def s3cr3t") == "Bearer [redacted] [redacted]"
