"""Passphrases are checked on the parsed value and redacted without touching the rest."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from webhook.auth.passphrase import carries_passphrase, check_passphrase, redact_passphrase
from webhook.errors import Forbidden

SECRET = SecretStr("secret-phrase")


def test_the_right_passphrase_passes() -> None:
    check_passphrase("secret-phrase", SECRET)


@pytest.mark.parametrize("offered", [None, "", "secret-phras", "secret-phrase!", "SECRET-PHRASE"])
def test_anything_else_is_refused(offered: str | None) -> None:
    with pytest.raises(Forbidden, match="passphrase"):
        check_passphrase(offered, SECRET)


def test_a_json_escaped_passphrase_is_redacted_and_nothing_else_changes() -> None:
    body = b'{"ticker": "ETHUSDT", "passphrase": "\\u0073ecret-phrase", "note": "keep me"}'
    redacted = redact_passphrase(body, SECRET)
    assert redacted == b'{"ticker": "ETHUSDT", "passphrase": "[redacted]", "note": "keep me"}'
    assert json.loads(redacted)["note"] == "keep me"


def test_a_text_passphrase_is_redacted_in_place() -> None:
    body = b"buy 0.1 ETH/USDT passphrase=secret-phrase"
    assert redact_passphrase(body, SECRET) == b"buy 0.1 ETH/USDT passphrase=[redacted]"


def test_an_empty_passphrase_redacts_nothing() -> None:
    body = b"buy 0.1 ETH/USDT"
    assert redact_passphrase(body, SecretStr("")) == body


def test_an_unreadable_body_carries_the_passphrase_only_if_it_is_there() -> None:
    assert carries_passphrase(b'{"passphrase": "\\u0073ecret-phrase", "x": ', SECRET)
    assert carries_passphrase(b"garbage secret-phrase garbage", SECRET)
    assert not carries_passphrase(b"garbage", SECRET)
    assert not carries_passphrase(b"garbage", SecretStr(""))


@given(st.text(max_size=40), st.binary(max_size=200))
def test_any_offer_and_body_never_raise_more_than_forbidden(offered: str, body: bytes) -> None:
    try:
        check_passphrase(offered, SECRET)
    except Forbidden:
        pass
    else:
        assert offered == "secret-phrase"
    redacted = redact_passphrase(body, SECRET)
    assert b"secret-phrase" not in redacted
    carries_passphrase(body, SECRET)
