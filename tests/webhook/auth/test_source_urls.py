from __future__ import annotations

import pytest

from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token, read_source_token
from webhook.errors import AuthError

KEY = WebhookSecret.generate()


def test_token_names_its_source_and_generation() -> None:
    token = read_source_token([KEY], make_source_token([KEY], "tradingview", 3))
    assert (token.source, token.generation) == ("tradingview", 3)


def test_token_is_url_safe() -> None:
    token = make_source_token([KEY], "tv")
    assert all(c.isalnum() or c in "-_." for c in token)


def _flip_signature_start(token: str) -> str:
    """Change the signature's first character: its last one may carry only padding bits, which
    base64 decoding ignores, so changing that one can leave the signature valid."""
    head, _, signature = token.rpartition(".")
    return f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


@pytest.mark.parametrize("mangle", [_flip_signature_start,
                                    lambda t: t.split(".")[0], lambda t: "x" * 600,
                                    lambda t: "", lambda t: "e30.bad"])
def test_altered_token_is_refused(mangle: object) -> None:
    token = make_source_token([KEY], "tv")
    with pytest.raises(AuthError):
        read_source_token([KEY], mangle(token))  # type: ignore[operator]


def test_token_from_another_secret_is_refused() -> None:
    token = make_source_token([WebhookSecret.generate()], "tv")
    with pytest.raises(AuthError):
        read_source_token([KEY], token)


def test_tokens_survive_secret_rotation_while_the_old_secret_stays() -> None:
    old_token = make_source_token([KEY], "tv")
    new = WebhookSecret.generate()
    assert read_source_token([new, KEY], old_token).source == "tv"
    assert read_source_token([new, KEY], make_source_token([new, KEY], "tv")).source == "tv"
    with pytest.raises(AuthError):
        read_source_token([new], old_token)
