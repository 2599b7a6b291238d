"""Every configured secret is redacted from the log, plugin credentials and the journal's
database password included, and nothing else: file paths through a `webhook/` folder stay."""

from __future__ import annotations

import io
import logging

import pytest

from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings
from webhook.observe.logs import log_redactor

EXCHANGE_KEY = "k3y-of-the-exchange-7Gq2"
EXCHANGE_SECRET = "s3cret-of-the-exchange-Lm9x"
MT5_PASSWORD = "mt5-pass-Zr4t"
DB_PASSWORD = "db-pass-Qw8e"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("EXCHANGE_KEY", EXCHANGE_KEY)
    monkeypatch.setenv("EXCHANGE_SECRET", EXCHANGE_SECRET)
    monkeypatch.setenv("MT5_PASSWORD", MT5_PASSWORD)
    return Settings.model_validate({
        "journal": f"postgresql://tradehook:{DB_PASSWORD}@127.0.0.1:5432/tradehook",
        "plugins": {
            "exchange": {"type": "ccxt", "exchange": "binance", "api_key_env": "EXCHANGE_KEY",
                         "secret_env": "EXCHANGE_SECRET"},
            "broker": {"type": "mt5", "login": 1, "password_env": "MT5_PASSWORD"},
        },
        "default_plugin": "exchange",
    })


def logged(settings: Settings, message: str) -> str:
    redact = log_redactor(settings.secret_values())
    return redact(message)


def test_plugin_credentials_read_from_the_environment_are_redacted(settings: Settings) -> None:
    text = logged(settings, f"apiKey={EXCHANGE_KEY} secret={EXCHANGE_SECRET} pw={MT5_PASSWORD}")
    for leaked in (EXCHANGE_KEY, EXCHANGE_SECRET, MT5_PASSWORD):
        assert leaked not in text
    assert text.count("[redacted]") == 3


def test_the_postgresql_password_is_redacted(settings: Settings) -> None:
    text = logged(settings, f"connection to postgresql://tradehook:{DB_PASSWORD}@db failed")
    assert DB_PASSWORD not in text and "tradehook:[redacted]@db" in text


def test_file_paths_through_a_webhook_folder_are_left_alone(settings: Settings) -> None:
    line = 'File "/srv/tradehook/webhook/http/signals.py", line 12, in /webhook/app.py'
    assert logged(settings, line) == line


def test_a_source_urls_token_is_still_redacted(settings: Settings) -> None:
    token = make_source_token([WebhookSecret.generate()], "tv")
    text = logged(settings, f"POST /webhook/{token} HTTP/1.1")
    assert token not in text and "/webhook/[redacted] HTTP/1.1" in text


def test_redaction_is_wired_into_the_log_handler(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webhook.observe.logs import configure_logging

    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers)
    try:
        configure_logging(settings, stream=stream, log_format="json")
        logging.getLogger("ccxt.base").warning("signed with %s", EXCHANGE_SECRET)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)
    assert EXCHANGE_SECRET not in stream.getvalue() and "[redacted]" in stream.getvalue()
