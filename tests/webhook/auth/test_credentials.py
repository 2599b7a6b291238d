"""Credentials that are real or refused at start, with a message naming the key."""

from __future__ import annotations

import base64

import pytest

from webhook.config.loader import load_settings
from webhook.errors import ConfigError

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(("token", "problem"), [
    ("", "is empty"),
    ("   ", "is empty"),
    ("REPLACE_ME", "is a placeholder"),
    ("changeme", "is a placeholder"),
    ("replace_me_with_a_long_random_token", "is a placeholder"),
    ("a", "is 1 characters long; it must have at least 24"),
    ("admin-token-for-tests", "must have at least 24"),
    ("x" * 40, "repeats too few characters"),
])
def test_admin_token_that_is_no_credential_is_refused_naming_the_key(
    token: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"TRADEHOOK_ADMIN_TOKEN": token, "TRADEHOOK_SECRETS_FILE": "/none"})
    message = str(caught.value)
    assert message.startswith("admin_token: ") and problem in message
    assert "(from TRADEHOOK_ADMIN_TOKEN)" in message


def test_a_real_admin_token_is_accepted() -> None:
    settings = load_settings(env={"TRADEHOOK_ADMIN_TOKEN": "Zk3q-9vN_2sLx8PwR4mT7yB1cE6"})
    assert settings.admin_token is not None


@pytest.mark.parametrize(("key_bytes", "accepted"), [(16, False), (23, False), (24, True)])
def test_webhook_secret_needs_24_bytes_of_key(key_bytes: int, accepted: bool) -> None:
    secret = "whsec_" + base64.b64encode(bytes(range(1, key_bytes + 1))).decode()
    env = {"TRADEHOOK_SECRET": secret}
    if accepted:
        assert len(load_settings(env=env).secret[0].key) == key_bytes
        return
    with pytest.raises(ConfigError, match=r"^secret: a secret must hold at least 24 bytes"):
        load_settings(env=env)


def test_placeholder_secret_of_the_example_env_file_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^secret: a secret must be 'whsec_' followed by base64"):
        load_settings(env={"TRADEHOOK_SECRET": "whsec_REPLACE_ME"})


@pytest.mark.parametrize(("passphrase", "problem"), [
    ("", "is empty"),
    ("short", "is 5 characters long; it must have at least 8"),
    ("REPLACE_ME", "is a placeholder"),
    ("aaaaaaaaaaaa", "repeats too few characters"),
])
def test_passphrase_that_is_no_credential_is_refused_naming_the_key(
    passphrase: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"TRADEHOOK_SOURCES__TV__PASSPHRASE": passphrase})
    message = str(caught.value)
    assert message.startswith("sources.tv.passphrase: ") and problem in message


def test_source_names_that_could_collide_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"^sources.a:b: a source name may hold only"):
        load_settings(env={"TRADEHOOK_SOURCES__A:B__PLUGIN": "mock"})


def test_the_refusals_never_repeat_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"TRADEHOOK_ADMIN_TOKEN": "secret-ish-but-short"})
    assert "secret-ish-but-short" not in str(caught.value)
