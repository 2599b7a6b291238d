"""Logs: JSON lines with the signal id, text on a terminal, and never a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest

from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings
from webhook.observe.logs import (
    JsonFormatter,
    LogFormat,
    bind_signal,
    configure_logging,
    log_redactor,
)

SECRET = WebhookSecret.generate()
SETTINGS = Settings.model_validate({
    "secret": [SECRET], "admin_token": "admin-token-that-must-not-leak",
    "sources": {"tv": {"passphrase": "pass-phrase-9"}},
    "notifications": {"chat": {"kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/XyZ"}},
})


Stream = TypeVar("Stream", bound=io.StringIO)


@contextmanager
def installed(log_format: LogFormat | None, stream: Stream) -> Iterator[Stream]:
    """Our logging on the root logger, writing into `stream`, for the duration."""
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
    with installed("json", io.StringIO()) as stream:
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
    with installed("text", io.StringIO()) as stream:
        bind_signal("SIG-T")
        logging.getLogger("tradehook.executor").info("attempt 1 result -> filled")
    line = stream.getvalue().strip()
    assert not line.startswith("{")
    assert "INFO" in line and "[SIG-T]" in line and line.endswith("attempt 1 result -> filled")


def test_auto_format_is_json_when_not_a_terminal() -> None:
    with installed(None, io.StringIO()) as stream:
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


class CountedWrites(io.StringIO):
    """A stream that counts the writes it is handed (each a system call on stderr)."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_the_lines_of_one_loop_turn_go_out_in_one_write_at_its_end() -> None:
    log = logging.getLogger("tradehook.test")
    seen: list[tuple[int, int]] = []

    async def three_lines() -> None:
        for n in range(3):
            log.warning("line %d", n)
        seen.append((stream.writes, len(stream.getvalue())))  # nothing written yet
        await asyncio.sleep(0)
        seen.append((stream.writes, len(stream.getvalue().splitlines())))

    with installed("json", CountedWrites()) as stream:
        asyncio.run(three_lines())
    assert seen == [(0, 0), (1, 3)]
    assert [line["message"] for line in lines(stream)] == ["line 0", "line 1", "line 2"]


def test_a_line_off_the_loop_is_written_at_once_after_those_waiting() -> None:
    log = logging.getLogger("tradehook.test")

    async def from_a_thread_meanwhile() -> None:
        log.warning("on the loop")
        await asyncio.to_thread(log.warning, "from a thread")

    with installed("json", CountedWrites()) as stream:
        log.warning("before the loop")
        assert stream.writes == 1
        asyncio.run(from_a_thread_meanwhile())
    assert [line["message"] for line in lines(stream)] == [
        "before the loop", "on the loop", "from a thread"]


def test_a_line_logged_as_the_loop_ends_is_written() -> None:
    async def last_words() -> None:
        logging.getLogger("tradehook.test").warning("the last line")

    with installed("json", CountedWrites()) as stream:
        asyncio.run(last_words())
    assert [line["message"] for line in lines(stream)] == ["the last line"]


def test_a_loop_closed_before_its_flush_ran_does_not_hold_back_the_next_loops_lines() -> None:
    log = logging.getLogger("tradehook.test")
    first = asyncio.new_event_loop()

    def log_then_stop() -> None:
        log.warning("on a loop stopped at once")
        first.stop()  # its flush, scheduled after this, never runs

    with installed("json", CountedWrites()) as stream:
        first.call_soon(log_then_stop)
        first.run_forever()
        first.close()

        async def on_the_next_loop() -> None:
            log.warning("on the next loop")
            await asyncio.sleep(0)

        asyncio.run(on_the_next_loop())
        written = [line["message"] for line in lines(stream)]
    assert written == ["on a loop stopped at once", "on the next loop"]
