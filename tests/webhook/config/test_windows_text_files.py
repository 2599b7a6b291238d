"""Configuration, secret and env files as Windows editors save them: a BOM (Notepad), UTF-16
(PowerShell 5.1's `>`), CRLF line ends, the machine's "ANSI" code page, and Windows paths in
double-quoted TOML strings."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from webhook.auth.signatures import WebhookSecret
from webhook.config.loader import load_settings
from webhook.errors import ConfigError

SECRET = str(WebhookSecret.generate())
ADMIN_TOKEN = "tok-3f9a1c7e5b2d8046a1c9e7f2"
SAVED_AS = {
    "utf-8 with a BOM (Notepad)": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16 LE with a BOM (PowerShell 5.1 >)": lambda text: text.encode("utf-16"),
    "utf-16 BE with a BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "utf-8 with CRLF": lambda text: text.replace("\n", "\r\n").encode("utf-8"),
}


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def no_secrets_file(tmp_path: Path) -> dict[str, str]:
    return {"TRADEHOOK_SECRETS_FILE": str(tmp_path / "none")}


def refusal(config: Path, content: bytes | str) -> str:
    """The message that loading `config`, holding `content`, is refused with."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    config.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, no_secrets_file(config.parent))
    return str(caught.value)


@pytest.mark.parametrize("saved_as", SAVED_AS.values(), ids=SAVED_AS.keys())
def test_a_config_file_saved_on_windows_is_read(tmp_path: Path, saved_as: object) -> None:
    config = tmp_path / "tradehook.toml"
    config.write_bytes(saved_as("# café\nport = 9100\nhost = '127.0.0.1'\n"))  # type: ignore[operator]
    assert load_settings(config, no_secrets_file(tmp_path)).port == 9100


@pytest.mark.parametrize("saved_as", SAVED_AS.values(), ids=SAVED_AS.keys())
def test_a_secret_file_saved_on_windows_gives_the_secret_alone(
    tmp_path: Path, saved_as: object
) -> None:
    (tmp_path / "token.txt").write_bytes(saved_as(ADMIN_TOKEN + "\n"))  # type: ignore[operator]
    config = tmp_path / "tradehook.toml"
    config.write_text("admin_token_file = 'token.txt'\n", encoding="utf-8")
    settings = load_settings(config, no_secrets_file(tmp_path))
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == ADMIN_TOKEN


@pytest.mark.parametrize("saved_as", SAVED_AS.values(), ids=SAVED_AS.keys())
def test_a_secrets_env_file_saved_on_windows_is_read(tmp_path: Path, saved_as: object) -> None:
    secrets_file = tmp_path / "tradehook.secrets"
    text = f"TRADEHOOK_SECRET={SECRET}\nTRADEHOOK_ADMIN_TOKEN={ADMIN_TOKEN}\n"
    secrets_file.write_bytes(saved_as(text))  # type: ignore[operator]
    settings = load_settings(env={"TRADEHOOK_SECRETS_FILE": str(secrets_file)})
    assert [str(s) for s in settings.secret] == [SECRET]
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == ADMIN_TOKEN


def test_an_ansi_config_file_is_refused_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    config = tmp_path / "tradehook.toml"
    message = refusal(config, "# Café à Zürich\nport = 9100\n".encode("cp1252"))
    assert str(config) in message and "not UTF-8" in message
    assert "byte 0xe9 at offset 5" in message and "save it as UTF-8" in message


def test_an_ansi_secret_file_is_refused_naming_the_key_not_the_secret(tmp_path: Path) -> None:
    (tmp_path / "token.txt").write_bytes(b"tok-caf\xe9-3f9a1c7e5b2d8046a1c9e7f2\n")
    message = refusal(tmp_path / "tradehook.toml", "admin_token_file = 'token.txt'\n")
    assert message.startswith("admin_token_file: not UTF-8")
    assert "3f9a1c7e" not in message


def test_utf16_without_a_bom_is_refused_not_misread(tmp_path: Path) -> None:
    message = refusal(tmp_path / "tradehook.toml", "port = 9100\n".encode("utf-16-le"))
    assert "NUL bytes (UTF-16 without a byte-order mark?)" in message


def test_a_windows_path_that_is_not_valid_toml_in_double_quotes_is_explained(
    tmp_path: Path,
) -> None:
    message = refusal(tmp_path / "tradehook.toml", 'journal = "sqlite:///C:\\Users\\t.db"\n')
    assert "is not valid TOML" in message and "'single quotes'" in message


def test_a_tab_made_by_a_toml_escape_in_the_journal_is_explained(tmp_path: Path) -> None:
    # "\t" is a valid TOML escape: the path would silently hold a tab.
    message = refusal(tmp_path / "tradehook.toml", 'journal = "sqlite:///C:\\trades.db"\n')
    assert message.startswith("journal: the journal URL holds a control character ('\\t')")
    assert "'single quotes'" in message


def test_a_windows_path_in_single_quotes_is_kept_as_written(tmp_path: Path) -> None:
    config = tmp_path / "tradehook.toml"
    config.write_text("journal = 'sqlite:///C:\\tradehook\\tradehook.db'\n", encoding="utf-8")
    settings = load_settings(config, no_secrets_file(tmp_path))
    assert settings.journal_path == "C:\\tradehook\\tradehook.db"
