"""`[agents.NAME]`: tokens real or refused at start, references checked, tokens kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhook.config.loader import load_settings
from webhook.errors import ConfigError

TOKEN = "scout-agent-token-4f8e2a6c9b1d"


def test_an_agent_token_comes_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text('[agents.scout]\nscopes = ["read", "submit"]\n', encoding="utf-8")
    settings = load_settings(config, env={"TRADEHOOK_AGENTS__SCOUT__TOKEN": TOKEN})
    assert settings.agents["scout"].token.get_secret_value() == TOKEN
    assert settings.agents["scout"].scopes == ("read", "submit")
    assert TOKEN in settings.secret_values()


def test_an_agent_token_comes_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n", encoding="utf-8")
    config = tmp_path / "t.toml"
    config.write_text(f'[agents.scout]\ntoken_file = "{tmp_path / "token"}"\n', encoding="utf-8")
    assert load_settings(config, env={}).agents["scout"].token.get_secret_value() == TOKEN


def test_an_agent_token_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text(f'[agents.scout]\ntoken = "{TOKEN}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"agents\.scout\.token: secrets do not belong"):
        load_settings(config, env={})


@pytest.mark.parametrize("token", ["", "short-token", "REPLACE_ME_REPLACE_ME_REPLACE_ME",
                                   "a" * 30])
def test_a_blank_short_or_placeholder_agent_token_is_refused(tmp_path: Path, token: str) -> None:
    with pytest.raises(ConfigError, match=r"agents\.scout\.token"):
        load_settings(None,
                      env={"TRADEHOOK_AGENTS__SCOUT__TOKEN": token,
                           "TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")})


def test_an_agent_may_not_share_the_admin_token(tmp_path: Path) -> None:
    env = {"TRADEHOOK_AGENTS__SCOUT__TOKEN": TOKEN, "TRADEHOOK_ADMIN_TOKEN": TOKEN,
           "TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")}
    with pytest.raises(ConfigError, match=r"agents\.scout\.token: is the same as the admin"):
        load_settings(None, env=env)


def test_an_unknown_scope_or_plugin_is_named(tmp_path: Path) -> None:
    base = {"TRADEHOOK_AGENTS__SCOUT__TOKEN": TOKEN,
            "TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")}
    config = tmp_path / "t.toml"
    config.write_text('[agents.scout]\nscopes = ["trade"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"agents\.scout\.scopes"):
        load_settings(config, env=base)
    config.write_text('[agents.scout]\nplugins = ["binance"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"agents\.scout\.plugins: no plugin named 'binance'"):
        load_settings(config, env=base)
