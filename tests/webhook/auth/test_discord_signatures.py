"""Discord's Ed25519 signatures: one request signed as Discord signs it, then one thing broken
per test."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from webhook.auth.discord_signatures import public_key_problem, verify_discord_signature
from webhook.errors import AuthError

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
BODY = b'{"type": 1, "id": "1", "application_id": "2", "token": "t", "version": 1}'


def discord_headers(body: bytes, key: Ed25519PrivateKey = KEY, at: int | None = None
                    ) -> dict[str, str]:
    """What Discord sends: the hex Ed25519 signature of the timestamp followed by the body."""
    stamp = str(int(time.time()) if at is None else at)
    return {"x-signature-ed25519": key.sign(stamp.encode() + body).hex(),
            "x-signature-timestamp": stamp}


def test_a_request_signed_like_discord_passes() -> None:
    verify_discord_signature(PUBLIC, discord_headers(BODY), BODY)


def test_another_key_is_refused() -> None:
    with pytest.raises(AuthError, match="does not match"):
        verify_discord_signature(PUBLIC, discord_headers(BODY, Ed25519PrivateKey.generate()), BODY)


def test_a_changed_body_is_refused() -> None:
    with pytest.raises(AuthError, match="does not match"):
        verify_discord_signature(PUBLIC, discord_headers(BODY), BODY.replace(b"1", b"2", 1))


def test_a_changed_timestamp_is_refused() -> None:
    headers = discord_headers(BODY)
    headers["x-signature-timestamp"] = str(int(headers["x-signature-timestamp"]) + 1)
    with pytest.raises(AuthError, match="does not match"):
        verify_discord_signature(PUBLIC, headers, BODY)


def test_an_old_signature_is_refused_even_if_right() -> None:
    with pytest.raises(AuthError, match="too far"):
        verify_discord_signature(PUBLIC, discord_headers(BODY, at=int(time.time()) - 600), BODY)


@pytest.mark.parametrize("broken", [
    {"x-signature-ed25519": ""}, {"x-signature-timestamp": ""},
    {"x-signature-ed25519": "zz" * 64}, {"x-signature-ed25519": "ab"},
    {"x-signature-timestamp": "12:00"}, {"x-signature-ed25519": "a" * 500},
])
def test_malformed_headers_are_refused_with_the_one_auth_error(broken: dict[str, str]) -> None:
    with pytest.raises(AuthError):
        verify_discord_signature(PUBLIC, discord_headers(BODY) | broken, BODY)


@pytest.mark.parametrize("text", ["", "abc", "zz" * 32, "ab" * 31],
                         ids=["empty", "short", "not hex", "one byte short"])
def test_a_public_key_that_is_not_one_is_named(text: str) -> None:
    # Fixed values, not the generated key cut short: test ids must be the same in every process.
    assert public_key_problem(text) is not None
    assert public_key_problem(PUBLIC) is None
