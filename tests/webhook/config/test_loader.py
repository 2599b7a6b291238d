from __future__ import annotations

from pathlib import Path

import pytest

from webhook.auth.signatures import WebhookSecret
from webhook.config.loader import load_settings
from webhook.errors import ConfigError

SECRET = str(WebhookSecret.generate())


@pytest.fixture(autouse=True)
def _in_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tradehook.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_configuration_gives_the_embedded_defaults() -> None:
    settings = load_settings(env={})
    assert settings.journal == "sqlite:///tradehook.db"
    assert settings.default_plugin == "mock"
    assert settings.plugins["mock"].type == "mock"
    assert list(settings.sources) == ["tradingview"]
    assert settings.confidence_threshold == 0.6
    assert settings.max_body_bytes == 64 * 1024
    assert settings.secret == []


def test_environment_sets_the_documented_keys() -> None:
    other = str(WebhookSecret.generate())
    settings = load_settings(env={
        "TRADEHOOK_SECRET": f"{SECRET}, {other}",
        "TRADEHOOK_ADMIN_TOKEN": "tok-3f9a1c7e5b2d8046a1c9e7f2",
        "TRADEHOOK_JOURNAL": "sqlite:////var/lib/tradehook/journal.db",
        "TRADEHOOK_CONFIDENCE_THRESHOLD": "0.75",
    })
    assert [str(s) for s in settings.secret] == [SECRET, other]
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "tok-3f9a1c7e5b2d8046a1c9e7f2"
    assert settings.journal_path == "/var/lib/tradehook/journal.db"
    assert settings.confidence_threshold == 0.75


def test_environment_refines_the_default_plugin_and_source() -> None:
    settings = load_settings(env={"TRADEHOOK_PLUGINS__MOCK__DELAY_MS": "10",
                                  "TRADEHOOK_SOURCES__TRADINGVIEW__CONFIDENCE_THRESHOLD": "0.8"})
    assert settings.plugins["mock"].type == "mock"
    assert settings.plugins["mock"].options == {"delay_ms": "10"}
    assert settings.threshold_for("tradingview") == 0.8


def test_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    path = write(tmp_path, 'confidence_threshold = 0.7\nport = 9000\n')
    settings = load_settings(path, env={"TRADEHOOK_PORT": "9100"})
    assert (settings.confidence_threshold, settings.port) == (0.7, 9100)


def test_config_file_is_found_through_TRADEHOOK_CONFIG(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("port = 9001\n", encoding="utf-8")
    assert load_settings(env={"TRADEHOOK_CONFIG": str(path)}).port == 9001


def test_nested_keys_are_set_with_double_underscores(tmp_path: Path) -> None:
    path = write(tmp_path, '[plugins.paper]\ntype = "mock"\n[sources.tv]\nplugin = "paper"\n')
    settings = load_settings(path, env={"TRADEHOOK_SOURCES__TV__CONFIDENCE_THRESHOLD": "0.9",
                                        "TRADEHOOK_PLUGINS__PAPER__DELAY_MS": "5"})
    assert settings.sources["tv"].confidence_threshold == 0.9
    assert settings.plugins["paper"].options == {"delay_ms": "5"}
    assert settings.threshold_for("tv") == 0.9
    assert settings.threshold_for("other") == 0.6


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"TRADEHOOK_CONFIDENCE_THRESHOLD": "7"}, "confidence_threshold"),
        ({"TRADEHOOK_CONFIDENCE_THRESHOLD": "high"}, "confidence_threshold"),
        ({"TRADEHOOK_SECRET": "not-a-secret"}, "secret"),
        ({"TRADEHOOK_JOURNAL": "mysql://x"}, "journal"),
        ({"TRADEHOOK_PORT": "70000"}, "port"),
        ({"TRADEHOOK_DEFAULT_PLUGIN": "live"}, "default_plugin"),
        ({"TRADEHOOK_COLOUR": "blue"}, "colour"),
    ],
)
def test_bad_values_fail_naming_the_key_and_the_variable(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    message = str(caught.value)
    assert message.startswith(f"{key}:") or key in message
    if key not in ("default_plugin",):
        assert next(iter(env)) in message


@pytest.mark.parametrize(
    ("toml", "start"),
    [
        ('[plugins.live]\ntype = "ftx"\n', "plugins.live.type: unknown plugin type 'ftx'"),
        ('[plugins.paper]\ntype = "mock"\ndelay_ms = -1\n', "plugins.paper.delay_ms:"),
        ('[plugins.paper]\ntype = "mock"\ndealy_ms = 1\n', "plugins.paper.dealy_ms:"),
        ('[sources.tv]\nplugin = "nope"\n', "sources.tv.plugin: no plugin named 'nope'"),
        ('[sources.tv]\ndialect = "xml"\n', "sources.tv.dialect:"),
        ('[sources.tv]\nthreshold = 0.5\n', "sources.tv.threshold: Extra inputs"),
        ('secret = "whsec_x"\n', "secret: secrets do not belong in the config file"),
        ('[sources.tv]\npassphrase = "p"\n', "sources.tv.passphrase: secrets do not belong"),
        ("port = [\n", "config file"),
    ],
)
def test_bad_file_fails_at_start_naming_the_key(tmp_path: Path, toml: str, start: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, toml), env={})
    assert str(caught.value).startswith(start), str(caught.value)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})


def test_secrets_come_from_files_named_in_the_config(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    (tmp_path / "pass.txt").write_text("hunter2-horse-battery\n", encoding="utf-8")
    path = write(tmp_path, f'secret_file = "{tmp_path}/secret.txt"\n'
                           f'[sources.tv]\npassphrase_file = "{tmp_path}/pass.txt"\n')
    settings = load_settings(path, env={})
    assert [str(s) for s in settings.secret] == [SECRET]
    passphrase = settings.sources["tv"].passphrase
    assert passphrase is not None and passphrase.get_secret_value() == "hunter2-horse-battery"


def test_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, 'admin_token_file = "/nonexistent/token"\n')
    with pytest.raises(ConfigError, match="^admin_token_file: cannot read"):
        load_settings(path, env={})


def test_local_secrets_file_fills_what_is_not_configured(tmp_path: Path) -> None:
    (tmp_path / "tradehook.secrets").write_text(
        f"# made by serve\nTRADEHOOK_SECRET={SECRET}\n"
        "TRADEHOOK_ADMIN_TOKEN=local-7d41b9e02c5f8a36e1b4\n"
    , encoding="utf-8")
    settings = load_settings(env={"TRADEHOOK_ADMIN_TOKEN": "from-env-9c2e7a1f4b6d8053e7a2"})
    assert [str(s) for s in settings.secret] == [SECRET]
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "from-env-9c2e7a1f4b6d8053e7a2"


def test_secret_values_never_appear_in_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"TRADEHOOK_SECRET": SECRET, "TRADEHOOK_PORT": "x"})
    assert SECRET[6:] not in str(caught.value)
