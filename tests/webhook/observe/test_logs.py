"""Logs: JSON lines with the signal id, text on a terminal, and never a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings
from webhook.observe.logs import (
    JsonFormatter,
    LogFormat,
    bind_signal,
    configure_logging,
    local_time,
    log_redactor,
    utc_time,
)

SECRET = WebhookSecret.generate()
SETTINGS = Settings.model_validate({
    "secret": [SECRET], "admin_token": "admin-token-that-must-not-leak",
    "sources": {"tv": {"passphrase": "pass-phrase-9"}},
    "notifications": {"chat": {"kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/XyZ"}},
})


@contextmanager
def installed(log_format: LogFormat | None) -> Iterator[io.StringIO]:
    """Our logging on the root logger, writing into a string, for the duration."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging(SETTINGS, stream=stream, log_format=log_format)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        bind_signal(None)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    with installed("json") as stream:
        yield stream


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_carries_the_bound_signal_id(captured: io.StringIO) -> None:
    async def handle(signal_id: str) -> None:
        bind_signal(signal_id)
        logging.getLogger("tradehook.pipeline").info("stored")

    async def both() -> None:
        await asyncio.gather(handle("SIG-A"), handle("SIG-B"))
        logging.getLogger("tradehook").info("not about a signal")

    asyncio.run(both())
    found = lines(captured)
    assert [(line["message"], line.get("signal_id")) for line in found] == [
        ("stored", "SIG-A"), ("stored", "SIG-B"), ("not about a signal", None),
    ]
    assert found[0]["level"] == "info" and found[0]["logger"] == "tradehook.pipeline"


def test_configured_secrets_are_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("tradehook")
    log.info("secret %s key %s", SECRET, str(SECRET).removeprefix("whsec_"))
    log.info("token admin-token-that-must-not-leak and pass-phrase-9")
    log.warning("posting to https://hooks.slack.com/services/T0/B0/XyZ failed")
    text = captured.getvalue()
    for secret in (str(SECRET), "admin-token-that-must-not-leak", "pass-phrase-9", "XyZ"):
        assert secret not in text
    assert text.count("[redacted]") >= 4


def test_secret_shaped_text_is_redacted_even_when_not_configured(captured: io.StringIO) -> None:
    other = WebhookSecret.generate()
    token = make_source_token([other], "tv")
    log = logging.getLogger("uvicorn.error")
    log.info("POST /webhook/%s failed", token)
    log.info("Authorization: Bearer abc.def.ghi")
    log.info("https://api.telegram.org/bot123456:ABC-DEF/sendMessage and %s", other)
    text = captured.getvalue()
    for leaked in (token, "abc.def.ghi", "123456:ABC-DEF", str(other)):
        assert leaked not in text
    assert "/webhook/[redacted]" in text


def test_traceback_is_redacted(captured: io.StringIO) -> None:
    try:
        raise RuntimeError("failed with admin-token-that-must-not-leak")
    except RuntimeError:
        logging.getLogger("tradehook").exception("boom")
    (line,) = lines(captured)
    assert "RuntimeError" in line["exception"]
    assert "admin-token-that-must-not-leak" not in captured.getvalue()


def test_text_format_is_one_readable_line_with_the_signal_id() -> None:
    with installed("text") as stream:
        bind_signal("SIG-T")
        logging.getLogger("tradehook.executor").info("attempt 1 result -> filled")
    line = stream.getvalue().strip()
    assert not line.startswith("{")
    assert "INFO" in line and "[SIG-T]" in line and line.endswith("attempt 1 result -> filled")


def test_auto_format_is_json_when_not_a_terminal() -> None:
    with installed(None) as stream:
        logging.getLogger("tradehook").warning("hello")
    assert json.loads(stream.getvalue())["message"] == "hello"


def test_records_are_made_without_looking_up_what_no_line_shows(captured: io.StringIO) -> None:
    made: list[logging.LogRecord] = []
    logging.getLogger().handlers[0].addFilter(lambda record: made.append(record) or True)
    logging.getLogger("tradehook.pipeline").info("signal %s: queued", "01KB")
    assert made and made[0].lineno == 0 and made[0].process is None and made[0].thread is None
    assert lines(captured)[-1]["message"] == "signal 01KB: queued"


def test_text_that_orjson_refuses_is_still_one_json_line() -> None:
    # Formatted directly: a lone surrogate must not reach pytest's own log capture.
    record = logging.LogRecord("tradehook.pipeline", logging.WARNING, "", 0, "odd \udc80 text",
                               None, None)
    line = JsonFormatter(log_redactor([])).format(record)
    assert "\n" not in line and json.loads(line)["message"] == "odd \udc80 text"


def test_a_lines_time_is_what_datetime_writes_to_the_millisecond() -> None:
    # The part up to the second is kept from one line to the next: the rest must still round
    # as `datetime.fromtimestamp` does, where a fraction a hair under a second carries.
    whole = 1_764_800_000
    moments = [whole + f for f in (0.0, 0.0004999, 0.0005, 0.123456, 0.9994999, 0.9995,
                                   0.9999994, 0.9999995, 0.99999951, 0.9999999)]
    picker = random.Random(16)
    moments += [picker.uniform(0, 4_000_000_000) for _ in range(20_000)]
    moments += [whole + n / 1000 + picker.choice((-1e-7, 0.0, 5e-7, 1e-7)) for n in range(2_000)]
    for created in moments:
        assert utc_time(created) == datetime.fromtimestamp(created, UTC).isoformat(
            timespec="milliseconds"), created
        assert local_time(created) == datetime.fromtimestamp(created).strftime("%H:%M:%S"), created
